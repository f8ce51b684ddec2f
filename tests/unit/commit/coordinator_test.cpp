#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "app/node.hpp"
#include "common/error.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "duck/sql_literal.hpp"
#include "duck/value.hpp"
#include "support/service_process.hpp"
#include "unit/commit/test_support.hpp"

namespace duckmesh::commit {
namespace {

using testing::TempDir;

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app::NodeOptions options;
    options.data_dir = dir_.path();
    options.coordinator.max_batch_events = 1000;
    options.coordinator.max_batch_age = std::chrono::milliseconds(20);
    node_ = std::make_unique<app::Node>(options);
    node_->catalog().create_product({"shop", "", ""});
  }

  void create_append(const std::string& name, catalog::PartitionSpec partition = {}) {
    catalog::TableDef def{
        name,
        catalog::TableKind::append,
        {},
        partition,
        R"J([{"name":"id","type":"bigint"},{"name":"amount","type":"decimal(12,2)"},
                              {"name":"at","type":"timestamp"},{"name":"tags","type":"varchar[]"}])J",
        "{}"};
    node_->catalog().create_table("shop", def);
  }

  std::vector<bus::Position> publish(const std::string& table,
                                     const std::vector<std::string>& payloads,
                                     const std::vector<std::string>& keys = {}) {
    return test_support::publish(*node_, "shop", table, payloads, keys);
  }

  // Rows of `sql` at `snapshot` (latest when 0), as text.
  std::vector<std::vector<std::string>> query(const std::string& sql, std::int64_t snapshot = 0,
                                              bool system = false) {
    return test_support::query(*node_, "shop", sql, snapshot, system);
  }

  std::string scalar(const std::string& sql, std::int64_t snapshot = 0) {
    return query(sql, snapshot).at(0).at(0);
  }

  TempDir dir_;
  std::unique_ptr<app::Node> node_;
};

TEST_F(CoordinatorTest, EventsBecomeTypedParquetRowsInOneSnapshot) {
  create_append("orders");
  publish("orders",
          {R"({"id": 1, "amount": 10.50, "at": "2026-11-25T10:00:00Z", "tags": ["a","b"]})",
           R"({"id": 2, "amount": 3, "at": "2026-11-25T12:30:00+02:00"})"});
  auto result = node_->coordinator().commit_once();
  EXPECT_EQ(result.committed, 2u);
  ASSERT_EQ(result.snapshots.size(), 1u);
  auto rows = query("SELECT id, amount, \"at\", tags FROM orders ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "10.50", "2026-11-25 10:00:00", "[a, b]"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"2", "3.00", "2026-11-25 10:30:00", "NULL"}));
  EXPECT_EQ(scalar("SELECT typeof(amount) FROM orders LIMIT 1"), "DECIMAL(12,2)");
  // System columns are hidden unless asked for.
  EXPECT_THROW(query("SELECT _dm_position FROM orders"), Error);
  EXPECT_EQ(query("SELECT _dm_position FROM orders ORDER BY 1", 0, true).size(), 2u);
  // The file is real Parquet with statistics in the catalog.
  auto files = node_->catalog().live_files("shop", result.snapshots[0].id, "orders");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].row_count, 2);
  EXPECT_GT(files[0].bytes, 0);
  bool saw_id = false;
  for (auto& s : files[0].stats) {
    if (s.column == "id") {
      saw_id = true;
      EXPECT_EQ(s.min.value_or(""), "1");
      EXPECT_EQ(s.max.value_or(""), "2");
    }
  }
  EXPECT_TRUE(saw_id);
  EXPECT_EQ(node_->coordinator().watermark(), 2u);
}

