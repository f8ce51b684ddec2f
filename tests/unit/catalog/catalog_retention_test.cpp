// Snapshot expiry and the file bookkeeping of garbage collection, against
// every backend.
#include <gtest/gtest.h>

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
constexpr std::int64_t kSecond = 1'000'000;

class CatalogRetention : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    testing::OpenSettings settings;
    settings.clock = clock_.function();
    catalog_ = store_.open(settings);
    catalog_->create_product({"shop", "", ""});
    catalog_->create_table("shop", append_table("orders"));  // snapshot 1
  }
  std::int64_t publish(Publication p) {
    clock_.advance(kSecond);
    return catalog_->publish({std::move(p)}, {}).at(0).id;
  }

  CatalogStore store_{GetParam()};
  ManualClock clock_{kStart};
  std::unique_ptr<CatalogRepo> catalog_;
};

TEST_P(CatalogRetention, AgeAndCountBothHaveToLetASnapshotGo) {
  for (int i = 0; i < 5; ++i)
    publish(add_files("shop", {new_file("orders", "f" + std::to_string(i))}));
  // Snapshots 1..6, one second apart from kStart. Only 1 and 2 are older than kStart + 1.5 s.
  auto result = catalog_->expire_snapshots("shop", 2, kStart + 3 * kSecond / 2, false);
  EXPECT_EQ(result.expired, 2);
  EXPECT_EQ(result.oldest_kept.value_or(0), 3);
  // Count wins over age: with keep 5 nothing of the remaining four goes.
  result = catalog_->expire_snapshots("shop", 5, kStart + 100 * kSecond, false);
  EXPECT_EQ(result.expired, 0);
  EXPECT_EQ(result.oldest_kept.value_or(0), 3);
  EXPECT_EQ(catalog_->oldest_snapshot("shop")->id, 3);
  EXPECT_EQ(catalog_->latest_snapshot("shop")->id, 6);
}

TEST_P(CatalogRetention, FilesBecomeCollectableOnlyWhenNoKeptSnapshotListsThem) {
  const auto s2 = publish(add_files("shop", {new_file("orders", "a"), new_file("orders", "b")}));
  auto live = catalog_->live_files("shop", s2, "orders");
  ASSERT_EQ(live.size(), 2u);
  const auto s3 = publish(remove_files("shop", {live[0].id}));
  publish(add_files("shop", {new_file("orders", "c")}));  // s4

  // Keeping s2 keeps 'a' needed.
  catalog_->expire_snapshots("shop", 3, kStart + 100 * kSecond, false);
  EXPECT_TRUE(catalog_->collectable_files("shop", kStart + 100 * kSecond).empty());
  // Once s3 (which retired 'a') is the oldest, 'a' is unreferenced from now on.
  clock_.advance(10 * kSecond);
  const auto marked_at = clock_.now();
  auto result = catalog_->expire_snapshots("shop", 2, kStart + 100 * kSecond, false);
  EXPECT_EQ(result.oldest_kept.value_or(0), s3);
  EXPECT_EQ(result.files_unreferenced, 1);
  EXPECT_TRUE(catalog_->collectable_files("shop", marked_at - 1).empty());
  auto collectable = catalog_->collectable_files("shop", marked_at);
  ASSERT_EQ(collectable.size(), 1u);
  EXPECT_EQ(collectable[0].path, "a");
  // Forgetting ignores files that are still referenced.
  EXPECT_EQ(catalog_->forget_files("shop", {live[0].id, live[1].id}), 1u);
  auto known = catalog_->known_file_paths();
  EXPECT_EQ(known, (std::vector<std::string>{"b", "c"}));
  // Expiring again marks nothing twice.
  EXPECT_EQ(catalog_->expire_snapshots("shop", 2, kStart + 100 * kSecond, false).files_unreferenced,
            0);
}

TEST_P(CatalogRetention, RefusesToExpireTheNewestSnapshotAndUnknownProducts) {
  try {
    catalog_->expire_snapshots("shop", 0, kStart + 100 * kSecond, false);
    ADD_FAILURE() << "expected invalid_input";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  }
  try {
    catalog_->expire_snapshots("nope", 1, kStart, false);
    ADD_FAILURE() << "expected not_found";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  auto result = catalog_->expire_snapshots("shop", 1, kStart + 100 * kSecond, false);
  EXPECT_EQ(result.expired, 0);  // the only snapshot is the newest
  EXPECT_EQ(catalog_->latest_snapshot("shop")->id, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogRetention,
                         ::testing::Values(Backend::sqlite, Backend::postgres),
                         testing::backend_name);

}  // namespace
}  // namespace duckmesh::catalog
