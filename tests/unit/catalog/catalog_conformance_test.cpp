// CatalogRepo behaviour every backend must share: each case runs against
// SQLite and PostgreSQL (CatalogConformance/<case>/sqlite|postgres).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "catalog_backends.hpp"
#include "catalog_test_support.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog {
namespace {

using testing::add_files;
using testing::append_table;
using testing::Backend;
using testing::CatalogStore;
using testing::ManualClock;
using testing::new_file;
using testing::remove_files;

constexpr std::int64_t kStart = 1'700'000'000'000'000;

// Runs `action`, expecting a duckmesh::Error of `code`.
template <typename Action>
void expect_error(ErrorCode code, Action&& action) {
  try {
    action();
    ADD_FAILURE() << "expected an Error with code " << to_string(code);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
  }
}

std::vector<std::string> paths_of(const std::vector<DataFile>& files) {
  std::vector<std::string> paths;
  for (const auto& file : files) paths.push_back(file.path);
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::vector<std::string> names_of(const std::vector<TableInfo>& tables) {
  std::vector<std::string> names;
  for (const auto& table : tables) names.push_back(table.name);
  return names;
}

// Reads removed_snapshot, failing the test when the file is still live.
std::int64_t expect_removed_in(const DataFile& file) {
  EXPECT_TRUE(file.removed_snapshot.has_value()) << file.path;
  return file.removed_snapshot.value_or(-1);
}

class CatalogConformance : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<CatalogRepo> open(std::int64_t window_us = std::int64_t{7} * 24 * 3600 *
                                                             1'000'000) {
    testing::OpenSettings settings;
    settings.clock = clock_.function();
    settings.idempotency_window_us = window_us;
    return store_.open(settings);
  }

  std::int64_t count_rows(const std::string& table) { return store_.count_rows(table); }

  CatalogStore store_{GetParam()};
  ManualClock clock_{kStart};
  std::unique_ptr<CatalogRepo> owned_ = open();
  CatalogRepo& catalog_ = *owned_;
};

// --- products --------------------------------------------------------------

TEST_P(CatalogConformance, CreatesFindsAndListsProducts) {
  const Product sales = catalog_.create_product({"sales", "Sales events", "team-sales"});
  EXPECT_EQ(sales.id, 1);
  EXPECT_EQ(sales.name, "sales");
  EXPECT_EQ(sales.created_unix_us, kStart);
  const Product ads = catalog_.create_product({"ads", "", "team-ads"});
  EXPECT_EQ(ads.id, 2);

  const auto found = catalog_.find_product("sales");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, 1);
  EXPECT_EQ(found->description, "Sales events");
  EXPECT_EQ(found->owner, "team-sales");
  EXPECT_EQ(found->created_unix_us, kStart);
  EXPECT_FALSE(catalog_.find_product("nope").has_value());

  const auto all = catalog_.list_products();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "ads");  // by name
  EXPECT_EQ(all[1].name, "sales");
  EXPECT_EQ(all[0].description, "");
}

TEST_P(CatalogConformance, RefusesDuplicateAndBadProductNames) {
  catalog_.create_product({"sales", "", ""});
  expect_error(ErrorCode::conflict, [&] { catalog_.create_product({"sales", "again", ""}); });
  expect_error(ErrorCode::invalid_input, [&] { catalog_.create_product({"Sales!", "", ""}); });
  expect_error(ErrorCode::invalid_input, [&] { catalog_.create_product({"", "", ""}); });
  EXPECT_EQ(catalog_.list_products().size(), 1u);
}

// --- tables ----------------------------------------------------------------

TEST_P(CatalogConformance, CreatesAKeyedPartitionedTableInASchemaSnapshot) {
  catalog_.create_product({"sales", "", ""});
  TableDef def;
  def.name = "orders";
  def.kind = TableKind::keyed;
  def.primary_key = {"order_id", "line"};
  def.partition = {"ordered_at", "day"};
  def.schema_json = R"({"columns":[{"name":"order_id","type":"BIGINT"}]})";
  def.options_json = R"({"unknown_fields":"reject"})";
  const auto [table, snapshot] = catalog_.create_table("sales", def);

  EXPECT_EQ(snapshot.id, 1);
  EXPECT_FALSE(snapshot.parent.has_value());
  EXPECT_EQ(snapshot.operation, Operation::schema);
  EXPECT_EQ(snapshot.product, "sales");
  EXPECT_EQ(snapshot.committed_unix_us, kStart);
  EXPECT_EQ(table.id, 1);
  EXPECT_EQ(table.schema_version, 1);
  EXPECT_EQ(table.created_snapshot, 1);

  const auto found = catalog_.find_table("sales", "orders");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, table.id);
  EXPECT_EQ(found->product, "sales");
  EXPECT_EQ(found->kind, TableKind::keyed);
  EXPECT_EQ(found->primary_key, (std::vector<std::string>{"order_id", "line"}));
  EXPECT_EQ(found->partition.column, "ordered_at");
  EXPECT_EQ(found->partition.transform, "day");
  EXPECT_EQ(found->schema_version, 1);
  EXPECT_EQ(found->schema_json, def.schema_json);
  EXPECT_EQ(found->options_json, def.options_json);
  EXPECT_EQ(found->created_snapshot, 1);
  EXPECT_FALSE(found->dropped_snapshot.has_value());
  EXPECT_EQ(found->created_unix_us, kStart);

  const auto latest = catalog_.latest_snapshot("sales");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->id, 1);
  EXPECT_NE(latest->summary_json.find("orders"), std::string::npos);
}