// Statistics come from the writer: folded over row groups in the column's
// type, printed as min(column)::VARCHAR prints them, NULL-only columns
// marked as such, and bounds of strings too long to keep whole left unknown
// (a cut-short max would prune wrongly).
TEST(CoordinatorStatistics, FileStatisticsSpanRowGroupsAndNeverUnderstateBounds) {
  TempDir dir;
  app::NodeOptions options;
  options.data_dir = dir.path();
  options.coordinator.max_batch_events = 10'000;
  options.coordinator.row_group_size = 1000;  // several row groups per file
  app::Node node(options);
  node.catalog().create_product({"shop", "", ""});
  node.catalog().create_table(
      "shop", {"t",
               catalog::TableKind::append,
               {},
               {},
               R"J([{"name":"n","type":"bigint"},{"name":"d","type":"decimal(12,2)"},
                    {"name":"at","type":"timestamp"},{"name":"s","type":"varchar"},
                    {"name":"empty","type":"varchar"},{"name":"long","type":"varchar"},
                    {"name":"b","type":"boolean"},{"name":"x","type":"double"},
                    {"name":"i","type":"integer"},{"name":"day","type":"date"},
                    {"name":"u","type":"uuid"},{"name":"tz","type":"timestamptz"},
                    {"name":"wide","type":"varchar"},{"name":"some","type":"bigint"}])J",
               "{}"});
  std::vector<bus::Record> records;
  for (int i = 0; i < 3500; ++i) {
    bus::Record r;
    r.product = "shop";
    r.table = "t";
    // n runs 3499 down to 0 so the smallest value sits in the last row group;
    // 9 < 10 as numbers but not as text.
    int n = 3499 - i;
    std::string payload =
        "{\"n\":" + std::to_string(n) + ",\"d\":" + std::to_string(n) +
        ".25,\"at\":\"2026-11-25T10:00:00+01:00\",\"s\":\"v" + std::to_string(n) +
        "\",\"long\":\"" + std::string(300, 'a') + std::to_string(n) +
        "\",\"b\":" + (n == 7 ? "false" : "true") + ",\"x\":" + std::to_string(n - 1000) +
        ".5,\"i\":" + std::to_string(-n) + ",\"day\":\"2026-" + std::to_string(10 + n % 3) + "-0" +
        std::to_string(1 + n % 9) + "\",\"u\":\"00000000-0000-4000-8000-" +
        std::to_string(100000000000 + n) +
        "\",\"tz\":\"2026-11-25T10:" + std::to_string(10 + n % 50) + ":00+02:00\",\"wide\":\"";
    // 150 two-byte characters: too long to keep whole, and not cut.
    for (int k = 0; k < 150; ++k) payload += "\u00e9";
    payload += std::to_string(n) + "\"";
    if (n % 1000 == 5) payload += ",\"some\":" + std::to_string(n);
    payload += "}";
    r.payload = std::move(payload);
    records.push_back(std::move(r));
  }
  node.bus().publish(std::move(records));
  auto result = node.coordinator().commit_once();
  ASSERT_EQ(result.committed, 3500u);
  auto files = node.catalog().live_files("shop", result.snapshots.at(0).id, "t");
  ASSERT_EQ(files.size(), 1u);
  std::map<std::string, catalog::ColumnStats> by_column;
  for (auto& s : files[0].stats) by_column[s.column] = s;
  EXPECT_EQ(by_column["n"].min.value_or("?"), "0");
  EXPECT_EQ(by_column["n"].max.value_or("?"), "3499");
  EXPECT_EQ(by_column["n"].null_count, 0);
  EXPECT_EQ(by_column["d"].min.value_or("?"), "0.25");
  EXPECT_EQ(by_column["d"].max.value_or("?"), "3499.25");
  EXPECT_EQ(by_column["at"].min.value_or("?"), "2026-11-25 09:00:00");
  EXPECT_EQ(by_column["s"].min.value_or("?"), "v0");
  EXPECT_EQ(by_column["s"].max.value_or("?"), "v999");
  EXPECT_FALSE(by_column["empty"].min.has_value());
  EXPECT_EQ(by_column["empty"].null_count, 3500);
  // Unknown bounds: no min/max, and not claimed to be all NULL.
  EXPECT_FALSE(by_column["long"].min.has_value());
  EXPECT_FALSE(by_column["long"].max.has_value());
  EXPECT_EQ(by_column["long"].null_count, 0);
  EXPECT_EQ(by_column["_dm_position"].min.value_or("?"), "1");
  EXPECT_EQ(by_column["_dm_position"].max.value_or("?"), "3500");
  EXPECT_FALSE(by_column["wide"].min.has_value());
  EXPECT_EQ(by_column["wide"].null_count, 0);
  EXPECT_EQ(by_column["some"].null_count, 3496);
  // Every column with known bounds reads as the file's own min/max do.
  for (const char* column : {"n", "d", "at", "s", "b", "x", "i", "day", "u", "tz", "some"}) {
    std::string q = std::string("\"") + column + "\"";
    auto rows = testing::snapshot_rows(node, "shop",
                                       "SELECT min(" + q + ")::VARCHAR, max(" + q +
                                           ")::VARCHAR, count(*) - count(" + q + ") FROM t");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(by_column[column].min.value_or("?"), rows[0][0]) << column;
    EXPECT_EQ(by_column[column].max.value_or("?"), rows[0][1]) << column;
    EXPECT_EQ(std::to_string(by_column[column].null_count), rows[0][2]) << column;
  }
  EXPECT_EQ(by_column["b"].min.value_or("?"), "false");
}

