// What only the PostgreSQL bus has: partitions dropped once settled, group
// commit across threads, several buses opening one new database, a server
// restart (the generic contract is in bus_conformance_test.cpp).
#include "bus/postgres/postgres_bus.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/error.hpp"
#include "support/postgres_server.hpp"
#include "unit/bus/test_support.hpp"

namespace duckmesh::bus {
namespace {

using duckmesh::testing::shared_postgres;
using namespace test_support;
using std::chrono::milliseconds;

PostgresBusOptions options_for(const std::string& url, std::uint64_t width = 10) {
  PostgresBusOptions o;
  o.url = url;
  o.partition_positions = width;
  return o;
}

std::vector<Record> records(int n) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) out.push_back(make_record("r" + std::to_string(i)));
  return out;
}

std::vector<Position> range(Position first, Position last) {
  std::vector<Position> out;
  for (Position p = first; p <= last; ++p) out.push_back(p);
  return out;
}

TEST(PostgresBus, PartitionsAreDroppedOnceEverythingInThemIsSettled) {
  PostgresBus bus(options_for(shared_postgres().create_database("bus_parts")));
  bus.publish(records(35));  // partitions 1-10, 11-20, 21-30, 31-40
  EXPECT_EQ(bus.partition_count(), 4u);
  ASSERT_EQ(claim_all(bus).size(), 35u);

  bus.ack("c", range(1, 15));
  EXPECT_EQ(bus.partition_count(), 3u);  // 1-10 went; 11-20 still holds 16-20
  bus.dead_letter("c", range(16, 20), "bad");
  EXPECT_EQ(bus.partition_count(), 2u);  // dead letters live elsewhere
  bus.ack("c", range(21, 35));
  // 31-40 stays: positions 36-40 are yet to be published into it.
  EXPECT_EQ(bus.partition_count(), 1u);

  EXPECT_EQ(bus.publish(records(6)), range(36, 41));
  EXPECT_EQ(bus.partition_count(), 2u);
  ASSERT_EQ(claim_all(bus).size(), 6u);
  bus.ack("c", range(36, 41));
  EXPECT_EQ(bus.partition_count(), 1u);  // 41-50 is being filled

  // A replay lands in a live partition; nothing settled is lost.
  EXPECT_EQ(bus.replay_dead_letter(16), 42u);
  EXPECT_EQ(bus.dead_letters(10).size(), 4u);
  EXPECT_EQ(positions_of(claim_all(bus)), std::vector<Position>{42});
}

// Another node's retry finds the keys of records published anywhere and not
// settled yet, by table; acked or dead-lettered records no longer hold theirs.
TEST(PostgresBus, UnsettledKeysAreFoundFromAnyNodeUntilSettled) {
  const std::string url = shared_postgres().create_database("bus_keys");
  PostgresBus one(options_for(url));
  PostgresBus other(options_for(url));
  std::vector<Record> batch;
  batch.push_back(make_record("a", "events", "k1"));
  batch.push_back(make_record("b", "events", "k2"));
  batch.push_back(make_record("c", "events", ""));
  batch.push_back(make_record("d", "clicks", "k3"));
  batch.push_back(make_record("e", "events", std::string("k\0\xff", 3)));  // keys are bytes
  ASSERT_EQ(one.publish(std::move(batch)), range(1, 5));
  const std::string odd("k\0\xff", 3);
  auto found = other.unsettled_keys("sales", "events", {"k1", "k2", "k3", "nope", odd});
  EXPECT_EQ(found, (std::map<std::string, Position>{{"k1", 1}, {"k2", 2}, {odd, 5}}));
  EXPECT_EQ(other.unsettled_keys("sales", "clicks", {"k1", "k3"}),
            (std::map<std::string, Position>{{"k3", 4}}));
  EXPECT_TRUE(other.unsettled_keys("other", "events", {"k1"}).empty());
  EXPECT_TRUE(other.unsettled_keys("sales", "events", {}).empty());

  ASSERT_EQ(claim_all(other).size(), 5u);  // claimed: still unsettled
  EXPECT_EQ(other.unsettled_keys("sales", "events", {"k1", "k2"}).size(), 2u);
  other.ack("c", {1});
  other.dead_letter("c", {2}, "bad");
  EXPECT_EQ(one.unsettled_keys("sales", "events", {"k1", "k2", odd}),
            (std::map<std::string, Position>{{odd, 5}}));
}

