// PostgreSQL-only behaviour: coordinators racing through separate connection
// pools, the pool across a server restart, statement timeouts, migrations.
#include "catalog/postgres/postgres_catalog.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <barrier>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "pg/connection_pool.hpp"
#include "catalog_backends.hpp"
#include "catalog_test_support.hpp"
#include "common/error.hpp"
#include "support/postgres_server.hpp"

namespace duckmesh::catalog {
namespace {

using duckmesh::testing::shared_postgres;
using testing::add_files;
using testing::append_table;
using testing::new_file;
using testing::remove_files;

PostgresCatalogOptions options_for(const std::string& url) {
  PostgresCatalogOptions options;
  options.url = url;
  return options;
}

// A raw libpq session, for holding locks behind the catalog's back.
class RawSession {
 public:
  explicit RawSession(const std::string& url) : conn_(PQconnectdb(url.c_str()), &PQfinish) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) throw std::runtime_error("raw connect failed");
  }
  void run(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_.get(), sql.c_str()),
                                                         &PQclear);
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw std::runtime_error(sql + ": " + PQerrorMessage(conn_.get()));
    }
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// Two coordinators (separate catalogs, so separate pools and connections)
// race, round after round, to compact the same files of one product. In each
// round exactly one may win; the loser gets conflict and changes nothing.
TEST(PostgresCatalogRace, TwoCoordinatorsNeverRetireAFileTwiceOrShareASnapshotId) {
  const std::string url = shared_postgres().create_database("race");
  PostgresCatalog first(options_for(url));
  PostgresCatalog second(options_for(url));
  first.create_product({"sales", "", ""});
  first.create_table("sales", append_table("events"));  // snapshot 1

  constexpr int kRounds = 15;
  std::barrier start_together(2);
  std::mutex mutex;
  std::vector<std::int64_t> snapshot_ids;
  std::map<int, int> wins_per_round;
  std::vector<std::string> unexpected;

  // Each round: both add a file of their own (must both succeed), then both
  // try to retire every live file (only one may).
  auto coordinator = [&](PostgresCatalog& catalog, const std::string& name) {
    for (int round = 0; round < kRounds; ++round) {
      const std::string path = name + "-" + std::to_string(round);
      start_together.arrive_and_wait();
      try {
        const auto added = catalog.publish({add_files("sales", {new_file("events", path)})}, {});
        std::lock_guard lock(mutex);
        snapshot_ids.push_back(added.at(0).id);
      } catch (const Error& e) {
        std::lock_guard lock(mutex);
        unexpected.push_back(e.what());
      }
      start_together.arrive_and_wait();  // both files are in
      const auto latest = catalog.latest_snapshot("sales");
      std::vector<std::int64_t> ids;
      for (const auto& file : catalog.live_files("sales", latest->id, "events"))
        ids.push_back(file.id);
      start_together.arrive_and_wait();  // both planned the same compaction
      auto compaction = remove_files("sales", ids);
      compaction.added = {new_file("events", "compacted-" + path)};
      try {
        const auto compacted = catalog.publish({compaction}, {});
        std::lock_guard lock(mutex);
        snapshot_ids.push_back(compacted.at(0).id);
        ++wins_per_round[round];
      } catch (const Error& e) {
        if (e.code() != ErrorCode::conflict) {
          std::lock_guard lock(mutex);
          unexpected.push_back(e.what());
        }
      }
    }
  };
  std::thread a([&] { coordinator(first, "a"); });
  std::thread b([&] { coordinator(second, "b"); });
  a.join();
  b.join();

  ASSERT_TRUE(unexpected.empty()) << unexpected.front();
  for (int round = 0; round < kRounds; ++round) EXPECT_EQ(wins_per_round[round], 1) << round;
  // 1 + per round two ingests and one compaction, ids unique and gapless.
  const std::set<std::int64_t> unique(snapshot_ids.begin(), snapshot_ids.end());
  EXPECT_EQ(unique.size(), snapshot_ids.size());
  constexpr std::int64_t kLatest = 1 + 3 * kRounds;
  EXPECT_EQ(first.latest_snapshot("sales")->id, kLatest);
  EXPECT_EQ(*unique.begin(), 2);
  EXPECT_EQ(*unique.rbegin(), kLatest);
  const auto history = first.list_snapshots("sales", 1000, 0);
  ASSERT_EQ(history.size(), static_cast<std::size_t>(kLatest));
  for (const auto& snapshot : history) {
    if (snapshot.id > 1) {
      EXPECT_EQ(snapshot.parent, snapshot.id - 1);
    }
  }
  // Only the last round's compacted file is live; each retired file was
  // retired by exactly one snapshot, the compaction of its round.
  const auto live = first.live_files("sales", kLatest, "events");
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].path.rfind("compacted-", 0), 0u);
  const auto added = first.files_added("sales", "events", 0, kLatest);
  EXPECT_EQ(added.size(), static_cast<std::size_t>(3 * kRounds));
  for (const auto& file : added) {
    if (file.path == live[0].path) continue;
    ASSERT_TRUE(file.removed_snapshot.has_value()) << file.path;
    const auto retiring = first.find_snapshot("sales", *file.removed_snapshot);
    ASSERT_TRUE(retiring.has_value());
    EXPECT_EQ(retiring->operation, Operation::compact) << file.path;
  }
}