// Ingest files are written for speed: a column of more distinct values than
// dictionary_size_limit (1000) is written plain, though a dictionary would
// pay off (each of 2000 ids comes 10 times); one of 8 values keeps it.
TEST(CoordinatorFiles, DataFilesKeepDictionariesForCategoricalColumnsOnly) {
  TempDir dir;
  app::NodeOptions options;
  options.data_dir = dir.path();
  options.coordinator.max_batch_events = 50'000;
  app::Node node(options);
  node.catalog().create_product({"shop", "", ""});
  node.catalog().create_table(
      "shop", {"t",
               catalog::TableKind::append,
               {},
               {},
               R"J([{"name":"id","type":"varchar"},{"name":"kind","type":"varchar"}])J",
               "{}"});
  std::vector<std::string> payloads;
  for (int i = 0; i < 20'000; ++i) {
    payloads.push_back("{\"id\":\"order-" + std::to_string(i % 2000) + "\",\"kind\":\"kind-" +
                       std::to_string(i % 8) + "\"}");
  }
  test_support::publish(node, "shop", "t", payloads);
  auto result = node.coordinator().commit_once();
  ASSERT_EQ(result.committed, 20'000u);
  auto files = node.catalog().live_files("shop", result.snapshots.at(0).id, "t");
  ASSERT_EQ(files.size(), 1u);
  duck::Database db(":memory:");
  duck::Connection conn(db);
  auto rows = conn.query("SELECT path_in_schema, encodings FROM parquet_metadata(" +
                         duck::quote_literal(node.store().local_path(files[0].path).string()) +
                         ") WHERE path_in_schema IN ('id', 'kind')")
                  .fetch_all();
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    const auto column = duck::text_or_null(row[0]).value_or("");
    const auto encodings = duck::text_or_null(row[1]).value_or("");
    EXPECT_EQ(encodings.find("DICTIONARY") != std::string::npos, column == "kind")
        << column << ": " << encodings;
  }
}

TEST_F(CoordinatorTest, ABatchOfManyChunksReadOnEveryThreadHoldsEachEventOnce) {
  // 20,000 events: ten of DuckDB's chunks, taken by its threads in turn.
  TempDir dir;
  app::NodeOptions options;
  options.data_dir = dir.path();
  options.coordinator.max_batch_events = 50'000;
  options.coordinator.duckdb_threads = 4;
  app::Node node(options);
  node.catalog().create_product({"shop", "", ""});
  node.catalog().create_table("shop",
                              {"t",
                               catalog::TableKind::append,
                               {},
                               {},
                               R"J([{"name":"n","type":"bigint"},{"name":"s","type":"varchar"}])J",
                               "{}"});
  std::vector<bus::Record> records;
  for (int i = 0; i < 20'000; ++i) {
    bus::Record r;
    r.product = "shop";
    r.table = "t";
    r.payload = "{\"n\":" + std::to_string(i) + ",\"s\":\"v" + std::to_string(i) + "\"}";
    records.push_back(std::move(r));
  }
  auto positions = node.bus().publish(std::move(records));
  auto result = node.coordinator().commit_once();
  ASSERT_EQ(result.committed, 20'000u);
  // Each event once, with its own position and values.
  auto rows =
      testing::snapshot_rows(node, "shop",
                             "SELECT count(*), count(DISTINCT n), min(n), max(n), "
                             "count(*) FILTER (WHERE s <> 'v' || n OR _dm_position <> n + " +
                                 std::to_string(positions.front()) + ") FROM t",
                             0, true);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"20000", "20000", "0", "19999", "0"}));
}

