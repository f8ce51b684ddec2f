#include "maintenance/compactor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <map>
#include <set>
#include <thread>

#include "common/error.hpp"
#include "maintenance_test_support.hpp"
#include "product/product_service.hpp"

namespace duckmesh::maintenance {
namespace {

using testing::NodeFixture;

std::string row(int id, const std::string& at = "2026-11-25T10:00:00Z") {
  return "{\"id\": " + std::to_string(id) + ", \"amount\": " + std::to_string(id) +
         ".25, \"at\": \"" + at + "\", \"tags\": [\"t" + std::to_string(id % 3) + "\"]}";
}

const char* kAggregate =
    "SELECT count(*), sum(id), sum(amount), min(\"at\"), max(\"at\"), "
    "string_agg(id::VARCHAR || ':' || tags[1], ',' ORDER BY id) FROM orders";

class CompactorTest : public NodeFixture {};

TEST_F(CompactorTest, AppendTableAnswersTheSameAfterCompaction) {
  create_append("orders");
  for (int batch = 0; batch < 8; ++batch) {
    std::vector<std::string> rows;
    for (int i = 0; i < 5; ++i) rows.push_back(row(batch * 5 + i));
    ingest("orders", rows);
  }
  ASSERT_EQ(files("orders").size(), 8u);
  const auto before_snapshot = latest();
  const auto before = query(kAggregate);
  const auto all_rows = query("SELECT * FROM orders ORDER BY id", 0, true);

  Compactor compactor(node_->catalog(), node_->store());
  auto result = compactor.compact_table("shop", "orders");
  EXPECT_EQ(result.outcome, CompactionOutcome::compacted);
  EXPECT_EQ(result.files_removed, 8);
  EXPECT_EQ(result.files_added, 1);
  EXPECT_EQ(result.rows_before, 40);
  EXPECT_EQ(result.rows_after, 40);
  EXPECT_EQ(result.snapshot_id, before_snapshot + 1);
  EXPECT_EQ(node_->catalog().find_snapshot("shop", result.snapshot_id)->operation,
            catalog::Operation::compact);

  auto after_files = files("orders");
  ASSERT_EQ(after_files.size(), 1u);
  EXPECT_EQ(query(kAggregate), before);
  // Every column, system columns included, survives compaction.
  EXPECT_EQ(query("SELECT * FROM orders ORDER BY id", 0, true), all_rows);
  // Recomputed statistics.
  bool saw_id = false, saw_tags = false, saw_position = false;
  for (const auto& s : after_files[0].stats) {
    if (s.column == "id") {
      saw_id = true;
      EXPECT_EQ(s.min.value_or(""), "0");
      EXPECT_EQ(s.max.value_or(""), "39");
    }
    saw_tags = saw_tags || s.column == "tags";
    saw_position = saw_position || s.column == "_dm_position";
  }
  EXPECT_TRUE(saw_id && saw_tags && saw_position);
  // A reader pinned to the snapshot before still sees its eight files.
  EXPECT_EQ(files("orders", before_snapshot).size(), 8u);
  EXPECT_EQ(query(kAggregate, before_snapshot), before);
  // Nothing is left to do.
  EXPECT_EQ(compactor.compact_table("shop", "orders").outcome, CompactionOutcome::nothing_to_do);
}

TEST_F(CompactorTest, LargeFilesAreLeftAloneAndGroupsStayUnderTheTarget) {
  create_append("orders");
  std::vector<std::string> big;
  for (int i = 0; i < 20; ++i) big.push_back(row(i));
  ingest("orders", big);  // 20 rows: not small below
  for (int batch = 0; batch < 6; ++batch) ingest("orders", {row(100 + batch), row(200 + batch)});
  const auto before = query(kAggregate);
  CompactionOptions options;
  options.small_file_rows = 10;
  options.target_file_rows = 4;  // two 2-row files a group
  Compactor compactor(node_->catalog(), node_->store(), options);
  auto result = compactor.compact_table("shop", "orders");
  EXPECT_EQ(result.outcome, CompactionOutcome::compacted);
  EXPECT_EQ(result.files_removed, 6);
  EXPECT_EQ(result.files_added, 3);
  auto after = files("orders");
  ASSERT_EQ(after.size(), 4u);
  std::int64_t big_files = 0;
  for (const auto& f : after) {
    EXPECT_LE(f.row_count, 20);
    if (f.row_count == 20) {
      ++big_files;
    } else {
      EXPECT_EQ(f.row_count, 4);
    }
  }
  EXPECT_EQ(big_files, 1);
  EXPECT_EQ(query(kAggregate), before);
}

TEST_F(CompactorTest, KeyedTableFoldsToTheLatestVersionAndDropsDeletes) {
  create_keyed("accounts");
  ingest("accounts", {R"({"id": 1, "name": "a1"})", R"({"id": 2, "name": "b1"})",
                      R"({"id": 3, "name": "c1"})"});
  ingest("accounts", {R"({"id": 1, "name": "a2"})", R"({"id": 2, "_dm_op": "delete"})"});
  ingest("accounts", {R"({"id": 4, "name": "d1"})", R"({"id": 3, "_dm_op": "delete"})",
                      R"({"id": 3, "name": "c2"})"});
  ingest("accounts", {R"({"id": 4, "_dm_op": "delete"})", R"({"id": 5, "name": "e1"})"});
  const char* sql = "SELECT id, name FROM accounts ORDER BY id";
  const auto before = query(sql);
  ASSERT_EQ(before.size(), 3u);  // 1:a2, 3:c2, 5:e1

  Compactor compactor(node_->catalog(), node_->store());
  auto result = compactor.compact_table("shop", "accounts");
  EXPECT_EQ(result.outcome, CompactionOutcome::compacted);
  EXPECT_EQ(result.rows_before, 10);
  EXPECT_EQ(result.rows_after, 3);  // one row per live key, deletes gone
  EXPECT_EQ(query(sql), before);
  // The kept rows still carry their system columns.
  auto system = query("SELECT id, _dm_op, _dm_position FROM accounts ORDER BY id", 0, true);
  ASSERT_EQ(system.size(), 3u);
  EXPECT_EQ(system[0][1], "upsert");
  EXPECT_EQ(system[0][2], "4");
  // A later upsert of a deleted key wins over nothing; a later delete hides a folded key.
  ingest("accounts", {R"({"id": 2, "name": "b2"})", R"({"id": 1, "_dm_op": "delete"})"});
  EXPECT_EQ(query(sql),
            (std::vector<std::vector<std::string>>{{"2", "b2"}, {"3", "c2"}, {"5", "e1"}}));
}

TEST_F(CompactorTest, PartialKeyedCompactionKeepsDeleteMarkers) {
  create_keyed("accounts");
  // A large file (not small below) holding key 1.
  std::vector<std::string> big{R"({"id": 1, "name": "a1"})"};
  for (int i = 10; i < 30; ++i) big.push_back("{\"id\": " + std::to_string(i) + "}");
  ingest("accounts", big);
  ingest("accounts", {R"({"id": 1, "_dm_op": "delete"})"});
  ingest("accounts", {R"({"id": 2, "name": "b1"})"});
  const char* sql = "SELECT id, name FROM accounts WHERE id < 10 ORDER BY id";
  ASSERT_EQ(query(sql), (std::vector<std::vector<std::string>>{{"2", "b1"}}));

  CompactionOptions options;
  options.small_file_rows = 10;
  Compactor compactor(node_->catalog(), node_->store(), options);
  auto result = compactor.compact_table("shop", "accounts");
  EXPECT_EQ(result.outcome, CompactionOutcome::compacted);
  EXPECT_EQ(result.files_removed, 2);
  EXPECT_EQ(result.rows_after, 2);  // the delete marker stays
  // Key 1's old version in the large file must not resurface.
  EXPECT_EQ(query(sql), (std::vector<std::vector<std::string>>{{"2", "b1"}}));
}

TEST_F(CompactorTest, KeyedDeleteOfAKeyThatMovedPartitionIsKept) {
  create_keyed("accounts", {"at", "day"});
  ingest("accounts", {R"({"id": 1, "name": "a1", "at": "2026-11-24T10:00:00Z"})"});
  ingest("accounts", {R"({"id": 1, "_dm_op": "delete", "at": "2026-11-25T10:00:00Z"})",
                      R"({"id": 2, "name": "b1", "at": "2026-11-25T11:00:00Z"})"});
  ingest("accounts", {R"({"id": 3, "name": "c1", "at": "2026-11-25T12:00:00Z"})"});
  ingest("accounts", {R"({"id": 4, "name": "d1", "at": "2026-11-24T12:00:00Z"})"});
  const char* sql = "SELECT id, name FROM accounts ORDER BY id";
  const auto before = query(sql);
  ASSERT_EQ(before.size(), 3u);
  Compactor compactor(node_->catalog(), node_->store());
  auto result = compactor.compact_table("shop", "accounts");
  EXPECT_EQ(result.outcome, CompactionOutcome::compacted);
  EXPECT_EQ(result.files_added, 2);  // one per day
  EXPECT_EQ(query(sql), before);
}

TEST_F(CompactorTest, PartitionedTableCompactsEachPartitionIntoItsOwnFile) {
  create_append("orders", {"at", "day"});
  for (int batch = 0; batch < 4; ++batch) {
    ingest("orders",
           {row(batch * 3, "2026-11-24T10:00:00Z"), row(batch * 3 + 1, "2026-11-25T10:00:00Z"),
            row(batch * 3 + 2, "2026-11-26T23:59:59Z")});
  }
  ASSERT_EQ(files("orders").size(), 12u);
  const auto before = query(kAggregate);
  Compactor compactor(node_->catalog(), node_->store());
  auto result = compactor.compact_table("shop", "orders");
  EXPECT_EQ(result.outcome, CompactionOutcome::compacted);
  EXPECT_EQ(result.files_added, 3);
  std::set<std::string> partitions;
  for (const auto& f : files("orders")) {
    partitions.insert(f.partition_json);
    EXPECT_EQ(f.row_count, 4);
    EXPECT_NE(f.path.find("/data/at="), std::string::npos) << f.path;
  }
  EXPECT_EQ(partitions, (std::set<std::string>{R"({"at":"2026-11-24"})", R"({"at":"2026-11-25"})",
                                               R"({"at":"2026-11-26"})"}));
  EXPECT_EQ(query(kAggregate), before);
}

TEST_F(CompactorTest, RowsFollowTheTableSortKey) {
  create_append("orders", {}, R"({"sort_key": ["id"]})");
  ingest("orders", {row(9), row(7)});
  ingest("orders", {row(3), row(8)});
  ingest("orders", {row(1), row(5)});
  Compactor compactor(node_->catalog(), node_->store());
  ASSERT_EQ(compactor.compact_table("shop", "orders").outcome, CompactionOutcome::compacted);
  auto f = files("orders");
  ASSERT_EQ(f.size(), 1u);
  duck::Database db(":memory:", {});
  duck::Connection conn(db);
  auto rows = rows_of(conn, "SELECT string_agg(id::VARCHAR, ',') FROM read_parquet('" +
                                node_->store().local_path(f[0].path).string() + "')");
  EXPECT_EQ(rows.at(0).at(0), "1,3,5,7,8,9");
}

TEST_F(CompactorTest, TheSortKeyOfATableDefinitionOrdersCompactedRows) {
  auto def = product::parse_table_definition(boost::json::parse(R"J({"name": "events",
      "columns": [{"name": "id", "type": "bigint"}, {"name": "k", "type": "varchar"}],
      "sort_key": ["k", "id"]})J"));
  node_->catalog().create_table("shop", def);
  ingest("events", {R"({"id": 3, "k": "b"})", R"({"id": 1, "k": "b"})"});
  ingest("events", {R"({"id": 2, "k": "a"})", R"({"id": 0, "k": "c"})"});
  Compactor compactor(node_->catalog(), node_->store());
  ASSERT_EQ(compactor.compact_table("shop", "events").outcome, CompactionOutcome::compacted);
  auto f = files("events");
  ASSERT_EQ(f.size(), 1u);
  duck::Database db(":memory:", {});
  duck::Connection conn(db);
  auto rows = rows_of(conn, "SELECT string_agg(k || id::VARCHAR, ',') FROM read_parquet('" +
                                node_->store().local_path(f[0].path).string() + "')");
  EXPECT_EQ(rows.at(0).at(0), "a2,b1,b3,c0");
  EXPECT_THROW(product::parse_table_definition(boost::json::parse(
                   R"J({"name": "x", "columns": [{"name": "id", "type": "bigint"}],
                        "sort_key": ["nope"]})J")),
               Error);
}

TEST_F(CompactorTest, ALostRaceIsRetriedAndLosesNothing) {
  create_append("orders");
  for (int batch = 0; batch < 4; ++batch) ingest("orders", {row(batch), row(10 + batch)});
  Compactor rival(node_->catalog(), node_->store());
  CompactionOptions options;
  int calls = 0;
  options.before_publish = [&] {
    // The first time, another compactor publishes first and retires our inputs.
    if (calls++ == 0) {
      EXPECT_EQ(rival.compact_table("shop", "orders").outcome, CompactionOutcome::compacted);
      ingest("orders", {row(50), row(51)});
      ingest("orders", {row(52)});
    }
  };
  Compactor compactor(node_->catalog(), node_->store(), options);
  auto result = compactor.compact_table("shop", "orders");
  EXPECT_EQ(result.attempts, 2);
  EXPECT_EQ(result.outcome, CompactionOutcome::compacted);
  EXPECT_EQ(result.files_removed, 3);  // the rival's file and the two new ones
  EXPECT_EQ(files("orders").size(), 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "11");
  EXPECT_EQ(scalar("SELECT sum(id) FROM orders WHERE id < 50"),
            std::to_string(0 + 1 + 2 + 3 + 10 + 11 + 12 + 13));
  // The loser's files were never published and are gone from the store.
  std::set<std::string> known;
  for (const auto& p : node_->catalog().known_file_paths()) known.insert(p);
  for (const auto& o : node_->store().list("products/")) {
    EXPECT_TRUE(known.count(o.key)) << "unpublished file left behind: " << o.key;
  }
}

TEST_F(CompactorTest, GivesUpCleanlyWhenItKeepsLosing) {
  create_append("orders");
  for (int batch = 0; batch < 3; ++batch) ingest("orders", {row(batch)});
  CompactionOptions options;
  options.max_attempts = 2;
  catalog::CatalogRepo& catalog = node_->catalog();
  options.before_publish = [&] {
    // Retire one input file behind the compactor's back every time.
    auto live = files("orders");
    catalog::Publication p;
    p.product = "shop";
    p.operation = catalog::Operation::compact;
    p.removed_file_ids = {live.front().id};
    catalog.publish({p}, {});
    ingest("orders", {row(100 + static_cast<int>(live.size()))});
  };
  Compactor compactor(node_->catalog(), node_->store(), options);
  auto result = compactor.compact_table("shop", "orders");
  EXPECT_EQ(result.outcome, CompactionOutcome::gave_up);
  EXPECT_EQ(result.attempts, 2);
  EXPECT_NE(result.message.find("no longer live"), std::string::npos) << result.message;
}

TEST_F(CompactorTest, CompactionRacingIngestAndAnotherCompactorLosesNothing) {
  create_append("orders");
  create_keyed("accounts");
  std::atomic<bool> done{false};
  constexpr int kBatches = 40;
  std::thread writer([&] {
    for (int batch = 0; batch < kBatches; ++batch) {
      std::vector<std::string> rows;
      for (int i = 0; i < 5; ++i) rows.push_back(row(batch * 5 + i));
      ingest("orders", rows);
      // Key batch % 7 is rewritten; every third batch deletes key (batch+3) % 7.
      std::vector<std::string> keyed{"{\"id\": " + std::to_string(batch % 7) + ", \"name\": \"v" +
                                     std::to_string(batch) + "\"}"};
      if (batch % 3 == 0) {
        keyed.push_back("{\"id\": " + std::to_string((batch + 3) % 7) +
                        ", \"_dm_op\": \"delete\"}");
      }
      ingest("accounts", keyed);
    }
    done = true;
  });
  auto compact_loop = [&] {
    Compactor compactor(node_->catalog(), node_->store());
    int compacted = 0;
    while (!done) {
      for (const auto& r : compactor.compact_all("shop")) {
        // Giving up is only ever losing every attempt to the rival.
        if (r.outcome == CompactionOutcome::gave_up) {
          EXPECT_NE(r.message.find("no longer live"), std::string::npos) << r.message;
        }
        compacted += r.outcome == CompactionOutcome::compacted;
      }
    }
    return compacted;
  };
  int a = 0, b = 0;
  std::thread first([&] { a = compact_loop(); });
  std::thread second([&] { b = compact_loop(); });
  writer.join();
  first.join();
  second.join();
  EXPECT_GT(a + b, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), std::to_string(kBatches * 5));
  EXPECT_EQ(scalar("SELECT sum(id) FROM orders"),
            std::to_string((kBatches * 5 - 1) * kBatches * 5 / 2));

  // The keyed table equals a replay of the same writes.
  std::map<int, std::string> expected;
  for (int batch = 0; batch < kBatches; ++batch) {
    expected[batch % 7] = "v" + std::to_string(batch);
    if (batch % 3 == 0) expected.erase((batch + 3) % 7);
  }
  std::vector<std::vector<std::string>> want;
  for (const auto& [id, name] : expected) want.push_back({std::to_string(id), name});
  EXPECT_EQ(query("SELECT id, name FROM accounts ORDER BY id"), want);
  // And one last compaction still agrees.
  Compactor last(node_->catalog(), node_->store());
  last.compact_all("shop");
  EXPECT_EQ(query("SELECT id, name FROM accounts ORDER BY id"), want);
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), std::to_string(kBatches * 5));
}

TEST_F(CompactorTest, UnknownTableIsNotFound) {
  Compactor compactor(node_->catalog(), node_->store());
  try {
    compactor.compact_table("shop", "nope");
    ADD_FAILURE() << "expected not_found";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

}  // namespace
}  // namespace duckmesh::maintenance