// The pool survives a server restart: the idle check replaces dead
// connections, and a connection found broken mid-call is retried once.
TEST(PostgresCatalogPool, ReconnectsAfterTheServerRestarts) {
  for (const int idle_check_ms : {0, 3'600'000}) {
    SCOPED_TRACE(idle_check_ms == 0 ? "checked on every checkout" : "found broken in use");
    const std::string url = shared_postgres().create_database("restart");
    auto options = options_for(url);
    options.pool_size = 2;
    options.health_check_idle_ms = idle_check_ms;
    PostgresCatalog catalog(options);
    catalog.create_product({"sales", "", ""});
    catalog.create_table("sales", append_table("events"));
    const std::size_t opened_before = catalog.connections_opened();

    shared_postgres().stop();
    try {
      catalog.watermark();
      ADD_FAILURE() << "read a catalog whose server is down";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
    }
    shared_postgres().start();

    const auto published =
        catalog.publish({add_files("sales", {new_file("events", "f")})}, {{1, 1}});
    EXPECT_EQ(published.at(0).id, 2);
    EXPECT_EQ(catalog.watermark(), 1u);
    EXPECT_GT(catalog.connections_opened(), opened_before);
  }
}

TEST(PostgresCatalogPool, ALockHeldBeyondTheStatementTimeoutIsUnavailable) {
  const std::string url = shared_postgres().create_database("timeout");
  auto options = options_for(url);
  options.statement_timeout_ms = 200;
  PostgresCatalog catalog(options);
  catalog.create_product({"sales", "", ""});

  RawSession other(url);
  other.run("BEGIN");
  other.run("SELECT id FROM products WHERE name = 'sales' FOR UPDATE");
  Publication publication;
  publication.product = "sales";
  try {
    catalog.publish({publication}, {{1, 1}});
    FAIL() << "published while another session held the product's row lock";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
  }
  // Readers are not blocked by a writer.
  EXPECT_EQ(catalog.watermark(), 0u);
  EXPECT_TRUE(catalog.find_product("sales").has_value());
  other.run("ROLLBACK");
  EXPECT_EQ(catalog.publish({publication}, {{1, 1}})[0].id, 1);
  EXPECT_EQ(catalog.watermark(), 1u);
}

TEST(PostgresCatalogPool, AnUnreachableServerIsUnavailableAndThePasswordStaysHidden) {
  auto options = options_for("postgresql://duckmesh:s3cret@127.0.0.1:1/none?connect_timeout=2");
  try {
    PostgresCatalog catalog(options);
    FAIL() << "opened a catalog on a closed port";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
  }
  options.url.clear();
  EXPECT_THROW(PostgresCatalog{options}, Error);
  options.url = shared_postgres().url();
  options.pool_size = 0;
  EXPECT_THROW(PostgresCatalog{options}, Error);
}

TEST(PostgresConnectionString, RedactsPasswordsInBothForms) {
  using pg::redact_connection_string;
  EXPECT_EQ(redact_connection_string("postgresql://me:pw@db:5432/cat"),
            "postgresql://me:***@db:5432/cat");
  EXPECT_EQ(redact_connection_string("postgresql://me@db/cat?password=pw&sslmode=require"),
            "postgresql://me@db/cat?password=***&sslmode=require");
  EXPECT_EQ(redact_connection_string("host=db password='p w' dbname=cat"),
            "host=db password=*** dbname=cat");
  EXPECT_EQ(redact_connection_string("host=db dbname=cat"), "host=db dbname=cat");
}

TEST(PostgresCatalogSchema, MigratesOnceAndRefusesANewerDatabase) {
  const std::string url = shared_postgres().create_database("schema");
  const auto first = PostgresCatalog::migrate(options_for(url));
  EXPECT_EQ(first.before, 0);
  EXPECT_EQ(first.after, latest_schema_version());
  {
    PostgresCatalog catalog(options_for(url));
    EXPECT_EQ(catalog.schema_version(), latest_schema_version());
    catalog.create_product({"sales", "", ""});
  }
  const auto again = PostgresCatalog::migrate(options_for(url));
  EXPECT_EQ(again.before, latest_schema_version());
  EXPECT_EQ(again.after, latest_schema_version());
  EXPECT_EQ(duckmesh::testing::PostgresServer::query(url, "SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(latest_schema_version()));
  {
    PostgresCatalog reopened(options_for(url));
    EXPECT_TRUE(reopened.find_product("sales").has_value());
  }

  RawSession(url).run("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (attempt == 0) {
        PostgresCatalog newer(options_for(url));
      } else {
        PostgresCatalog::migrate(options_for(url));
      }
      ADD_FAILURE() << "opened a database of a newer schema";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::internal);
      EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    }
  }
}

// Many processes opening one new database at once: the advisory lock lets
// one migrate, the others find it done.
TEST(PostgresCatalogSchema, CatalogsOpeningANewDatabaseAtOnceMigrateItOnce) {
  const std::string url = shared_postgres().create_database("concurrent_open");
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<std::string> failures;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        PostgresCatalog catalog(options_for(url));
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        failures.push_back(e.what());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(duckmesh::testing::PostgresServer::query(url, "SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(latest_schema_version()));
}

}  // namespace
}  // namespace duckmesh::catalog
