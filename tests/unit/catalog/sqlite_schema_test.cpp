#include <gtest/gtest.h>

#include <fstream>

#include "catalog/migrations.hpp"
#include "catalog/sqlite/connection.hpp"
#include "catalog/sqlite/sqlite_catalog.hpp"
#include "catalog_test_support.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog {
namespace {

using testing::add_files;
using testing::append_table;
using testing::ManualClock;
using testing::new_file;
using testing::TempDir;

constexpr std::int64_t kStart = 1'700'000'000'000'000;

SqliteCatalogOptions options_for(const std::string& path, const ManualClock& clock) {
  SqliteCatalogOptions options;
  options.path = path;
  options.clock = clock.function();
  return options;
}

struct MigrationRow {
  std::int64_t version;
  std::int64_t applied_at;
  bool operator==(const MigrationRow&) const = default;
};

std::vector<MigrationRow> migration_rows(const std::string& path) {
  sqlite::Connection raw(path, 1000);
  auto query = raw.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  std::vector<MigrationRow> rows;
  while (query.step()) rows.push_back({query.column_int64(0), query.column_int64(1)});
  return rows;
}

TEST(CatalogMigrations, AreNumberedWithoutGaps) {
  int expected = 1;
  for (const Migration& migration : migrations()) {
    EXPECT_EQ(migration.version, expected++);
    EXPECT_FALSE(migration.sql.empty());
    EXPECT_FALSE(migration.description.empty());
  }
  EXPECT_EQ(latest_schema_version(), expected - 1);
}

TEST(CatalogMigrations, UsePortableSqlOnly) {
  // The PostgreSQL catalog reuses this schema: no SQLite-only column types or
  // id generation.
  for (const Migration& migration : migrations()) {
    const std::string sql(migration.sql);
    for (const char* word : {"AUTOINCREMENT", "INTEGER PRIMARY KEY", "WITHOUT ROWID", " BLOB",
                             " REAL", "SERIAL", "STRICT"}) {
      EXPECT_EQ(sql.find(word), std::string::npos)
          << "migration " << migration.version << ": " << word;
    }
  }
}

TEST(SqliteConnection, ReusedStatementsStartAfreshAndNestedOnesAreDistinct) {
  TempDir dir;
  sqlite::Connection db(dir.file("t.db"), 1000);
  db.execute_script("CREATE TABLE t (k INTEGER, v TEXT)");
  const std::string insert = "INSERT INTO t (k, v) VALUES (?1, ?2)";
  db.prepare(insert).bind_int64(1, 1).bind_text(2, "one").run();
  // The statement comes back with its bindings cleared: ?2 is NULL now.
  db.prepare(insert).bind_int64(1, 2).run();
  const std::string select = "SELECT k, v FROM t WHERE k >= ?1 ORDER BY k";
  {
    // Left mid-iteration: the next prepare must not see its position.
    auto partial = db.prepare(select);
    partial.bind_int64(1, 1);
    ASSERT_TRUE(partial.step());
  }
  auto outer = db.prepare(select);
  outer.bind_int64(1, 1);
  std::vector<std::string> rows;
  while (outer.step()) {
    // The same SQL while the first is in use: a second statement.
    auto inner = db.prepare(select);
    inner.bind_int64(1, outer.column_int64(0));
    ASSERT_TRUE(inner.step());
    rows.push_back(std::to_string(inner.column_int64(0)) + "=" +
                   (inner.column_is_null(1) ? std::string("NULL") : inner.column_text(1)));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"1=one", "2=NULL"}));
  // A statement that failed is usable again once it comes back.
  db.execute_script("CREATE UNIQUE INDEX t_k ON t (k)");
  EXPECT_THROW(db.prepare(insert).bind_int64(1, 1).bind_text(2, "again").run(), Error);
  db.prepare(insert).bind_int64(1, 3).bind_text(2, "three").run();
  auto count = db.prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.column_int64(0), 3);
}

TEST(SqliteCatalogFile, UsesWriteAheadLogging) {
  TempDir dir;
  ManualClock clock(kStart);
  SqliteCatalog catalog(options_for(dir.file("c.db"), clock));
  sqlite::Connection raw(dir.file("c.db"), 1000);
  auto query = raw.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(query.step());
  EXPECT_EQ(query.column_text(0), "wal");
  EXPECT_EQ(catalog.schema_version(), latest_schema_version());
}