TEST_P(CatalogConformance, RefusesBadTablesAndUnknownProducts) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_table("sales", append_table("orders"));
  expect_error(ErrorCode::conflict,
               [&] { catalog_.create_table("sales", append_table("orders")); });
  expect_error(ErrorCode::not_found,
               [&] { catalog_.create_table("nope", append_table("orders")); });
  expect_error(ErrorCode::invalid_input,
               [&] { catalog_.create_table("sales", append_table("orders", "")); });
  expect_error(ErrorCode::invalid_input,
               [&] { catalog_.create_table("sales", append_table("bad name")); });
  TableDef keyed = append_table("keyed");
  keyed.kind = TableKind::keyed;
  expect_error(ErrorCode::invalid_input, [&] { catalog_.create_table("sales", keyed); });
  TableDef with_key = append_table("with_key");
  with_key.primary_key = {"id"};
  expect_error(ErrorCode::invalid_input, [&] { catalog_.create_table("sales", with_key); });
  TableDef hourly = append_table("hourly");
  hourly.partition = {"at", "hour"};
  expect_error(ErrorCode::invalid_input, [&] { catalog_.create_table("sales", hourly); });

  // None of the refusals left a table or a snapshot behind.
  EXPECT_EQ(names_of(catalog_.list_tables("sales")), std::vector<std::string>{"orders"});
  EXPECT_EQ(catalog_.latest_snapshot("sales")->id, 1);
  expect_error(ErrorCode::not_found, [&] { catalog_.list_tables("nope"); });
  EXPECT_FALSE(catalog_.find_table("nope", "orders").has_value());
  EXPECT_FALSE(catalog_.find_table("sales", "missing").has_value());
}

TEST_P(CatalogConformance, ListsLiveTablesByName) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_product({"ads", "", ""});
  catalog_.create_table("sales", append_table("returns"));
  catalog_.create_table("sales", append_table("orders"));
  catalog_.create_table("ads", append_table("clicks"));
  EXPECT_EQ(names_of(catalog_.list_tables("sales")),
            (std::vector<std::string>{"orders", "returns"}));
  EXPECT_EQ(names_of(catalog_.list_tables("ads")), std::vector<std::string>{"clicks"});
}

TEST_P(CatalogConformance, EvolvesATableAndKeepsItsHistory) {
  catalog_.create_product({"sales", "", ""});
  TableDef def = append_table("orders", "v1");
  def.options_json = R"({"sort":"a"})";
  catalog_.create_table("sales", def);
  clock_.advance(10);
  const auto [v2, s2] = catalog_.evolve_table("sales", "orders", "v2", "");
  EXPECT_EQ(v2.schema_version, 2);
  EXPECT_EQ(v2.schema_json, "v2");
  EXPECT_EQ(v2.options_json, R"({"sort":"a"})");  // empty options keep the current ones
  EXPECT_EQ(s2.id, 2);
  EXPECT_EQ(s2.parent, 1);
  EXPECT_EQ(s2.operation, Operation::schema);
  const auto [v3, s3] = catalog_.evolve_table("sales", "orders", "v3", R"({"sort":"b"})");
  EXPECT_EQ(v3.schema_version, 3);
  EXPECT_EQ(s3.id, 3);

  const auto found = catalog_.find_table("sales", "orders");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->schema_version, 3);
  EXPECT_EQ(found->schema_json, "v3");
  EXPECT_EQ(found->options_json, R"({"sort":"b"})");
  EXPECT_EQ(found->created_snapshot, 1);

  const auto history = catalog_.schema_history("sales", "orders");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].version, 1);
  EXPECT_EQ(history[0].schema_json, "v1");
  EXPECT_EQ(history[0].snapshot_id, 1);
  EXPECT_EQ(history[0].created_unix_us, kStart);
  EXPECT_EQ(history[1].version, 2);
  EXPECT_EQ(history[1].snapshot_id, 2);
  EXPECT_EQ(history[1].created_unix_us, kStart + 10);
  EXPECT_EQ(history[2].schema_json, "v3");

  expect_error(ErrorCode::not_found, [&] { catalog_.evolve_table("sales", "nope", "x", ""); });
  expect_error(ErrorCode::invalid_input, [&] { catalog_.evolve_table("sales", "orders", "", ""); });
  expect_error(ErrorCode::not_found, [&] { catalog_.schema_history("sales", "nope"); });
}