TEST_F(CoordinatorTest, ADrainAcksEveryBatchThoughEachAckRanBesideTheNextBatch) {
  TempDir dir;
  app::NodeOptions options;
  options.data_dir = dir.path();
  options.coordinator.max_batch_events = 100;
  app::Node node(options);
  node.catalog().create_product({"shop", "", ""});
  node.catalog().create_table(
      "shop",
      {"t", catalog::TableKind::append, {}, {}, R"J([{"name":"n","type":"bigint"}])J", "{}"});
  std::vector<bus::Record> records;
  for (int i = 0; i < 350; ++i) {
    bus::Record r;
    r.product = "shop";
    r.table = "t";
    r.payload = "{\"n\":" + std::to_string(i) + "}";
    records.push_back(std::move(r));
  }
  node.bus().publish(std::move(records));
  node.coordinator().drain();  // four cycles: 100, 100, 100, 50
  auto stats = node.bus().stats();
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.in_flight, 0u);                            // the last ack too
  EXPECT_EQ(node.catalog().latest_snapshot("shop")->id, 5);  // the table's, then four
  auto rows = testing::snapshot_rows(node, "shop", "SELECT count(DISTINCT n) FROM t");
  EXPECT_EQ(rows.at(0).at(0), "350");
  // Nothing is delivered again: the acks were durable.
  EXPECT_EQ(node.coordinator().commit_once().claimed, 0u);
}

TEST_F(CoordinatorTest, EmptyTableIsATypedEmptyRelation) {
  create_append("orders");
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "0");
  EXPECT_EQ(scalar("SELECT typeof(amount) FROM (SELECT * FROM orders UNION ALL SELECT NULL, 1.5, "
                   "NULL, NULL)"),
            "DECIMAL(12,2)");
}

TEST_F(CoordinatorTest, ReaderPinnedToASnapshotSeesTheSameRowsWhileOthersPublish) {
  create_append("orders");
  publish("orders", {R"({"id": 1})", R"({"id": 2})"});
  node_->coordinator().commit_once();
  auto pinned = node_->catalog().latest_snapshot("shop")->id;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 20 && !stop; ++i) {
      publish("orders", {"{\"id\": " + std::to_string(100 + i) + "}"});
      node_->coordinator().commit_once();
    }
  });
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(scalar("SELECT count(*) || ':' || sum(id) FROM orders", pinned), "2:3");
  }
  stop = true;
  writer.join();
  EXPECT_EQ(scalar("SELECT count(*) FROM orders", pinned), "2");
  EXPECT_GT(std::stoi(scalar("SELECT count(*) FROM orders")), 2);
}

TEST_F(CoordinatorTest, DuplicateKeysWithinABatchAndAcrossBatchesYieldOneRow) {
  create_append("orders");
  publish("orders", {R"({"id": 1})", R"({"id": 1})", R"({"id": 2})"}, {"k1", "k1", "k2"});
  auto first = node_->coordinator().commit_once();
  EXPECT_EQ(first.committed, 2u);
  EXPECT_EQ(first.duplicates, 1u);
  publish("orders", {R"({"id": 1})", R"({"id": 3})"}, {"k1", "k3"});
  auto second = node_->coordinator().commit_once();
  EXPECT_EQ(second.committed, 1u);
  EXPECT_EQ(second.duplicates, 1u);
  EXPECT_EQ(scalar("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM orders"), "1,2,3");
  EXPECT_EQ(node_->coordinator().watermark(), 5u);
}

