#include "ontology/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace duckmesh::ontology {
namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  Clock fn() {
    return [this] { return now; };
  }
};

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresOnly) {
  FakeClock clock;
  CircuitBreaker b({.failure_threshold = 3, .cool_down = std::chrono::seconds(10)}, clock.fn());
  EXPECT_TRUE(b.allow());
  b.record_failure();
  b.record_failure();
  b.record_success();  // resets the run
  b.record_failure();
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_EQ(b.consecutive_failures(), 2);
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_FALSE(b.allow());
  EXPECT_EQ(b.times_opened(), 1);
}

TEST(CircuitBreaker, HalfOpenAdmitsOneProbeAfterCoolDown) {
  FakeClock clock;
  CircuitBreaker b({.failure_threshold = 1, .cool_down = std::chrono::seconds(10)}, clock.fn());
  b.record_failure();
  ASSERT_EQ(b.state(), BreakerState::open);
  clock.now += std::chrono::seconds(9);
  EXPECT_FALSE(b.allow());
  clock.now += std::chrono::seconds(1);
  EXPECT_TRUE(b.allow());
  EXPECT_EQ(b.state(), BreakerState::half_open);
  EXPECT_FALSE(b.allow()) << "only one probe at a time";
  b.record_success();
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_TRUE(b.allow());
  EXPECT_TRUE(b.allow());
}

TEST(CircuitBreaker, FailedProbeOpensForAnotherCoolDown) {
  FakeClock clock;
  CircuitBreaker b({.failure_threshold = 2, .cool_down = std::chrono::seconds(5)}, clock.fn());
  b.record_failure();
  b.record_failure();
  clock.now += std::chrono::seconds(5);
  ASSERT_TRUE(b.allow());
  b.record_failure();  // a single failure in half-open reopens it
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_EQ(b.times_opened(), 2);
  clock.now += std::chrono::seconds(4);
  EXPECT_FALSE(b.allow());
  clock.now += std::chrono::seconds(1);
  EXPECT_TRUE(b.allow());
}

TEST(CircuitBreaker, StateNames) {
  EXPECT_EQ(to_string(BreakerState::closed), "closed");
  EXPECT_EQ(to_string(BreakerState::open), "open");
  EXPECT_EQ(to_string(BreakerState::half_open), "half_open");
}

}  // namespace
}  // namespace duckmesh::ontology
