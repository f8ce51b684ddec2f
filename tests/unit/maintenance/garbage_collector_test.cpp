#include "maintenance/garbage_collector.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "maintenance/compactor.hpp"
#include "maintenance_test_support.hpp"

namespace duckmesh::maintenance {
namespace {

using testing::NodeFixture;

constexpr std::int64_t kHourUs = std::int64_t{3600} * 1'000'000;

class GarbageCollectorTest : public NodeFixture {
 protected:
  // Ingests `batches` one-row batches into orders and compacts them into one file.
  void ingest_and_compact(int batches, int first_id = 0) {
    for (int i = 0; i < batches; ++i) {
      ingest("orders", {"{\"id\": " + std::to_string(first_id + i) + "}"});
    }
    Compactor compactor(node_->catalog(), node_->store());
    ASSERT_EQ(compactor.compact_table("shop", "orders").outcome, CompactionOutcome::compacted);
  }

  bool exists(const std::string& key) { return node_->store().stat(key).has_value(); }

  // Every file of every kept snapshot is still in the store.
  void expect_kept_snapshots_readable() {
    for (const auto& s : node_->catalog().list_snapshots("shop", 1000, 0)) {
      for (const auto& f : node_->catalog().live_files("shop", s.id, "")) {
        EXPECT_TRUE(exists(f.path)) << "snapshot " << s.id << " lost " << f.path;
      }
    }
  }

  GcReport gc(std::int64_t now_us, std::chrono::seconds grace = std::chrono::seconds(3600),
              bool dry_run = false) {
    GcOptions options;
    options.grace = grace;
    options.dry_run = dry_run;
    return collect_garbage(node_->catalog(), node_->store(), options, now_us);
  }

