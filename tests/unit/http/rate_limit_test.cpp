#include "http/rate_limit.hpp"

#include <gtest/gtest.h>

namespace duckmesh::http {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBuckets::Clock;

TEST(TokenBuckets, BurstThenRefillAtTheRate) {
  TokenBuckets buckets({.per_second = 2, .burst = 3});
  auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(buckets.take("k", t0).allowed) << i;
  auto refused = buckets.take("k", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NEAR(refused.retry_after_seconds, 0.5, 1e-9);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_NEAR(refused.reset_seconds, 1.5, 1e-9);
  // Half a second later one token is back, and only one.
  EXPECT_TRUE(buckets.take("k", t0 + 500ms).allowed);
  EXPECT_FALSE(buckets.take("k", t0 + 500ms).allowed);
  // Other keys have their own bucket.
  EXPECT_TRUE(buckets.take("other", t0).allowed);
}

TEST(TokenBuckets, RemainingCountsDown) {
  TokenBuckets buckets({.per_second = 1, .burst = 5});
  auto t0 = Clock::now();
  EXPECT_EQ(buckets.take("k", t0).remaining, 4);
  EXPECT_EQ(buckets.take("k", t0).remaining, 3);
  EXPECT_EQ(buckets.take("k", t0).limit, 5);
}

TEST(TokenBuckets, FullBucketsAreForgottenWhenTheTableIsFull) {
  TokenBuckets buckets({.per_second = 10, .burst = 1}, 100);
  auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) buckets.take("ip" + std::to_string(i), t0);
  EXPECT_EQ(buckets.tracked_keys(), 100u);
  // A second later every bucket has refilled: a new key sweeps them out.
  buckets.take("new", t0 + 1s);
  EXPECT_EQ(buckets.tracked_keys(), 1u);
}

TEST(TokenBuckets, DisabledAllowsEverythingAndBadLimitsAreRefused) {
  TokenBuckets off({});
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(off.take("k").allowed);
  EXPECT_THROW(TokenBuckets({.per_second = -1, .burst = 1}), Error);
  EXPECT_THROW(TokenBuckets({.per_second = 1, .burst = 0.5}), Error);
}

Request from(const std::string& remote) {
  Request r;
  r.raw.method(Verb::get);
  r.remote_address = remote;
  return r;
}

std::string header_of(const Response& response, const std::string& name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return "";
}

TEST(RateLimitMiddleware, RefusesWith429RetryAfterAndRateLimitHeaders) {
  auto mw = rate_limit({.per_second = 0.5, .burst = 2}, {}, nullptr);
  auto ok = [](Request&) { return Response::text(200, "ok", "text/plain"); };
  auto a = from("10.0.0.1:5000");
  auto first = mw(a, ok);
  EXPECT_EQ(first.status, 200u);
  EXPECT_EQ(header_of(first, "RateLimit-Limit"), "2");
  EXPECT_EQ(header_of(first, "RateLimit-Remaining"), "1");
  EXPECT_EQ(mw(a, ok).status, 200u);
  auto refused = mw(a, ok);
  EXPECT_EQ(refused.status, 429u);
  EXPECT_EQ(header_of(refused, "Retry-After"), "2");
  EXPECT_EQ(header_of(refused, "RateLimit-Remaining"), "0");
  EXPECT_NE(refused.body.find("rate_limited"), std::string::npos);
  EXPECT_NE(refused.body.find("10.0.0.1"), std::string::npos);
  // Another port of the same address shares the bucket; another address does not.
  auto same_ip = from("10.0.0.1:6000");
  EXPECT_EQ(mw(same_ip, ok).status, 429u);
  auto b = from("10.0.0.2:5000");
  EXPECT_EQ(mw(b, ok).status, 200u);
}

TEST(RateLimitMiddleware, CredentialBucketsFollowTheCredentialAcrossAddresses) {
  auto mw = rate_limit({}, {.per_second = 1, .burst = 1},
                       [](const Request& r) { return std::string(r.header("X-Who")); });
  auto ok = [](Request&) { return Response::text(200, "ok", "text/plain"); };
  auto r1 = from("10.0.0.1:1");
  r1.raw.set("X-Who", "key-a");
  auto r2 = from("10.0.0.9:1");
  r2.raw.set("X-Who", "key-a");
  auto anonymous = from("10.0.0.9:2");
  EXPECT_EQ(mw(r1, ok).status, 200u);
  EXPECT_EQ(mw(r2, ok).status, 429u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(mw(anonymous, ok).status, 200u);
}

}  // namespace
}  // namespace duckmesh::http