TEST_F(CoordinatorTest, KeyedTableLaterVersionsWinAndDeletesHideTheKey) {
  catalog::TableDef def{
      "accounts",
      catalog::TableKind::keyed,
      {"id"},
      {},
      R"([{"name":"id","type":"bigint","nullable":false},{"name":"name","type":"varchar"}])",
      "{}"};
  node_->catalog().create_table("shop", def);
  publish("accounts", {R"({"id": 1, "name": "a1"})", R"({"id": 2, "name": "b1"})",
                       R"({"id": 1, "name": "a2"})"});
  node_->coordinator().commit_once();
  auto before_delete = node_->catalog().latest_snapshot("shop")->id;
  publish("accounts", {R"({"id": 2, "_dm_op": "delete"})", R"({"id": 3, "name": "c1"})"});
  node_->coordinator().commit_once();
  auto rows = query("SELECT id, name FROM accounts ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "a2"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"3", "c1"}));
  // Time travel: the deleted key is back in the snapshot before the delete.
  EXPECT_EQ(scalar("SELECT string_agg(name, ',' ORDER BY id) FROM accounts", before_delete),
            "a2,b1");
}

TEST_F(CoordinatorTest, AnUnconvertibleEventIsDeadLetteredAndTheOthersCommit) {
  create_append("orders");
  std::vector<std::string> payloads;
  for (int i = 0; i < 50; ++i) payloads.push_back("{\"id\": " + std::to_string(i) + "}");
  payloads[17] = R"({"id": "not a number"})";
  auto positions = publish("orders", payloads);
  auto result = node_->coordinator().commit_once();
  EXPECT_EQ(result.committed, 49u);
  EXPECT_EQ(result.dead_lettered, 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "49");
  auto dead = node_->bus().dead_letters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].record.position, positions[17]);
  EXPECT_FALSE(dead[0].reason.empty());
  // The watermark passes the dead letter: later writes become visible.
  EXPECT_EQ(node_->coordinator().watermark(), positions.back());
}

TEST_F(CoordinatorTest, OnTheTypedRowPathAnUnconvertibleEventIsDeadLetteredToo) {
  // Scalar columns only: the batch reaches DuckDB as typed rows, not NDJSON.
  node_->catalog().create_table(
      "shop", {"scalars",
               catalog::TableKind::append,
               {},
               {},
               R"J([{"name":"id","type":"bigint"},{"name":"amount","type":"decimal(6,2)"}])J",
               "{}"});
  std::vector<std::string> payloads;
  for (int i = 0; i < 5000; ++i) {
    payloads.push_back("{\"id\": " + std::to_string(i) + ", \"amount\": \"1.50\"}");
  }
  payloads[4321] = R"({"id": 4321, "amount": "12345.5"})";  // too many integer digits
  auto positions = publish("scalars", payloads);
  node_->coordinator().drain();  // five batches of 1000
  EXPECT_EQ(scalar("SELECT count(*) FROM scalars WHERE amount = 1.50"), "4999");
  auto dead = node_->bus().dead_letters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].record.position, positions[4321]);
  EXPECT_NE(dead[0].reason.find("column 'amount'"), std::string::npos) << dead[0].reason;
}

