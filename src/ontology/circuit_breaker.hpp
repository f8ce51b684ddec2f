// CircuitBreaker: stops calling a failing dependency, then probes it.
//
//   closed    calls go through; `failure_threshold` consecutive failures open it
//   open      calls are refused until `cool_down` has passed since it opened
//   half_open after the cool-down, exactly one call (the probe) goes through:
//             success closes the breaker, failure opens it again for another
//             cool-down
//
// A caller asks allow() before a call and reports record_success() or
// record_failure() after every call it was allowed to make.
//
// Thread safety: every method may be called from many threads.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string_view>

namespace duckmesh::ontology {

enum class BreakerState { closed, open, half_open };
std::string_view to_string(BreakerState state);

using Clock = std::function<std::chrono::steady_clock::time_point()>;

struct BreakerOptions {
  int failure_threshold = 3;
  std::chrono::milliseconds cool_down{30'000};
};

class CircuitBreaker {
 public:
  explicit CircuitBreaker(BreakerOptions options, Clock clock = std::chrono::steady_clock::now);

  // True when a call may be made now. In the open state after the cool-down
  // this turns the breaker half-open and admits the probe; further calls are
  // refused until the probe is reported.
  bool allow();
  void record_success();
  void record_failure();

  BreakerState state() const;
  int consecutive_failures() const;
  // How often the breaker has opened since it was built.
  long times_opened() const;

 private:
  void open_locked();

  BreakerOptions options_;
  Clock clock_;
  mutable std::mutex mutex_;
  BreakerState state_ = BreakerState::closed;
  int failures_ = 0;
  long times_opened_ = 0;
  bool probe_in_flight_ = false;
  std::chrono::steady_clock::time_point opened_at_{};
};

}  // namespace duckmesh::ontology