TEST_P(CatalogConformance, DropRetiresFilesAndTheNameCanBeCreatedAgain) {
  catalog_.create_product({"sales", "", ""});
  const auto first = catalog_.create_table("sales", append_table("orders", "old")).first;
  catalog_.create_table("sales", append_table("returns"));
  catalog_.publish({add_files("sales", {new_file("orders", "o1"), new_file("returns", "r1")})}, {});

  const Snapshot dropped = catalog_.drop_table("sales", "orders");
  EXPECT_EQ(dropped.id, 4);
  EXPECT_EQ(dropped.operation, Operation::drop);
  EXPECT_NE(dropped.summary_json.find("\"files_removed\":1"), std::string::npos);
  EXPECT_FALSE(catalog_.find_table("sales", "orders").has_value());
  EXPECT_EQ(names_of(catalog_.list_tables("sales")), std::vector<std::string>{"returns"});
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 3, "")), (std::vector<std::string>{"o1", "r1"}));
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 4, "")), std::vector<std::string>{"r1"});
  const auto retired = catalog_.live_files("sales", 3, "orders");
  ASSERT_EQ(retired.size(), 1u);
  EXPECT_EQ(expect_removed_in(retired[0]), 4);
  expect_error(ErrorCode::not_found, [&] { catalog_.drop_table("sales", "orders"); });
  expect_error(ErrorCode::not_found,
               [&] { catalog_.publish({add_files("sales", {new_file("orders", "late")})}, {}); });

  // The dropped table's history is still readable until the name is reused.
  EXPECT_EQ(catalog_.schema_history("sales", "orders").size(), 1u);
  const auto again = catalog_.create_table("sales", append_table("orders", "new")).first;
  EXPECT_NE(again.id, first.id);
  EXPECT_EQ(again.schema_version, 1);
  EXPECT_EQ(again.created_snapshot, 5);
  const auto history = catalog_.schema_history("sales", "orders");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].schema_json, "new");
  EXPECT_TRUE(catalog_.live_files("sales", 5, "orders").empty());
}

TEST_P(CatalogConformance, TablesAtTravelsThroughSchemasDropsAndRecreation) {
  catalog_.create_product({"sales", "", ""});
  const auto a1 = catalog_.create_table("sales", append_table("a", "a-v1")).first;        // s1
  catalog_.evolve_table("sales", "a", "a-v2", R"({"o":2})");                              // s2
  catalog_.create_table("sales", append_table("b", "b-v1"));                              // s3
  catalog_.drop_table("sales", "a");                                                      // s4
  const auto a_again = catalog_.create_table("sales", append_table("a", "a2-v1")).first;  // s5

  EXPECT_TRUE(catalog_.tables_at("sales", 0).empty());
  auto at1 = catalog_.tables_at("sales", 1);
  ASSERT_EQ(at1.size(), 1u);
  EXPECT_EQ(at1[0].id, a1.id);
  EXPECT_EQ(at1[0].schema_version, 1);
  EXPECT_EQ(at1[0].schema_json, "a-v1");
  EXPECT_EQ(at1[0].options_json, "{}");
  EXPECT_EQ(at1[0].dropped_snapshot, 4);

  auto at2 = catalog_.tables_at("sales", 2);
  ASSERT_EQ(at2.size(), 1u);
  EXPECT_EQ(at2[0].schema_version, 2);
  EXPECT_EQ(at2[0].schema_json, "a-v2");
  EXPECT_EQ(at2[0].options_json, R"({"o":2})");

  auto at3 = catalog_.tables_at("sales", 3);
  EXPECT_EQ(names_of(at3), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(at3[0].schema_json, "a-v2");
  EXPECT_EQ(at3[1].schema_json, "b-v1");

  EXPECT_EQ(names_of(catalog_.tables_at("sales", 4)), std::vector<std::string>{"b"});

  auto at5 = catalog_.tables_at("sales", 5);
  ASSERT_EQ(names_of(at5), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(at5[0].id, a_again.id);
  EXPECT_EQ(at5[0].schema_json, "a2-v1");
  EXPECT_EQ(at5[0].schema_version, 1);
  EXPECT_FALSE(at5[0].dropped_snapshot.has_value());
  expect_error(ErrorCode::not_found, [&] { catalog_.tables_at("nope", 1); });
}

// --- publication -----------------------------------------------------------

TEST_P(CatalogConformance, SnapshotIdsCountPerProductIndependently) {
  catalog_.create_product({"a", "", ""});
  catalog_.create_product({"b", "", ""});
  Publication pa;
  pa.product = "a";
  Publication pb;
  pb.product = "b";

  auto first = catalog_.publish({pa, pb}, {});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].product, "a");
  EXPECT_EQ(first[0].id, 1);
  EXPECT_EQ(first[1].product, "b");
  EXPECT_EQ(first[1].id, 1);
  EXPECT_EQ(catalog_.publish({pa}, {})[0].id, 2);
  auto third = catalog_.publish({pa, pb, pa}, {});
  EXPECT_EQ(third[0].id, 3);
  EXPECT_EQ(third[0].parent, 2);
  EXPECT_EQ(third[1].id, 2);
  EXPECT_EQ(third[1].parent, 1);
  EXPECT_EQ(third[2].id, 4);  // a second publication of one product in one call
  EXPECT_EQ(third[2].parent, 3);

  EXPECT_EQ(catalog_.latest_snapshot("a")->id, 4);
  EXPECT_EQ(catalog_.latest_snapshot("b")->id, 2);
  EXPECT_FALSE(catalog_.latest_snapshot("nope").has_value());
  expect_error(ErrorCode::not_found, [&] {
    Publication unknown;
    unknown.product = "nope";
    catalog_.publish({unknown}, {});
  });
}

