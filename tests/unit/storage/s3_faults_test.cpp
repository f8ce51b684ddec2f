// The S3 store when the S3-compatible server misbehaves: answers 500 for a
// while or for good, or answers slower than the request timeout. A fault
// proxy sits between the store and a real server (s3rver on loopback).
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace duckmesh::storage