TEST(PostgresBus, TheSweepDropsPartitionsNoSettlementTouched) {
  const std::string url = shared_postgres().create_database("bus_sweep");
  PostgresBus bus(options_for(url));
  bus.publish(records(20));
  ASSERT_EQ(claim_all(bus).size(), 20u);
  // Behind the bus's back, as if a node had crashed between its ack and the
  // partition drop.
  duckmesh::testing::PostgresServer::query(url, "DELETE FROM bus_events");
  EXPECT_EQ(bus.partition_count(), 2u);
  bus.requeue_expired();
  EXPECT_EQ(bus.partition_count(), 0u);
  EXPECT_EQ(bus.publish(records(1)), std::vector<Position>{21});
}

TEST(PostgresBus, ConcurrentPublishersShareTransactions) {
  PostgresBus bus(options_for(shared_postgres().create_database("bus_group"), 1'000'000));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) bus.publish(one("x"));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bus.stats().last_position, static_cast<Position>(kThreads * kPerThread));
  const std::uint64_t groups = bus.group_commits();
  RecordProperty("group_commits", static_cast<int>(groups));
  EXPECT_GT(groups, 0u);
  EXPECT_LT(groups, static_cast<std::uint64_t>(kThreads * kPerThread));
}

TEST(PostgresBus, NodesOpeningANewDatabaseAtOnceShareOneSchema) {
  const std::string url = shared_postgres().create_database("bus_open");
  std::vector<std::unique_ptr<PostgresBus>> buses(4);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (std::size_t i = 0; i < buses.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        // Each asks for another width; the first to create the bus decides.
        buses[i] = std::make_unique<PostgresBus>(options_for(url, 10 + i));
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  for (std::size_t i = 0; i < buses.size(); ++i) buses[i]->publish(records(7));
  // One width for all, so their partitions never overlap.
  EXPECT_EQ(buses[0]->stats().last_position, 28u);
  EXPECT_EQ(buses[0]->partition_count(), 3u);  // 28 positions, 10 to 13 per partition
  EXPECT_EQ(claim_all(*buses[3]).size(), 28u);
}

// A node starting while others publish: its open must not wait for a
// publish in progress. It used to run the schema's CREATE INDEX IF NOT
// EXISTS every time, whose lock on bus_events waits for every publish, and
// then insert the head row, which waits for the publish holding it: two
// nodes could deadlock until one gave up.
TEST(PostgresBus, OpeningABusInUseWaitsForNoPublishInProgress) {
  const std::string url = shared_postgres().create_database("bus_busy");
  PostgresBus first(options_for(url));
  first.publish(records(3));
  // Another node's publish, half done: the head row locked and a record
  // written, not committed.
  pqxx::connection other(url);
  pqxx::work publishing(other);
  publishing.exec("UPDATE bus_head SET last_position = 4 WHERE id = 1");
  publishing.exec(
      "INSERT INTO bus_events (position, product, table_name, idem_key, payload, "
      "ingested_unix_us) VALUES (4, 'p', 't', ''::bytea, 'x'::bytea, 0)");
  auto opening = std::async(std::launch::async,
                            [&] { return std::make_unique<PostgresBus>(options_for(url)); });
  const bool opened = opening.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  publishing.abort();
  EXPECT_TRUE(opened) << "the open waited for the publish in progress";
  auto second = opening.get();
  EXPECT_EQ(second->publish(records(1)), std::vector<Position>{4});
  EXPECT_EQ(claim_all(first).size(), 4u);
}

// Opening a bus made before an object was added completes it; a bus of a
// newer schema version is refused.
TEST(PostgresBus, AnOlderBusIsCompletedAndANewerOneRefused) {
  using duckmesh::testing::PostgresServer;
  const std::string url = shared_postgres().create_database("bus_versions");
  PostgresBus(options_for(url)).publish(records(2));
  // As buses made before retries were looked up by key are.
  PostgresServer::query(url, "DROP INDEX bus_events_by_key");
  PostgresBus completed(options_for(url));
  EXPECT_EQ(PostgresServer::query(url,
                                  "SELECT count(*) FROM pg_indexes WHERE indexname = "
                                  "'bus_events_by_key'"),
            "1");
  EXPECT_EQ(claim_all(completed).size(), 2u);

  PostgresServer::query(url, "INSERT INTO bus_schema (version) VALUES (2)");
  try {
    PostgresBus newer(options_for(url));
    ADD_FAILURE() << "a bus of schema version 2 was opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.message()).find("version 2, newer than this binary knows (1)"),
              std::string::npos)
        << e.message();
  }
}

TEST(PostgresBus, ARecordItCannotStoreFailsOnlyItsOwnPublish) {
  PostgresBus bus(options_for(shared_postgres().create_database("bus_bad")));
  std::vector<Record> bad;
  bad.push_back(make_record("x", "orders\n"));
  try {
    bus.publish(bad);
    FAIL() << "published a table name with a control character";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
    EXPECT_NE(std::string(e.what()).find("table"), std::string::npos) << e.what();
  }
  EXPECT_EQ(bus.publish(one("fine")), std::vector<Position>{1});
  EXPECT_EQ(bus.stats().last_position, 1u);
}

