// The ObjectStore contract (storage/object_store.hpp), run against every
// backend: a local directory, and a real S3-compatible server (s3rver on
// loopback, one per test so no test sees another's objects). What only one
// backend does (rename within a filesystem, the S3 cache, retries, racing
// writers of one key, which s3rver cannot refuse since it has no conditional
// writes) is tested beside that backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "storage/local/local_object_store.hpp"
#include "storage/object_store.hpp"
#include "storage/s3/s3_object_store.hpp"
#include "support/error_code.hpp"
#include "support/s3_server.hpp"
#include "support/service_process.hpp"

namespace duckmesh::storage {
namespace {

namespace fs = std::filesystem;
using testing::S3Server;
using testing::TempDir;

enum class Backend { local, s3 };

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::local ? "local" : "s3";
}

using duckmesh::testing::code_of;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ObjectStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::local) {
      store_ = std::make_unique<LocalObjectStore>(dir_.path() / "store");
      return;
    }
    server_.emplace(dir_.path() / "s3", "conformance");
    S3Options o;
    o.endpoint = server_->endpoint();
    o.bucket = server_->bucket();
    o.prefix = "lake";
    o.credentials = {"S3RVER", "S3RVER", ""};
    o.cache_dir = dir_.path() / "cache";
    o.base_backoff = std::chrono::milliseconds(10);
    o.max_attempts = 3;
    o.connect_timeout = std::chrono::milliseconds(1000);
    store_ = std::make_unique<S3ObjectStore>(o);
  }

  // A finished file in the store's scratch area, as the coordinator makes.
  fs::path scratch_file(const std::string& name, const std::string& bytes) {
    auto path = store_->scratch_dir() / name;
    std::ofstream out(path, std::ios::binary);
    out << bytes;
    return path;
  }

  TempDir dir_;
  std::optional<S3Server> server_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreConformance, PutGetStatRoundTrip) {
  auto& store = *store_;
  const std::string bytes("binary\0bytes\xff", 13);
  store.put("products/p/tables/t/data/a.parquet", bytes);
  EXPECT_EQ(store.get("products/p/tables/t/data/a.parquet"), bytes);
  auto info = store.stat("products/p/tables/t/data/a.parquet");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->key, "products/p/tables/t/data/a.parquet");
  EXPECT_EQ(info->size, 13u);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_LT(std::llabs(info->modified_unix_ms - now_ms), 120'000);
}

TEST_P(ObjectStoreConformance, AnEmptyObjectIsAnObject) {
  store_->put("e/empty", "");
  EXPECT_EQ(store_->get("e/empty"), "");
  ASSERT_TRUE(store_->stat("e/empty").has_value());
  EXPECT_EQ(store_->stat("e/empty")->size, 0u);
  EXPECT_EQ(store_->list("e/").size(), 1u);
}

TEST_P(ObjectStoreConformance, MissingObjectsAreNotFoundOrAbsent) {
  EXPECT_EQ(code_of([&] { (void)store_->get("no/such"); }), ErrorCode::not_found);
  EXPECT_FALSE(store_->stat("no/such").has_value());
  EXPECT_TRUE(store_->list("no/").empty());
}

TEST_P(ObjectStoreConformance, AnExistingKeyIsAConflictAndKeepsTheFirstObject) {
  store_->put("k/once", "first");
  EXPECT_EQ(code_of([&] { store_->put("k/once", "second"); }), ErrorCode::conflict);
  auto file = scratch_file("again", "third");
  EXPECT_EQ(code_of([&] { store_->put_file("k/once", file); }), ErrorCode::conflict);
  EXPECT_EQ(store_->get("k/once"), "first");
}

TEST_P(ObjectStoreConformance, PutFileConsumesTheSourceAndReadsBackLocally) {
  auto file = scratch_file("part-1", "parquet bytes");
  store_->put_file("products/p/tables/t/data/f.parquet", file);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(store_->get("products/p/tables/t/data/f.parquet"), "parquet bytes");
  // DuckDB reads a local path, which lies below the product's local directory.
  auto local = store_->local_path("products/p/tables/t/data/f.parquet");
  EXPECT_EQ(read_file(local), "parquet bytes");
  auto dir = store_->local_directory("products/p");
  EXPECT_TRUE(fs::is_directory(dir));
  auto rel = fs::relative(local, dir);
  EXPECT_FALSE(rel.empty());
  EXPECT_NE(rel.generic_string().rfind("..", 0), 0u) << local << " is not below " << dir;
}

TEST_P(ObjectStoreConformance, ListIsSortedAndFilteredByPrefix) {
  for (const char* key : {"p/b/2", "p/a/1", "p/a/0", "q/x", "p/c"}) store_->put(key, key);
  auto listed = store_->list("p/");
  std::vector<std::string> keys;
  for (const auto& info : listed) keys.push_back(info.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"p/a/0", "p/a/1", "p/b/2", "p/c"}));
  EXPECT_EQ(listed[0].size, 5u);
  EXPECT_EQ(store_->list("p/a/").size(), 2u);
  EXPECT_EQ(store_->list("").size(), 5u);
  // The scratch area is not an object.
  scratch_file("leftover", "x");
  EXPECT_EQ(store_->list("").size(), 5u);
}

TEST_P(ObjectStoreConformance, ManyObjectsAreListedWhole) {
  // More than one page of an S3 listing (1000 keys).
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < 1010; i += 4) {
        char key[32];
        std::snprintf(key, sizeof key, "many/%04d", i);
        store_->put(key, "v");
      }
    });
  }
  for (auto& t : writers) t.join();
  auto listed = store_->list("many/");
  ASSERT_EQ(listed.size(), 1010u);
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }));
  EXPECT_EQ(listed.front().key, "many/0000");
  EXPECT_EQ(listed.back().key, "many/1009");
}

TEST_P(ObjectStoreConformance, RemoveIsIdempotentAndFreesTheKey) {
  store_->put("r/a", "a");
  (void)store_->local_path("r/a");
  store_->remove("r/a");
  EXPECT_FALSE(store_->stat("r/a").has_value());
  EXPECT_EQ(code_of([&] { (void)store_->get("r/a"); }), ErrorCode::not_found);
  store_->remove("r/a");
  store_->remove("r/never");
  // Keys are unique per write in practice; a freed key still takes an object.
  store_->put("r/a", "again");
  EXPECT_EQ(read_file(store_->local_path("r/a")), "again");
}

TEST_P(ObjectStoreConformance, EveryMethodRefusesUnsafeKeys) {
  for (const std::string key : {"/abs", "a/../b", "", "a//b", "../x"}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(code_of([&] { store_->put(key, "x"); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { (void)store_->get(key); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { (void)store_->stat(key); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { (void)store_->local_path(key); }), ErrorCode::invalid_input);
    EXPECT_EQ(code_of([&] { store_->remove(key); }), ErrorCode::invalid_input);
  }
}

TEST_P(ObjectStoreConformance, ScratchFilesLiveOutsideTheObjects) {
  auto scratch = store_->scratch_dir();
  EXPECT_TRUE(fs::is_directory(scratch));
  scratch_file("a", "x");
  EXPECT_TRUE(store_->list("").empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ObjectStoreConformance,
                         ::testing::Values(Backend::local, Backend::s3), backend_name);

}  // namespace
}  // namespace duckmesh::storage