TEST_P(CatalogConformance, PublishesFilesIdempotencyKeysAndWatermarkTogether) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_table("sales", append_table("orders"));  // s1
  NewFile file = new_file("orders", "sales/orders/f1.parquet", 42);
  file.partition_json = R"({"day":"2024-05-01"})";
  file.stats.push_back({"amount", "1", "9", 0});
  file.stats.push_back({"note", std::nullopt, std::nullopt, 42});
  Publication publication = add_files("sales", {file});
  publication.idempotency = {{"orders", "key-1", 1}, {"orders", "key-2", 2}};
  publication.summary_json = R"({"records":2})";

  const auto snapshots = catalog_.publish({publication}, {{1, 2}});
  ASSERT_EQ(snapshots.size(), 1u);
  const Snapshot& s2 = snapshots[0];
  EXPECT_EQ(s2.id, 2);
  EXPECT_EQ(s2.parent, 1);
  EXPECT_EQ(s2.operation, Operation::ingest);
  EXPECT_EQ(s2.summary_json, R"({"records":2})");
  EXPECT_EQ(s2.watermark, 2u);
  EXPECT_EQ(catalog_.watermark(), 2u);

  const auto stored = catalog_.find_snapshot("sales", 2);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->watermark, 2u);
  EXPECT_EQ(stored->summary_json, R"({"records":2})");
  EXPECT_EQ(stored->committed_unix_us, s2.committed_unix_us);
  EXPECT_FALSE(catalog_.find_snapshot("sales", 3).has_value());

  const auto files = catalog_.live_files("sales", 2, "orders");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].product, "sales");
  EXPECT_EQ(files[0].table, "orders");
  EXPECT_EQ(files[0].path, "sales/orders/f1.parquet");
  EXPECT_EQ(files[0].partition_json, R"({"day":"2024-05-01"})");
  EXPECT_EQ(files[0].row_count, 42);
  EXPECT_EQ(files[0].bytes, 4200);
  EXPECT_EQ(files[0].added_snapshot, 2);
  EXPECT_FALSE(files[0].removed_snapshot.has_value());
  ASSERT_EQ(files[0].stats.size(), 2u);
  EXPECT_EQ(files[0].stats[0].max, "9");
  EXPECT_FALSE(files[0].stats[1].min.has_value());
  EXPECT_EQ(files[0].stats[1].null_count, 42);

  const auto hits = catalog_.find_idempotency("sales", "orders", {"key-1", "key-2", "key-3"});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits.at("key-1").position, 1u);
  EXPECT_EQ(hits.at("key-1").snapshot_id, 2);
  EXPECT_EQ(hits.at("key-2").position, 2u);
  EXPECT_TRUE(catalog_.find_idempotency("sales", "other", {"key-1"}).empty());
}

// Keys are any text: quotes, backslashes, commas and braces are one key each.
TEST_P(CatalogConformance, IdempotencyKeysOfAnyTextAreStoredFoundAndRefusedAgain) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_table("sales", append_table("orders"));  // s1
  const std::vector<std::string> keys = {"a\"b", "c\\d", "e,f", "{g}", "NULL", " h ", "ключ"};
  Publication publication = add_files("sales", {new_file("orders", "f1")});
  for (std::size_t i = 0; i < keys.size(); ++i) {
    publication.idempotency.push_back({"orders", keys[i], static_cast<bus::Position>(i + 1)});
  }
  catalog_.publish({publication}, {{1, keys.size()}});  // s2
  auto asked = keys;
  asked.push_back("e");
  asked.push_back("NULL ");
  const auto hits = catalog_.find_idempotency("sales", "orders", asked);
  ASSERT_EQ(hits.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(hits.count(keys[i])) << keys[i];
    EXPECT_EQ(hits.at(keys[i]).position, i + 1) << keys[i];
    EXPECT_EQ(hits.at(keys[i]).snapshot_id, 2) << keys[i];
  }
  // The same key again, alone or twice in one publication, is refused whole.
  Publication again = add_files("sales", {new_file("orders", "f2")});
  again.idempotency = {{"orders", "fresh", 20}, {"orders", "c\\d", 21}};
  expect_error(ErrorCode::conflict, [&] { catalog_.publish({again}, {{20, 21}}); });
  Publication twice = add_files("sales", {new_file("orders", "f3")});
  twice.idempotency = {{"orders", "new", 30}, {"orders", "new", 31}};
  expect_error(ErrorCode::conflict, [&] { catalog_.publish({twice}, {{30, 31}}); });
  EXPECT_TRUE(catalog_.find_idempotency("sales", "orders", {"fresh", "new"}).empty());
  EXPECT_EQ(catalog_.live_files("sales", catalog_.latest_snapshot("sales")->id, "orders").size(),
            1u);
}