TEST_F(CoordinatorTest, AFileThatCannotBeWrittenReturnsTheBatchInsteadOfDeadLetteringIt) {
  node_->catalog().create_table("shop", {"scalars",
                                         catalog::TableKind::append,
                                         {},
                                         {},
                                         R"J([{"name":"id","type":"bigint"}])J",
                                         "{}"});
  std::vector<std::string> payloads;
  for (int i = 0; i < 10; ++i) payloads.push_back("{\"id\": " + std::to_string(i) + "}");
  publish("scalars", payloads);
  // The scratch directory, where Parquet files are written first, becomes a
  // plain file: DuckDB's COPY fails with an I/O error, which is not the
  // events' fault.
  const auto scratch = node_->store().scratch_dir();
  std::filesystem::remove_all(scratch);
  { std::ofstream(scratch) << "in the way"; }
  // However long it lasts: the batch goes back without using up an attempt,
  // so more failed cycles than the bus's max_attempts dead-letter nothing.
  for (int cycle = 0; cycle < 7; ++cycle) {
    try {
      node_->coordinator().commit_once();
      ADD_FAILURE() << "the commit did not fail";
    } catch (const Error& e) {
      EXPECT_EQ(e.details().at("duckdb_error_type"), "IO") << e.what();
    }
    EXPECT_TRUE(node_->bus().dead_letters(10).empty()) << "after failed cycle " << cycle + 1;
  }
  std::filesystem::remove(scratch);
  std::filesystem::create_directories(scratch);
  auto result = node_->coordinator().commit_once();
  EXPECT_EQ(result.committed, 10u);
  EXPECT_EQ(result.dead_lettered, 0u);
  EXPECT_EQ(scalar("SELECT count(*) FROM scalars"), "10");
}

TEST_F(CoordinatorTest, PartitionedTableWritesOneFilePerPartition) {
  create_append("events", {"at", "day"});
  publish("events", {R"({"id": 1, "at": "2026-11-24T23:00:00Z"})",
                     R"({"id": 2, "at": "2026-11-25T01:00:00Z"})",
                     R"({"id": 3, "at": "2026-11-25T02:00:00Z"})", R"({"id": 4})"});
  auto result = node_->coordinator().commit_once();
  EXPECT_EQ(result.files, 3u);
  auto files = node_->catalog().live_files("shop", result.snapshots[0].id, "events");
  std::set<std::string> partitions;
  for (auto& f : files) partitions.insert(f.partition_json);
  EXPECT_TRUE(partitions.count(R"({"at":"2026-11-24"})"));
  EXPECT_TRUE(partitions.count(R"({"at":"2026-11-25"})"));
  EXPECT_TRUE(partitions.count(R"({"at":null})"));
  EXPECT_EQ(scalar("SELECT count(*) FROM events"), "4");
  // Partition folders look like hive paths; the stored values must win.
  EXPECT_EQ(scalar("SELECT max(\"at\")::VARCHAR FROM events"), "2026-11-25 02:00:00");
  EXPECT_EQ(scalar("SELECT count(*) FROM events WHERE \"at\" IS NULL"), "1");
}

TEST_F(CoordinatorTest, BackgroundLoopCommitsByAgeAndWaitForReturnsWhenVisible) {
  create_append("orders");
  node_->coordinator().start();
  auto positions = publish("orders", {R"({"id": 7})"});
  node_->coordinator().notify_published(1);
  EXPECT_TRUE(node_->coordinator().wait_for(positions.back(), std::chrono::seconds(10)));
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "1");
  EXPECT_FALSE(
      node_->coordinator().wait_for(positions.back() + 100, std::chrono::milliseconds(50)));
  node_->coordinator().stop();
}

// A node without the coordinator role: its loop never claims, and wait_for
// still answers once another coordinator resolves the position.
TEST_F(CoordinatorTest, AFollowerNeverCommitsAndSeesWhatAnotherCoordinatorResolved) {
  create_append("orders");
  CoordinatorOptions options;
  options.commit = false;
  options.consumer = "follower";
  options.max_batch_age = std::chrono::milliseconds(20);
  options.watermark_poll = std::chrono::milliseconds(0);
  // Without following the catalog nothing would move its watermark.
  EXPECT_THROW(Coordinator(node_->catalog(), node_->bus(), node_->store(), options), Error);
  options.watermark_poll = std::chrono::milliseconds(5);
  Coordinator follower(node_->catalog(), node_->bus(), node_->store(), options);
  follower.start();
  auto positions = publish("orders", {R"({"id": 1})", R"({"id": 2})"});
  follower.notify_published(2);
  // Nobody commits: the follower waits in vain and leaves the records alone.
  EXPECT_FALSE(follower.wait_for(positions.back(), std::chrono::milliseconds(300)));
  EXPECT_EQ(node_->bus().stats().pending, 2u);
  EXPECT_FALSE(node_->catalog().latest_snapshot("shop").has_value() &&
               node_->catalog().watermark() >= positions.back());
  // The other coordinator commits while the follower waits.
  std::thread committer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    node_->coordinator().commit_once();
  });
  EXPECT_TRUE(follower.wait_for(positions.back(), std::chrono::seconds(10)));
  committer.join();
  EXPECT_EQ(follower.watermark(), positions.back());
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "2");
  follower.stop();
}

