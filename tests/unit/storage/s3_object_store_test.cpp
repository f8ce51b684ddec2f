// The S3 store against a real S3-compatible server on loopback.
#include "storage/s3/s3_object_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/error.hpp"
#include "support/s3_server.hpp"
#include "support/service_process.hpp"

namespace duckmesh::storage {
namespace {

using testing::S3Server;
using testing::TempDir;

class S3StoreTest : public ::testing::Test {
 protected:
  S3StoreTest() : server_(dir_.path() / "s3", "duckmesh") {}

  S3Options options(const std::string& cache = "cache") {
    S3Options o;
    o.endpoint = server_.endpoint();
    o.bucket = server_.bucket();
    o.prefix = "lake";
    o.credentials = {"S3RVER", "S3RVER", ""};
    o.cache_dir = dir_.path() / cache;
    o.base_backoff = std::chrono::milliseconds(10);
    o.max_attempts = 3;
    o.connect_timeout = std::chrono::milliseconds(500);
    return o;
  }

  TempDir dir_;
  S3Server server_;
};

TEST_F(S3StoreTest, PutGetStatListRemoveRoundTrip) {
  S3ObjectStore store(options());
  store.put("products/p/tables/t/data/at=2026-11-25/a b.parquet", "first");
  store.put("products/p/tables/t/data/b.parquet", std::string(100'000, 'x'));
  store.put("products/q/other", "q");
  EXPECT_EQ(store.get("products/p/tables/t/data/at=2026-11-25/a b.parquet"), "first");
  EXPECT_EQ(store.get("products/p/tables/t/data/b.parquet").size(), 100'000u);

  auto info = store.stat("products/p/tables/t/data/b.parquet");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 100'000u);
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  EXPECT_LT(std::llabs(info->modified_unix_ms - now_ms), 120'000);
  EXPECT_FALSE(store.stat("products/p/missing"));

  auto listed = store.list("products/p/");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].key, "products/p/tables/t/data/at=2026-11-25/a b.parquet");
  EXPECT_EQ(listed[1].key, "products/p/tables/t/data/b.parquet");
  EXPECT_EQ(listed[1].size, 100'000u);
  EXPECT_EQ(store.list("").size(), 3u);

  store.remove("products/p/tables/t/data/b.parquet");
  store.remove("products/p/tables/t/data/b.parquet");  // idempotent
  EXPECT_FALSE(store.stat("products/p/tables/t/data/b.parquet"));
  try {
    store.get("products/p/tables/t/data/b.parquet");
    FAIL() << "expected not_found";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST_F(S3StoreTest, AnExistingKeyIsNeverOverwritten) {
  S3ObjectStore store(options());
  store.put("k/one", "original");
  try {
    store.put("k/one", "replacement");
    FAIL() << "expected conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
  EXPECT_EQ(store.get("k/one"), "original");
  EXPECT_THROW(store.put("../escape", "x"), Error);
}

TEST_F(S3StoreTest, LocalCopiesAreCachedAndEvictedLeastRecentlyUsedFirst) {
  auto o = options();
  o.cache_bytes = 2500;
  S3ObjectStore writer(options("writer-cache"));
  for (const char* k : {"f/a", "f/b", "f/c"}) writer.put(k, std::string(1000, k[2]));

  S3ObjectStore store(o);
  auto a = store.local_path("f/a");
  auto b = store.local_path("f/b");
  std::ifstream in(a);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, std::string(1000, 'a'));
  EXPECT_EQ(store.cached_bytes(), 2000u);
  store.local_path("f/a");           // a is now the most recent
  auto c = store.local_path("f/c");  // over 2500 bytes: b goes
  EXPECT_TRUE(std::filesystem::exists(a));
  EXPECT_FALSE(std::filesystem::exists(b));
  EXPECT_TRUE(std::filesystem::exists(c));
  EXPECT_EQ(store.cached_bytes(), 2000u);

  // An uploaded file becomes the cached copy; removing the object drops it.
  auto source = store.scratch_dir() / "upload.bin";
  { std::ofstream(source) << "uploaded"; }
  store.put_file("f/d", source);
  EXPECT_FALSE(std::filesystem::exists(source));
  auto d = store.local_path("f/d");
  EXPECT_EQ(std::filesystem::file_size(d), 8u);
  store.remove("f/d");
  EXPECT_FALSE(std::filesystem::exists(d));
}

// s3rver refuses unknown access keys (it does not recompute signatures; the
// signing itself is checked against Amazon's published example in
// sigv4_test.cpp). A refusal is not retried and names S3's code.
TEST_F(S3StoreTest, ARefusedRequestIsReportedWithTheServersCode) {
  auto o = options();
  o.credentials.access_key = "UNKNOWN";
  S3ObjectStore store(o);
  try {
    store.put("k/x", "x");
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(std::string(e.what()).find("403"), std::string::npos) << e.what();
  }
}

TEST_F(S3StoreTest, AStoppedServerIsUnavailableAfterRetriesAndWorksAgainWhenBack) {
  S3ObjectStore store(options());
  store.put("k/before", "1");
  server_.stop();
  auto started = std::chrono::steady_clock::now();
  try {
    store.get("k/before");
    FAIL() << "expected unavailable";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(std::string(e.what()).find("3 attempts"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  server_.start();
  EXPECT_EQ(store.get("k/before"), "1");
}

TEST(S3StoreOptions, BadSettingsAreRefusedByName) {
  S3Options o;
  o.endpoint = "127.0.0.1:9000";
  o.bucket = "b";
  o.credentials = {"a", "b", ""};
  o.cache_dir = "/tmp/unused";
  EXPECT_THROW(S3ObjectStore{o}, Error);
  o.endpoint = "http://127.0.0.1:9000";
  o.bucket.clear();
  EXPECT_THROW(S3ObjectStore{o}, Error);
}

}  // namespace
}  // namespace duckmesh::storage