TEST_P(CatalogConformance, LiveFilesFollowAddsAndRemovalsAcrossSnapshots) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_table("sales", append_table("orders"));   // s1
  catalog_.create_table("sales", append_table("returns"));  // s2
  catalog_.publish({add_files("sales", {new_file("orders", "o1"), new_file("returns", "r1")})},
                   {});                                                    // s3
  catalog_.publish({add_files("sales", {new_file("orders", "o2")})}, {});  // s4
  const auto at4 = catalog_.live_files("sales", 4, "orders");
  const std::int64_t o1 = at4[0].path == "o1" ? at4[0].id : at4[1].id;
  const auto removed = catalog_.publish({remove_files("sales", {o1})}, {});  // s5
  EXPECT_EQ(removed[0].id, 5);
  EXPECT_EQ(removed[0].operation, Operation::compact);

  EXPECT_TRUE(catalog_.live_files("sales", 2, "").empty());  // added in 3: invisible at 2
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 3, "")), (std::vector<std::string>{"o1", "r1"}));
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 3, "orders")), std::vector<std::string>{"o1"});
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 4, "orders")),
            (std::vector<std::string>{"o1", "o2"}));  // removed at 5: still visible at 4
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 5, "orders")), std::vector<std::string>{"o2"});
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 5, "")), (std::vector<std::string>{"o2", "r1"}));
  const auto old = catalog_.live_files("sales", 4, "orders");
  for (const auto& file : old) {
    if (file.path == "o1") {
      EXPECT_EQ(file.removed_snapshot, 5);
    }
  }
  EXPECT_TRUE(catalog_.live_files("sales", 5, "missing").empty());
  expect_error(ErrorCode::not_found, [&] { catalog_.live_files("nope", 1, ""); });
}

TEST_P(CatalogConformance, AFailedPublishChangesNothing) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_product({"ads", "", ""});
  catalog_.create_table("sales", append_table("orders"));  // sales s1
  catalog_.create_table("ads", append_table("clicks"));    // ads s1
  catalog_.publish({add_files("sales", {new_file("orders", "o1"), new_file("orders", "o2")})},
                   {{1, 1}});  // sales s2
  const auto files = catalog_.live_files("sales", 2, "orders");
  const std::int64_t o1 = files[0].path == "o1" ? files[0].id : files[1].id;
  const std::int64_t o2 = files[0].path == "o1" ? files[1].id : files[0].id;
  catalog_.publish({remove_files("sales", {o1})}, {});  // sales s3
  const std::int64_t data_files_before = count_rows("data_files");

  // The second publication removes o1 again: everything must roll back,
  // including ads' snapshot, the new files, o2's removal, the keys and ranges.
  Publication ads = add_files("ads", {new_file("clicks", "c1")});
  ads.idempotency = {{"clicks", "k-ads", 3}};
  Publication sales = add_files("sales", {new_file("orders", "o3")});
  sales.operation = Operation::compact;
  sales.removed_file_ids = {o2, o1};
  sales.idempotency = {{"orders", "k-sales", 4}};
  try {
    catalog_.publish({ads, sales}, {{2, 4}, {6, 9}});
    FAIL() << "expected a conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict) << e.what();
    EXPECT_EQ(e.details().at("file_id").as_int64(), o1);
    EXPECT_EQ(e.details().at("removed_snapshot").as_int64(), 3);
  }

  EXPECT_EQ(catalog_.latest_snapshot("sales")->id, 3);
  EXPECT_EQ(catalog_.latest_snapshot("ads")->id, 1);
  EXPECT_EQ(catalog_.watermark(), 1u);
  EXPECT_TRUE(catalog_.resolved_among({2, 3, 4, 6, 7}).empty());
  EXPECT_EQ(count_rows("data_files"), data_files_before);
  EXPECT_EQ(count_rows("resolved_ranges"), 0);
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 3, "")), std::vector<std::string>{"o2"});
  EXPECT_TRUE(catalog_.live_files("ads", 1, "").empty());
  EXPECT_TRUE(catalog_.find_idempotency("ads", "clicks", {"k-ads"}).empty());
  EXPECT_TRUE(catalog_.find_idempotency("sales", "orders", {"k-sales"}).empty());

  // And the catalog still works: the same publication without o1 goes through.
  sales.removed_file_ids = {o2};
  const auto snapshots = catalog_.publish({ads, sales}, {{2, 4}});
  EXPECT_EQ(snapshots[0].id, 2);
  EXPECT_EQ(snapshots[1].id, 4);
  EXPECT_EQ(catalog_.watermark(), 4u);
  EXPECT_EQ(paths_of(catalog_.live_files("sales", 4, "")), std::vector<std::string>{"o3"});
}