// A store that passes everything to another one; tests override put_file.
class DelegatingStore : public storage::ObjectStore {
 public:
  explicit DelegatingStore(storage::ObjectStore& inner) : inner_(inner) {}

  void put_file(const std::string& key, const std::filesystem::path& source) override {
    inner_.put_file(key, source);
  }
  void put(const std::string& key, std::string_view bytes) override { inner_.put(key, bytes); }
  std::string get(const std::string& key) const override { return inner_.get(key); }
  std::filesystem::path local_path(const std::string& key) const override {
    return inner_.local_path(key);
  }
  std::filesystem::path local_directory(const std::string& prefix) const override {
    return inner_.local_directory(prefix);
  }
  std::optional<storage::ObjectInfo> stat(const std::string& key) const override {
    return inner_.stat(key);
  }
  std::vector<storage::ObjectInfo> list(const std::string& prefix) const override {
    return inner_.list(prefix);
  }
  void remove(const std::string& key) override { inner_.remove(key); }
  std::filesystem::path scratch_dir() const override { return inner_.scratch_dir(); }

 private:
  storage::ObjectStore& inner_;
};

// The store of a coordinator that stalls: its first put_file waits until the
// test lets it go, so its lease can run out mid-commit.
class StallingStore final : public DelegatingStore {
 public:
  using DelegatingStore::DelegatingStore;

  void wait_until_stalled() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stalled_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

  void put_file(const std::string& key, const std::filesystem::path& source) override {
    {
      std::unique_lock lock(mutex_);
      stalled_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
    }
    DelegatingStore::put_file(key, source);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stalled_ = false;
  bool released_ = false;
};

// A store in an outage: every put_file fails as unavailable.
class UnavailableStore final : public DelegatingStore {
 public:
  using DelegatingStore::DelegatingStore;

  void wait_for_a_failure() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return failures_ > 0; });
  }

  void put_file(const std::string&, const std::filesystem::path&) override {
    {
      std::lock_guard lock(mutex_);
      ++failures_;
      changed_.notify_all();
    }
    throw Error(ErrorCode::unavailable, "store down (test)");
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int failures_ = 0;
};

// A full batch makes the coordinator claim the next one ahead; when the
// cycle then fails and the coordinator stops, that batch goes back to the
// bus at once instead of waiting for its lease to end.
TEST_F(CoordinatorTest, ABatchClaimedAheadGoesBackWhenTheCoordinatorStops) {
  create_append("orders");
  UnavailableStore down(node_->store());
  CoordinatorOptions options;
  options.consumer = "ahead";
  options.max_batch_events = 10;
  options.max_batch_age = std::chrono::milliseconds(500);
  Coordinator coordinator(node_->catalog(), node_->bus(), down, options);
  std::vector<std::string> events;
  for (int i = 0; i < 30; ++i) events.push_back("{\"id\": " + std::to_string(i) + "}");
  publish("orders", events);
  coordinator.start();
  coordinator.notify_published(30);
  down.wait_for_a_failure();  // the first batch of 10 failed; the next 10 were claimed ahead
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  coordinator.stop();
  const bus::BusStats stats = node_->bus().stats();
  EXPECT_EQ(stats.in_flight, 0u);  // none left under a lease
  EXPECT_EQ(stats.pending, 30u);
  EXPECT_EQ(stats.dead_letters, 0u);  // an outage uses up no attempt
}

