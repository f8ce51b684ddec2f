// The S3 store when the S3-compatible server misbehaves: answers 500 for a
// while or for good, or answers slower than the request timeout. A fault
// proxy sits between the store and a real server (s3rver on loopback).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "common/error.hpp"
#include "storage/s3/s3_object_store.hpp"
#include "support/fault_proxy.hpp"
#include "support/s3_server.hpp"
#include "support/service_process.hpp"

namespace duckmesh::storage {
namespace {

using testing::FaultProxy;
using testing::S3Server;
using testing::TempDir;

class S3FaultsTest : public ::testing::Test {
 protected:
  S3FaultsTest() : server_(dir_.path() / "s3", "duckmesh"), proxy_(server_.port()) {}

  S3Options options() {
    S3Options o;
    o.endpoint = proxy_.endpoint();
    o.bucket = server_.bucket();
    o.credentials = {"S3RVER", "S3RVER", ""};
    o.cache_dir = dir_.path() / "cache";
    o.base_backoff = std::chrono::milliseconds(10);
    o.max_attempts = 4;
    o.connect_timeout = std::chrono::milliseconds(500);
    o.request_timeout = std::chrono::milliseconds(400);
    return o;
  }

  // Parts of S3's least size, above which every object goes up in parts;
  // a longer timeout, as a part is a few MiB.
  S3Options multipart_options() {
    S3Options o = options();
    o.part_size = kMinPartSize;
    o.multipart_threshold = kMinPartSize;
    o.request_timeout = std::chrono::seconds(20);
    return o;
  }

  template <class F>
  Error expect_unavailable(F&& f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
      return e;
    }
    ADD_FAILURE() << "expected unavailable";
    return Error(ErrorCode::internal, "no error");
  }

