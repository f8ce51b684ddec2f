#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "app/node.hpp"
#include "common/error.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "query/snapshot_binder.hpp"
#include "support/service_process.hpp"

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

  std::vector<bus::Position> publish(const std::string& table, std::vector<std::string> payloads,
                                     std::vector<std::string> keys = {}) {
    std::vector<bus::Record> records;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      bus::Record r;
      r.product = "shop";
      r.table = table;
      r.payload = payloads[i];
      if (i < keys.size()) r.idempotency_key = keys[i];
      records.push_back(std::move(r));
    }
    return node_->bus().publish(std::move(records));
  }

  // Rows of `sql` at `snapshot` (latest when 0), as text.
  std::vector<std::vector<std::string>> query(const std::string& sql, std::int64_t snapshot = 0,
                                              bool system = false) {
    if (snapshot == 0) snapshot = node_->catalog().latest_snapshot("shop")->id;
    duck::Database db(":memory:", {});
    duck::Connection conn(db);
    conn.execute("SET TimeZone='UTC'");
    query::bind_snapshot(conn, node_->catalog(), node_->store(), "shop", snapshot, {system});
    auto result = conn.query(sql);
    std::vector<std::vector<std::string>> rows;
    while (auto chunk = result.next_chunk()) {
      for (std::size_t r = 0; r < chunk->size(); ++r) {
        std::vector<std::string> row;
        for (std::size_t c = 0; c < chunk->column_count(); ++c) {
          row.push_back(chunk->is_null(c, r) ? "NULL" : chunk->to_text(c, r));
        }
        rows.push_back(std::move(row));
      }
    }
    return rows;
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

}  // namespace
}  // namespace duckmesh::commit