// The batch claimed ahead holds only what had arrived when it was claimed;
// the next cycle tops it up with what came since and writes one full file,
// not a small one and then another.
TEST_F(CoordinatorTest, ABatchClaimedAheadIsToppedUpWithWhatCameSince) {
  create_append("orders");
  StallingStore stalling(node_->store());
  CoordinatorOptions options;
  options.consumer = "ahead";
  options.max_batch_events = 10;
  options.max_batch_age = std::chrono::seconds(30);  // no cycle starts on age
  Coordinator coordinator(node_->catalog(), node_->bus(), stalling, options);
  auto events = [](int first, int count) {
    std::vector<std::string> out;
    for (int i = first; i < first + count; ++i)
      out.push_back("{\"id\": " + std::to_string(i) + "}");
    return out;
  };
  publish("orders", events(0, 13));
  coordinator.start();
  coordinator.notify_published(13);
  stalling.wait_until_stalled();  // the first 10 are being stored
  // Meanwhile the other 3 are claimed ahead...
  for (int i = 0; i < 500 && node_->bus().stats().pending > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(node_->bus().stats().pending, 0u);
  ASSERT_EQ(node_->bus().stats().in_flight, 13u);
  // ...and 7 more arrive before the next cycle.
  publish("orders", events(13, 7));
  stalling.release();
  for (int i = 0; i < 500 && coordinator.watermark() < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  coordinator.stop();
  auto latest = node_->catalog().latest_snapshot("shop");
  ASSERT_TRUE(latest.has_value());
  std::vector<std::int64_t> rows;
  for (const auto& f : node_->catalog().live_files("shop", latest->id, "orders")) {
    rows.push_back(f.row_count);
  }
  EXPECT_EQ(rows, (std::vector<std::int64_t>{10, 10}));
  EXPECT_EQ(scalar("SELECT count(DISTINCT id) FROM orders"), "20");
}

TEST_F(CoordinatorTest, ACoordinatorWhoseLeaseRanOutLosesTheRaceAndReturnsTheBatch) {
  create_append("orders");
  StallingStore stalling(node_->store());
  CoordinatorOptions slow_options;
  slow_options.consumer = "slow";
  slow_options.lease = std::chrono::milliseconds(200);
  Coordinator slow(node_->catalog(), node_->bus(), stalling, slow_options);
  CoordinatorOptions fast_options;
  fast_options.consumer = "fast";
  Coordinator fast(node_->catalog(), node_->bus(), node_->store(), fast_options);

  publish("orders", {R"({"id": 1})", R"({"id": 2})", R"({"id": 3})"});
  auto slow_cycle = std::async(std::launch::async, [&] { return slow.commit_once(); });
  stalling.wait_until_stalled();  // its Parquet file is written, not yet stored
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // Its lease is over: the other coordinator takes the same records.
  const CommitResult won = fast.commit_once();
  EXPECT_EQ(won.claimed, 3u);
  EXPECT_EQ(won.committed, 3u);

  // The stalled one finds the positions resolved at publication: a conflict,
  // and the batch goes back without using up an attempt.
  stalling.release();
  try {
    slow_cycle.get();
    ADD_FAILURE() << "the late publication was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict) << e.what();
  }

  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "3");
  EXPECT_EQ(scalar("SELECT count(DISTINCT id) FROM orders"), "3");
  const bus::BusStats stats = node_->bus().stats();
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.dead_letters, 0u);
  EXPECT_EQ(slow.commit_once().claimed, 0u);
  EXPECT_EQ(fast.commit_once().claimed, 0u);

  // The loser's file was stored but is in no snapshot: an orphan for gc.
  const auto snapshot = node_->catalog().latest_snapshot("shop")->id;
  const auto live = node_->catalog().live_files("shop", snapshot, "orders");
  ASSERT_EQ(live.size(), 1u);
  const auto stored = node_->store().list("products/shop/tables/orders/data");
  EXPECT_EQ(stored.size(), 2u);
}

}  // namespace
}  // namespace duckmesh::commit