  std::vector<ProductExpiry> expire(std::size_t keep, std::chrono::seconds max_age,
                                    std::int64_t now_us, bool dry_run = false) {
    RetentionOptions options;
    options.keep_at_least = keep;
    options.max_age = max_age;
    return expire_snapshots(node_->catalog(), options, "shop", dry_run, now_us);
  }
};

TEST_F(GarbageCollectorTest, ExpiryKeepsTheNewestAndWhatIsYoungEnough) {
  create_append("orders");
  for (int i = 0; i < 6; ++i) ingest("orders", {"{\"id\": " + std::to_string(i) + "}"});
  const auto newest = latest();  // 7 snapshots: create table + 6 ingests
  ASSERT_EQ(newest, 7);
  // Everything is younger than a day: nothing expires by age.
  auto none = expire(2, std::chrono::seconds(86'400), now_unix_us());
  EXPECT_EQ(none.at(0).result.expired, 0);
  EXPECT_EQ(node_->catalog().oldest_snapshot("shop")->id, 1);
  // A dry run says what would go and changes nothing.
  auto dry = expire(3, std::chrono::seconds(0), now_unix_us() + 1, true);
  EXPECT_EQ(dry.at(0).result.expired, 4);
  EXPECT_EQ(dry.at(0).result.oldest_kept.value_or(0), 5);
  EXPECT_EQ(node_->catalog().oldest_snapshot("shop")->id, 1);
  // Age 0 and keep 3: the three newest stay.
  auto done = expire(3, std::chrono::seconds(0), now_unix_us() + 1);
  EXPECT_EQ(done.at(0).result.expired, 4);
  EXPECT_EQ(node_->catalog().oldest_snapshot("shop")->id, 5);
  EXPECT_FALSE(node_->catalog().find_snapshot("shop", 4).has_value());
  EXPECT_TRUE(node_->catalog().find_snapshot("shop", 5).has_value());
  // Append-only files are all still live: nothing is unreferenced, the data is whole.
  EXPECT_EQ(done.at(0).result.files_unreferenced, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "6");
  // The table created in an expired snapshot still reads at the kept ones.
  EXPECT_EQ(scalar("SELECT count(*) FROM orders", 5), "4");
  // New snapshots keep counting from the newest.
  ingest("orders", {R"({"id": 99})"});
  EXPECT_EQ(latest(), newest + 1);
}

TEST_F(GarbageCollectorTest, GcNeverDeletesAFileAPinnedReaderOrAKeptSnapshotNeeds) {
  create_append("orders");
  ingest_and_compact(5);
  const auto pinned = latest() - 1;  // the last ingest snapshot: five small files
  auto old_files = files("orders", pinned);
  ASSERT_EQ(old_files.size(), 5u);

  // A reader resolves the old snapshot and binds its files...
  duck::Database db(":memory:", {});
  duck::Connection reader(db);
  query::bind_snapshot(reader, node_->catalog(), node_->store(), "shop", pinned, {});

  // ...gc with nothing expired deletes nothing...
  EXPECT_TRUE(gc(now_unix_us() + 10 * kHourUs).items.empty());
  for (const auto& f : old_files) EXPECT_TRUE(exists(f.path));

  // ...then expiry forgets the reader's snapshot, while gc runs inside the grace period.
  auto expired = expire(1, std::chrono::seconds(0), now_unix_us() + 1);
  EXPECT_EQ(expired.at(0).result.files_unreferenced, 5);
  EXPECT_TRUE(gc(now_unix_us()).items.empty());
  EXPECT_EQ(rows_of(reader, "SELECT count(*), sum(id) FROM orders").at(0),
            (std::vector<std::string>{"5", "10"}));
  expect_kept_snapshots_readable();

  // After the grace period the five old files go, and nothing else.
  auto report = gc(now_unix_us() + 2 * kHourUs);
  ASSERT_EQ(report.items.size(), 5u);
  std::uint64_t bytes = 0;
  for (const auto& f : old_files) bytes += static_cast<std::uint64_t>(f.bytes);
  EXPECT_EQ(report.bytes, bytes);
  for (const auto& item : report.items) EXPECT_EQ(item.reason, "unreferenced");
  for (const auto& f : old_files) EXPECT_FALSE(exists(f.path));
  expect_kept_snapshots_readable();
  EXPECT_EQ(scalar("SELECT count(*) || ':' || sum(id) FROM orders"), "5:10");
  // The catalog forgot them; a second pass finds nothing.
  EXPECT_TRUE(gc(now_unix_us() + 3 * kHourUs).items.empty());
}

TEST_F(GarbageCollectorTest, ReadersRacingExpiryAndGcAlwaysSeeWholeSnapshots) {
  create_append("orders");
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::thread readers([&] {
    while (!stop) {
      // Resolve the latest snapshot and read it; the grace period (an hour)
      // covers the time between resolving and reading.
      auto s = node_->catalog().latest_snapshot("shop")->id;
      auto rows = query("SELECT count(*), count(DISTINCT id) FROM orders", s);
      EXPECT_EQ(rows.at(0).at(0), rows.at(0).at(1));
      ++reads;
    }
  });
  Compactor compactor(node_->catalog(), node_->store());
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 3; ++i)
      ingest("orders", {"{\"id\": " + std::to_string(round * 3 + i) + "}"});
    compactor.compact_table("shop", "orders");
    expire(1, std::chrono::seconds(0), now_unix_us() + 1);
    gc(now_unix_us());  // inside the grace period of what expiry just released
    expect_kept_snapshots_readable();
  }
  stop = true;
  readers.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "30");
}

TEST_F(GarbageCollectorTest, DryRunListsWhatWouldGoAndDeletesNothing) {
  create_append("orders");
  ingest_and_compact(3);
  expire(1, std::chrono::seconds(0), now_unix_us() + 1);
  node_->store().put("products/shop/tables/orders/data/orphan.parquet", "not published");
  const auto later = now_unix_us() + 2 * kHourUs;
  auto objects_before = node_->store().list("products/");
  auto dry = gc(later, std::chrono::seconds(0), true);
  EXPECT_TRUE(dry.dry_run);
  EXPECT_EQ(dry.items.size(), 4u);  // three retired files and the orphan
  EXPECT_GT(dry.bytes, 0u);
  EXPECT_EQ(node_->store().list("products/").size(), objects_before.size());
  // A real run deletes exactly what the dry run listed.
  auto real = gc(later, std::chrono::seconds(0));
  ASSERT_EQ(real.items.size(), dry.items.size());
  for (std::size_t i = 0; i < real.items.size(); ++i) {
    EXPECT_EQ(real.items[i].key, dry.items[i].key);
  }
  EXPECT_EQ(real.bytes, dry.bytes);
  EXPECT_EQ(node_->store().list("products/").size(), objects_before.size() - 4);
}

TEST_F(GarbageCollectorTest, OrphansGoOnlyAfterTheGracePeriod) {
  create_append("orders");
  ingest("orders", {R"({"id": 1})"});
  const std::string orphan = "products/shop/tables/orders/data/crashed-write.parquet";
  node_->store().put(orphan, "half a write");
  // A scratch file left by a crashed write.
  auto scratch = node_->store().scratch_dir() / "write-1-1.parquet";
  std::ofstream(scratch) << "partial";

  // Young: kept, whatever the grace.
  EXPECT_TRUE(gc(now_unix_us(), std::chrono::seconds(60)).items.empty());
  EXPECT_TRUE(exists(orphan));
  EXPECT_TRUE(std::filesystem::exists(scratch));

  // Older than the grace period: deleted; published files stay.
  auto report = gc(now_unix_us() + 120 * 1'000'000, std::chrono::seconds(60));
  std::set<std::string> reasons;
  for (const auto& item : report.items) reasons.insert(item.reason);
  EXPECT_EQ(report.items.size(), 2u);
  EXPECT_EQ(reasons, (std::set<std::string>{"orphan", "scratch"}));
  EXPECT_FALSE(exists(orphan));
  EXPECT_FALSE(std::filesystem::exists(scratch));
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "1");
}

TEST_F(GarbageCollectorTest, DroppedTablesLoseTheirDataOnceTheDropIsTheOldestSnapshot) {
  create_append("orders");
  ingest("orders", {R"({"id": 1})"});
  ingest("orders", {R"({"id": 2})"});
  auto dropped = files("orders");
  node_->catalog().drop_table("shop", "orders");
  // Keeping the snapshots before the drop keeps its files.
  expire(2, std::chrono::seconds(0), now_unix_us() + 1);
  EXPECT_TRUE(gc(now_unix_us() + 2 * kHourUs).items.empty());
  // Once the drop snapshot is the oldest, nothing reads them.
  expire(1, std::chrono::seconds(0), now_unix_us() + 1);
  auto report = gc(now_unix_us() + 2 * kHourUs);
  EXPECT_EQ(report.items.size(), 2u);
  for (const auto& f : dropped) EXPECT_FALSE(exists(f.path));
}

}  // namespace
}  // namespace duckmesh::maintenance