TEST_P(CatalogConformance, RemovingAnUnknownFileIsNotFound) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_product({"ads", "", ""});
  catalog_.create_table("ads", append_table("clicks"));
  catalog_.publish({add_files("ads", {new_file("clicks", "c1")})}, {});
  const std::int64_t ads_file = catalog_.live_files("ads", 2, "")[0].id;
  expect_error(ErrorCode::not_found, [&] { catalog_.publish({remove_files("sales", {999})}, {}); });
  // Another product's file is not this product's to remove.
  expect_error(ErrorCode::not_found,
               [&] { catalog_.publish({remove_files("sales", {ads_file})}, {}); });
  EXPECT_FALSE(catalog_.latest_snapshot("sales").has_value());
  EXPECT_EQ(catalog_.live_files("ads", 2, "").size(), 1u);
}

TEST_P(CatalogConformance, RefusesMalformedPublications) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_table("sales", append_table("orders"));
  expect_error(ErrorCode::invalid_input,
               [&] { catalog_.publish({add_files("sales", {new_file("orders", "")})}, {}); });
  expect_error(ErrorCode::invalid_input,
               [&] { catalog_.publish({add_files("sales", {new_file("orders", "x", -1)})}, {}); });
  Publication empty_key = add_files("sales", {});
  empty_key.idempotency = {{"orders", "", 1}};
  expect_error(ErrorCode::invalid_input, [&] { catalog_.publish({empty_key}, {}); });
  expect_error(ErrorCode::invalid_input, [&] { catalog_.publish({}, {{5, 4}}); });
  expect_error(ErrorCode::invalid_input, [&] { catalog_.publish({}, {{0, 4}}); });
  expect_error(ErrorCode::invalid_input, [&] {
    catalog_.resolve_positions({{1, ~bus::Position{0}}});
  });
  EXPECT_EQ(catalog_.latest_snapshot("sales")->id, 1);
}

// --- watermark -------------------------------------------------------------

TEST_P(CatalogConformance, WatermarkAdvancesOverOutOfOrderRanges) {
  EXPECT_EQ(catalog_.watermark(), 0u);
  catalog_.resolve_positions({{5, 7}});
  EXPECT_EQ(catalog_.watermark(), 0u);
  EXPECT_EQ(catalog_.resolved_among({1, 4, 5, 6, 7, 8}), (std::vector<bus::Position>{5, 6, 7}));
  catalog_.resolve_positions({{1, 4}});
  EXPECT_EQ(catalog_.watermark(), 7u);
  EXPECT_EQ(catalog_.resolved_among({0, 1, 7, 8}), (std::vector<bus::Position>{1, 7}));
  EXPECT_EQ(count_rows("resolved_ranges"), 0);

  // Adjacent and overlapping ranges merge; already resolved ones are ignored.
  catalog_.resolve_positions({{10, 12}, {14, 15}, {13, 13}, {11, 14}, {3, 6}});
  EXPECT_EQ(catalog_.watermark(), 7u);
  EXPECT_EQ(count_rows("resolved_ranges"), 1);
  EXPECT_EQ(catalog_.resolved_among({9, 10, 13, 15, 16}), (std::vector<bus::Position>{10, 13, 15}));
  catalog_.resolve_positions({{20, 20}});
  EXPECT_EQ(count_rows("resolved_ranges"), 2);
  catalog_.resolve_positions({{6, 9}});  // overlaps the watermark
  EXPECT_EQ(catalog_.watermark(), 15u);
  EXPECT_EQ(catalog_.resolved_among({16, 20, 21}), std::vector<bus::Position>{20});
  EXPECT_EQ(count_rows("resolved_ranges"), 1);
}

TEST_P(CatalogConformance, SnapshotsRecordTheWatermarkTheyLeave) {
  catalog_.create_product({"sales", "", ""});
  Publication publication;
  publication.product = "sales";
  EXPECT_EQ(catalog_.publish({publication}, {{3, 3}})[0].watermark, 0u);
  EXPECT_EQ(catalog_.publish({publication}, {{1, 2}})[0].watermark, 3u);
  catalog_.resolve_positions({{4, 10}});
  EXPECT_EQ(catalog_.publish({publication}, {})[0].watermark, 10u);
  EXPECT_EQ(catalog_.find_snapshot("sales", 2)->watermark, 3u);
}