TEST(SqliteCatalogFile, ReopeningKeepsEverythingAndDoesNotMigrateAgain) {
  TempDir dir;
  const std::string path = dir.file("c.db");
  ManualClock clock(kStart);
  std::int64_t file_id = 0;
  {
    SqliteCatalog catalog(options_for(path, clock));
    catalog.create_product({"sales", "Sales", "team"});
    catalog.create_table("sales", append_table("orders", "v1"));
    catalog.evolve_table("sales", "orders", "v2", "");
    Publication publication = add_files("sales", {new_file("orders", "f1", 5)});
    publication.idempotency = {{"orders", "k", 3}};
    catalog.publish({publication}, {{1, 3}, {5, 5}});
    file_id = catalog.live_files("sales", 3, "")[0].id;
  }
  const auto applied = migration_rows(path);
  ASSERT_EQ(applied.size(), static_cast<std::size_t>(latest_schema_version()));
  EXPECT_EQ(applied.back().applied_at, kStart);

  clock.advance(1'000'000);
  SqliteCatalog reopened(options_for(path, clock));
  EXPECT_EQ(migration_rows(path), applied);  // nothing re-applied or re-recorded
  EXPECT_EQ(reopened.find_product("sales")->description, "Sales");
  EXPECT_EQ(reopened.find_table("sales", "orders")->schema_json, "v2");
  EXPECT_EQ(reopened.schema_history("sales", "orders").size(), 2u);
  EXPECT_EQ(reopened.latest_snapshot("sales")->id, 3);
  EXPECT_EQ(reopened.watermark(), 3u);
  EXPECT_EQ(reopened.resolved_among({4, 5}), std::vector<bus::Position>{5});
  EXPECT_EQ(reopened.find_idempotency("sales", "orders", {"k"}).at("k").snapshot_id, 3);
  const auto files = reopened.live_files("sales", 3, "orders");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].id, file_id);
  EXPECT_EQ(files[0].row_count, 5);

  // Ids keep counting from where they were.
  EXPECT_EQ(reopened.create_product({"ads", "", ""}).id, 2);
  reopened.publish({add_files("sales", {new_file("orders", "f2")})}, {});
  EXPECT_EQ(reopened.live_files("sales", 4, "")[1].id, file_id + 1);
}

TEST(SqliteCatalogFile, RefusesAFileFromANewerBinary) {
  TempDir dir;
  const std::string path = dir.file("c.db");
  ManualClock clock(kStart);
  { SqliteCatalog catalog(options_for(path, clock)); }
  {
    sqlite::Connection raw(path, 1000);
    raw.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)")
        .bind_int64(1, latest_schema_version() + 1)
        .bind_int64(2, kStart)
        .run();
  }
  try {
    SqliteCatalog catalog(options_for(path, clock));
    FAIL() << "opened a catalog of a newer schema";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    EXPECT_EQ(e.details().at("file_version").as_int64(), latest_schema_version() + 1);
  }
  EXPECT_EQ(migration_rows(path).size(), static_cast<std::size_t>(latest_schema_version()) + 1);
}

TEST(SqliteCatalogFile, RefusesBadOptionsAndUnopenableFiles) {
  TempDir dir;
  SqliteCatalogOptions options;
  EXPECT_THROW(SqliteCatalog{options}, Error);  // no path
  options.path = dir.file("c.db");
  options.idempotency_window_us = 0;
  EXPECT_THROW(SqliteCatalog{options}, Error);
  options.idempotency_window_us = 1;
  options.busy_timeout_ms = -1;
  EXPECT_THROW(SqliteCatalog{options}, Error);

  SqliteCatalogOptions missing_dir;
  missing_dir.path = dir.file("no/such/dir/c.db");
  EXPECT_THROW(SqliteCatalog{missing_dir}, Error);

  const std::string garbage = dir.file("garbage.db");
  std::ofstream(garbage) << std::string(8192, 'x');
  SqliteCatalogOptions not_sqlite;
  not_sqlite.path = garbage;
  try {
    SqliteCatalog catalog(not_sqlite);
    FAIL() << "opened a file that is not a database";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal) << e.what();
  }
}

}  // namespace
}  // namespace duckmesh::catalog
