#include "ontology/circuit_breaker.hpp"

namespace duckmesh::ontology {

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
  }
  return "closed";
}

CircuitBreaker::CircuitBreaker(BreakerOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  if (options_.failure_threshold < 1) options_.failure_threshold = 1;
}

bool CircuitBreaker::allow() {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case BreakerState::closed: return true;
    case BreakerState::open:
      if (clock_() - opened_at_ < options_.cool_down) return false;
      state_ = BreakerState::half_open;
      probe_in_flight_ = true;
      return true;
    case BreakerState::half_open:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(mutex_);
  state_ = BreakerState::closed;
  failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::record_failure() {
  std::lock_guard lock(mutex_);
  ++failures_;
  if (state_ == BreakerState::half_open) {
    open_locked();
  } else if (state_ == BreakerState::closed && failures_ >= options_.failure_threshold) {
    open_locked();
  }
}

void CircuitBreaker::open_locked() {
  state_ = BreakerState::open;
  opened_at_ = clock_();
  probe_in_flight_ = false;
  ++times_opened_;
}

BreakerState CircuitBreaker::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

long CircuitBreaker::times_opened() const {
  std::lock_guard lock(mutex_);
  return times_opened_;
}

}  // namespace duckmesh::ontology