  TempDir dir_;
  S3Server server_;
  FaultProxy proxy_;
};

TEST_F(S3FaultsTest, ServerErrorsForAWhileAreRetriedAway) {
  S3ObjectStore store(options());
  proxy_.fail_next(2);
  store.put("k/a", "alpha");
  EXPECT_EQ(proxy_.requests_failed(), 2);
  proxy_.fail_next(3);
  EXPECT_EQ(store.get("k/a"), "alpha");
  EXPECT_EQ(proxy_.requests_failed(), 5);
}

TEST_F(S3FaultsTest, ServerErrorsThatLastBecomeUnavailableNamingTheCause) {
  S3ObjectStore store(options());
  proxy_.fail_all(true);
  Error e = expect_unavailable([&] { store.put("k/b", "beta"); });
  std::string message = e.what();
  EXPECT_NE(message.find("4 attempts"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 500"), std::string::npos) << message;
  EXPECT_EQ(proxy_.requests_failed(), 4);
  // Nothing half-written: once the server is well the key is free.
  proxy_.fail_all(false);
  EXPECT_FALSE(store.stat("k/b").has_value());
  store.put("k/b", "beta");
  EXPECT_EQ(store.get("k/b"), "beta");
}

TEST_F(S3FaultsTest, AnswersSlowerThanTheTimeoutAreRetriedThenUnavailable) {
  S3ObjectStore store(options());
  store.put("k/c", "gamma");
  proxy_.delay(std::chrono::milliseconds(1500));
  int before = proxy_.requests_seen();
  Error e = expect_unavailable([&] { (void)store.get("k/c"); });
  EXPECT_NE(std::string(e.what()).find("4 attempts"), std::string::npos) << e.what();
  EXPECT_EQ(proxy_.requests_seen() - before, 4);
  // Slow but within the timeout is fine.
  proxy_.delay(std::chrono::milliseconds(100));
  EXPECT_EQ(store.get("k/c"), "gamma");
}

// Bytes that differ from part to part, so a part sent twice or out of order
// would show.
std::string pattern(std::size_t size) {
  std::string out(size, '\0');
  std::uint64_t x = 88172645463325252ull;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

std::size_t count_lines(const std::vector<std::string>& lines, const std::string& a,
                        const std::string& b = "") {
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
    return l.find(a) != std::string::npos && l.find(b) != std::string::npos;
  }));
}

TEST_F(S3FaultsTest, LargeObjectsGoUpInPartsEachRetriedOnItsOwn) {
  S3ObjectStore store(multipart_options());
  const std::string data = pattern(2 * kMinPartSize + 12'345);  // three parts
  proxy_.fail_matching("partNumber=2", 2);
  store.put("big/a.bin", data);
  const auto lines = proxy_.request_lines();
  EXPECT_EQ(count_lines(lines, "POST /duckmesh/big/a.bin?uploads"), 1u);
  EXPECT_EQ(count_lines(lines, "PUT /duckmesh/big/a.bin?partNumber=1&uploadId="), 1u);
  EXPECT_EQ(count_lines(lines, "PUT /duckmesh/big/a.bin?partNumber=2&uploadId="), 3u);
  EXPECT_EQ(count_lines(lines, "PUT /duckmesh/big/a.bin?partNumber=3&uploadId="), 1u);
  EXPECT_EQ(count_lines(lines, "POST /duckmesh/big/a.bin?uploadId="), 1u);
  EXPECT_EQ(count_lines(lines, "DELETE"), 0u);
  EXPECT_EQ(proxy_.requests_failed(), 2);
  EXPECT_EQ(store.get("big/a.bin"), data);
  EXPECT_EQ(store.stat("big/a.bin")->size, data.size());

  // From a file, part by part; the file becomes the cached copy.
  auto file = dir_.path() / "local.bin";
  {
    std::ofstream out(file, std::ios::binary);
    out << data.substr(7);
  }
  store.put_file("big/b.bin", file);
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_EQ(count_lines(proxy_.request_lines(), "PUT /duckmesh/big/b.bin?partNumber="), 3u);
  S3ObjectStore fresh(options());  // no cached copy: reads what the server holds
  EXPECT_EQ(fresh.get("big/b.bin"), data.substr(7));
  EXPECT_EQ(fresh.stat("big/b.bin")->size, data.size() - 7);

  // Small objects still go up whole.
  store.put("big/small", "x");
  EXPECT_EQ(count_lines(proxy_.request_lines(), "big/small?"), 0u);
  // An existing key is refused before any part is sent.
  const auto before = proxy_.request_lines().size();
  try {
    store.put("big/a.bin", data);
    ADD_FAILURE() << "expected conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict) << e.what();
  }
  const auto after = proxy_.request_lines();
  for (auto i = before; i < after.size(); ++i) EXPECT_EQ(after[i].rfind("HEAD", 0), 0u) << after[i];
}

TEST_F(S3FaultsTest, AFailedMultipartUploadIsAbortedAndLeavesTheKeyFree) {
  S3ObjectStore store(multipart_options());
  const std::string data = pattern(2 * kMinPartSize + 1);
  proxy_.fail_matching("partNumber=3");
  Error e = expect_unavailable([&] { store.put("big/c.bin", data); });
  EXPECT_NE(std::string(e.what()).find("4 attempts"), std::string::npos) << e.what();
  const auto lines = proxy_.request_lines();
  EXPECT_EQ(count_lines(lines, "DELETE /duckmesh/big/c.bin?uploadId="), 1u);
  EXPECT_EQ(count_lines(lines, "POST /duckmesh/big/c.bin?uploadId="), 0u);
  EXPECT_FALSE(store.stat("big/c.bin").has_value());
  // Once the server is well the same key takes the object.
  proxy_.fail_matching("");
  store.put("big/c.bin", data);
  EXPECT_EQ(store.get("big/c.bin"), data);
}

TEST_F(S3FaultsTest, APartSizeOutsideS3sBoundsIsRefused) {
  auto o = options();
  o.part_size = kMinPartSize - 1;
  try {
    S3ObjectStore store(o);
    ADD_FAILURE() << "expected invalid_input";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
    EXPECT_NE(std::string(e.what()).find("5 MiB"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace duckmesh::storage