// Two coordinators holding the same records (one's lease expired mid-commit)
// cannot both publish them: the second publication is refused whole.
TEST_P(CatalogConformance, PublishRefusesPositionsAlreadyResolved) {
  catalog_.create_product({"sales", "", ""});
  catalog_.create_table("sales", append_table("orders"));
  const std::int64_t published =
      catalog_.publish({add_files("sales", {new_file("orders", "first")})}, {{1, 3}})[0].id;
  catalog_.resolve_positions({{6, 8}});

  for (const PositionRange& taken :
       {PositionRange{2, 4}, PositionRange{5, 6}, PositionRange{8, 9}}) {
    try {
      catalog_.publish({add_files("sales", {new_file("orders", "again")})}, {taken});
      ADD_FAILURE() << "publication of " << taken.first << ".." << taken.last << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::conflict);
      EXPECT_NE(std::string(e.what()).find("already resolved"), std::string::npos) << e.what();
    }
  }
  // Nothing of the refused publications was written.
  EXPECT_EQ(catalog_.latest_snapshot("sales")->id, published);
  EXPECT_EQ(catalog_.watermark(), 3u);
  EXPECT_TRUE(catalog_.resolved_among({4, 5, 9}).empty());
  // Positions nobody resolved yet still publish; dead letters and dropped
  // duplicates may be resolved again without harm.
  EXPECT_EQ(
      catalog_.publish({add_files("sales", {new_file("orders", "next")})}, {{4, 5}})[0].watermark,
      8u);
  catalog_.resolve_positions({{2, 9}});
  EXPECT_EQ(catalog_.watermark(), 9u);
}

// --- idempotency -----------------------------------------------------------