TEST(PostgresBus, PublishesAndClaimsAgainAfterTheServerRestarts) {
  PostgresBusOptions o = options_for(shared_postgres().create_database("bus_restart"));
  o.pool_size = 2;
  PostgresBus bus(o);
  EXPECT_EQ(bus.publish(records(3)), range(1, 3));
  const std::size_t opened_before = bus.connections_opened();

  shared_postgres().stop();
  try {
    bus.publish(records(2));
    ADD_FAILURE() << "published to a server that is down";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
  }
  shared_postgres().start();

  // The failed publish handed out nothing: positions stay gap-free.
  EXPECT_EQ(bus.publish(records(2)), range(4, 5));
  EXPECT_EQ(positions_of(claim_all(bus)), range(1, 5));
  EXPECT_GT(bus.connections_opened(), opened_before);
}

// Records of tables t0..t3, three each, interleaved.
std::vector<Record> four_tables() {
  std::vector<Record> out;
  for (int i = 0; i < 12; ++i) {
    Record r = make_record("r" + std::to_string(i));
    r.table = "t" + std::to_string(i % 4);
    out.push_back(std::move(r));
  }
  return out;
}

std::set<std::string> tables_of(const std::vector<Record>& records) {
  std::set<std::string> out;
  for (const auto& r : records) out.insert(r.table);
  return out;
}

TEST(PostgresBus, ActiveConsumersSplitTheTablesAndALoneOneTakesThemAll) {
  PostgresBus bus(options_for(shared_postgres().create_database("bus_share"), 100));
  bus.publish(four_tables());
  // Alone, a consumer is given every table.
  auto alone = bus.claim_batch("a", 100, milliseconds(300));
  EXPECT_EQ(tables_of(alone), (std::set<std::string>{"t0", "t1", "t2", "t3"}));
  std::vector<Position> all;
  for (const auto& r : alone) all.push_back(r.position);
  bus.release("a", all);
  // "a" counts as active until its lease ends: "b" takes half, the tables
  // waiting longest; "a" then takes the other half.
  auto b = bus.claim_batch("b", 100, milliseconds(10'000));
  EXPECT_EQ(tables_of(b), (std::set<std::string>{"t0", "t1"}));
  EXPECT_EQ(b.size(), 6u);
  auto a = bus.claim_batch("a", 100, milliseconds(300));
  EXPECT_EQ(tables_of(a), (std::set<std::string>{"t2", "t3"}));
  std::vector<Position> b_positions, a_positions;
  for (const auto& r : b) b_positions.push_back(r.position);
  for (const auto& r : a) a_positions.push_back(r.position);
  bus.ack("b", b_positions);
  bus.release("a", a_positions);
  // Once "a" has stopped claiming for longer than its lease, "b" is alone
  // again and takes everything left.
  std::this_thread::sleep_for(milliseconds(400));
  bus.publish(four_tables());
  auto rest = bus.claim_batch("b", 100, milliseconds(10'000));
  EXPECT_EQ(tables_of(rest), (std::set<std::string>{"t0", "t1", "t2", "t3"}));
  EXPECT_EQ(rest.size(), 6u + 12u);
}

TEST(PostgresBus, AConsumerThatLeftNoLongerTakesAShare) {
  PostgresBus bus(options_for(shared_postgres().create_database("bus_leave"), 100));
  bus.publish(four_tables());
  auto first = bus.claim_batch("a", 100, milliseconds(60'000));
  std::vector<Position> positions;
  for (const auto& r : first) positions.push_back(r.position);
  bus.release("a", positions);
  // "a" has left (a coordinator that stopped): "b" is alone at once, though
  // "a"'s last lease has a minute to run.
  bus.leave("a");
  auto b = bus.claim_batch("b", 100, milliseconds(60'000));
  EXPECT_EQ(tables_of(b), (std::set<std::string>{"t0", "t1", "t2", "t3"}));
  EXPECT_EQ(b.size(), 12u);
}

TEST(PostgresBus, RefusesBadOptions) {
  PostgresBusOptions o;
  o.url = shared_postgres().create_database("bus_options");
  o.max_attempts = 0;
  EXPECT_THROW(PostgresBus{o}, Error);
  o.max_attempts = 1;
  o.partition_positions = 0;
  EXPECT_THROW(PostgresBus{o}, Error);
  PostgresBusOptions no_url;
  try {
    PostgresBus bus(no_url);
    FAIL() << "opened a bus without a URL";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
    EXPECT_NE(std::string(e.what()).find("bus_url"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace duckmesh::bus