TEST_P(CatalogConformance, IdempotencyKeysExpireAndArePurged) {
  auto second = open(/*window_us=*/100);  // a second instance, tiny window
  CatalogRepo& catalog = *second;
  catalog.create_product({"sales", "", ""});
  catalog.create_table("sales", append_table("orders"));
  Publication publication;
  publication.product = "sales";
  publication.idempotency = {{"orders", "a", 1}, {"orders", "b", 2}};
  clock_.set(kStart + 1000);
  const auto published = catalog.publish({publication}, {});
  ASSERT_EQ(published[0].committed_unix_us, kStart + 1000);  // keys expire at kStart + 1100

  clock_.advance(99);
  EXPECT_EQ(catalog.find_idempotency("sales", "orders", {"a", "b"}).size(), 2u);
  EXPECT_EQ(catalog.purge_idempotency(clock_.now()), 0u);

  // A key still remembered cannot be committed a second time.
  Publication again;
  again.product = "sales";
  again.idempotency = {{"orders", "a", 7}};
  expect_error(ErrorCode::conflict, [&] { catalog.publish({again}, {}); });
  EXPECT_EQ(catalog.latest_snapshot("sales")->id, 2);

  clock_.advance(1);
  EXPECT_TRUE(catalog.find_idempotency("sales", "orders", {"a", "b"}).empty());
  // An expired key may be recorded again (before the purge removed it).
  const auto snapshot = catalog.publish({again}, {});
  const auto hits = catalog.find_idempotency("sales", "orders", {"a", "b"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits.at("a").position, 7u);
  EXPECT_EQ(hits.at("a").snapshot_id, snapshot[0].id);

  EXPECT_EQ(catalog.purge_idempotency(clock_.now()), 1u);  // "b"
  EXPECT_EQ(count_rows("idempotency"), 1);
  EXPECT_EQ(catalog.purge_idempotency(clock_.now() + 1000), 1u);  // "a"
  EXPECT_EQ(count_rows("idempotency"), 0);
  expect_error(ErrorCode::not_found, [&] { catalog.find_idempotency("nope", "orders", {"a"}); });
}

TEST_P(CatalogConformance, RequestAnswersAreKeptForTheWindowFirstOneWins) {
  auto second = open(/*window_us=*/100);  // a second instance, tiny window
  CatalogRepo& catalog = *second;
  catalog.create_product({"sales", "", ""});
  catalog.create_product({"hr", "", ""});
  clock_.set(kStart);
  EXPECT_FALSE(catalog.find_request("sales", "orders", "req-1").has_value());

  const RequestAnswer first{0xfedcba9876543210ULL, R"({"accepted":3})"};
  const RequestAnswer other{7, R"({"accepted":0})"};
  // A key twice in one call, and in a later call: the first answer stays.
  catalog.remember_requests({{"sales", "orders", "req-1", first},
                             {"hr", "orders", "req-1", other},
                             {"sales", "orders", "req-1", other}});
  catalog.remember_requests({{"sales", "orders", "req-1", other}});
  auto found = catalog.find_request("sales", "orders", "req-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->fingerprint, first.fingerprint);
  EXPECT_EQ(found->answer_json, first.answer_json);
  // Keys are per product and table.
  EXPECT_EQ(catalog.find_request("hr", "orders", "req-1")->fingerprint, 7u);
  EXPECT_FALSE(catalog.find_request("sales", "refunds", "req-1").has_value());

  clock_.advance(50);
  catalog.remember_requests({{"sales", "orders", "req-2", {8, R"({"accepted":1})"}}});
  clock_.advance(50);  // the first ones expired: not found, and the key is free again
  EXPECT_FALSE(catalog.find_request("sales", "orders", "req-1").has_value());
  catalog.remember_requests({{"sales", "orders", "req-1", other}});
  found = catalog.find_request("sales", "orders", "req-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->fingerprint, 7u);

  EXPECT_EQ(count_rows("request_answers"), 3);
  EXPECT_EQ(catalog.purge_idempotency(clock_.now()), 1u);  // hr's
  EXPECT_EQ(catalog.purge_idempotency(clock_.now() + 100), 2u);
  EXPECT_EQ(count_rows("request_answers"), 0);

  // An unknown product fails the whole call.
  expect_error(ErrorCode::not_found, [&] {
    catalog.remember_requests({{"sales", "orders", "a", first}, {"nope", "orders", "b", first}});
  });
  EXPECT_FALSE(catalog.find_request("sales", "orders", "a").has_value());
  expect_error(ErrorCode::not_found, [&] { catalog.find_request("nope", "orders", "k"); });
  expect_error(ErrorCode::invalid_input, [&] {
    catalog.remember_requests({{"sales", "orders", "", first}});
  });
}

TEST_P(CatalogConformance, AKeyRepeatedInOnePublicationIsAConflict) {
  catalog_.create_product({"sales", "", ""});
  Publication publication;
  publication.product = "sales";
  publication.idempotency = {{"orders", "a", 1}, {"orders", "a", 2}};
  expect_error(ErrorCode::conflict, [&] { catalog_.publish({publication}, {}); });
  EXPECT_FALSE(catalog_.latest_snapshot("sales").has_value());
}

// --- time ------------------------------------------------------------------

TEST_P(CatalogConformance, SnapshotAsOfAndAClockGoingBack) {
  catalog_.create_product({"sales", "", ""});
  Publication publication;
  publication.product = "sales";
  catalog_.publish({publication}, {});  // s1 at kStart
  clock_.advance(100);
  catalog_.publish({publication}, {});  // s2 at kStart + 100
  clock_.advance(100);
  catalog_.publish({publication}, {});  // s3 at kStart + 200

  EXPECT_FALSE(catalog_.snapshot_as_of("sales", kStart - 1).has_value());
  EXPECT_EQ(catalog_.snapshot_as_of("sales", kStart)->id, 1);
  EXPECT_EQ(catalog_.snapshot_as_of("sales", kStart + 150)->id, 2);
  EXPECT_EQ(catalog_.snapshot_as_of("sales", kStart + 200)->id, 3);
  EXPECT_EQ(catalog_.snapshot_as_of("sales", kStart + 1'000'000)->id, 3);
  EXPECT_FALSE(catalog_.snapshot_as_of("nope", kStart).has_value());

  clock_.set(kStart - 5000);  // the clock jumps back
  const auto s4 = catalog_.publish({publication}, {})[0];
  EXPECT_EQ(s4.committed_unix_us, kStart + 201);
  const auto s5 = catalog_.publish({publication}, {})[0];  // same clock reading
  EXPECT_EQ(s5.committed_unix_us, kStart + 202);
  EXPECT_EQ(catalog_.snapshot_as_of("sales", kStart + 201)->id, 4);
}

TEST_P(CatalogConformance, ListsSnapshotsNewestFirstInPages) {
  catalog_.create_product({"sales", "", ""});
  Publication publication;
  publication.product = "sales";
  for (int i = 0; i < 5; ++i) catalog_.publish({publication}, {});

  auto ids = [](const std::vector<Snapshot>& snapshots) {
    std::vector<std::int64_t> out;
    for (const auto& s : snapshots) out.push_back(s.id);
    return out;
  };
  EXPECT_EQ(ids(catalog_.list_snapshots("sales", 2, 0)), (std::vector<std::int64_t>{5, 4}));
  EXPECT_EQ(ids(catalog_.list_snapshots("sales", 2, 4)), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(ids(catalog_.list_snapshots("sales", 2, 2)), std::vector<std::int64_t>{1});
  EXPECT_TRUE(catalog_.list_snapshots("sales", 2, 1).empty());
  EXPECT_TRUE(catalog_.list_snapshots("sales", 0, 0).empty());
  EXPECT_EQ(catalog_.list_snapshots("sales", 100, 0).size(), 5u);
  expect_error(ErrorCode::not_found, [&] { catalog_.list_snapshots("nope", 10, 0); });
  expect_error(ErrorCode::invalid_input, [&] { catalog_.list_snapshots("sales", 10, -1); });
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogConformance,
                         ::testing::Values(Backend::sqlite, Backend::postgres),
                         testing::backend_name);

}  // namespace
}  // namespace duckmesh::catalog
