// Rate limits: token buckets per client IP address and per credential.
//
// A bucket holds up to `burst` tokens and refills at `per_second`; each
// request takes one. A request that finds its bucket empty is answered 429
// rate_limited with Retry-After (whole seconds until a token is back) and
// never reaches a handler. Every answer of a limited scope carries
// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds until
// the bucket is full again) for the tighter of the two buckets, so a client
// can pace itself before it is refused.
//
// Limits are per node: with N API nodes behind a balancer a client gets up
// to N times the rate. Buckets are kept for keys seen recently; a bucket
// that has refilled completely is the same as no bucket and is forgotten
// when the table grows past `max_keys`, so scanning many addresses cannot
// grow memory without bound.
//
// Thread-safety: TokenBuckets and the middleware may be used from any
// number of threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "http/middleware.hpp"

namespace duckmesh::http {

struct RateLimit {
  double per_second = 0;  // 0: no limit
  double burst = 0;       // bucket size; at least 1 when per_second > 0

  bool enabled() const { return per_second > 0; }
};

class TokenBuckets {
 public:
  using Clock = std::chrono::steady_clock;

  struct Decision {
    bool allowed = true;
    double limit = 0;                // the bucket size
    double remaining = 0;            // whole tokens left after this request
    double reset_seconds = 0;        // until the bucket is full again
    double retry_after_seconds = 0;  // until one token is back (when refused)
  };

  // Throws invalid_input when per_second is negative or burst < 1 with a rate.
  explicit TokenBuckets(RateLimit limit, std::size_t max_keys = 100'000);
  TokenBuckets(const TokenBuckets&) = delete;
  TokenBuckets& operator=(const TokenBuckets&) = delete;

  // Takes a token from `key`'s bucket when one is there.
  Decision take(const std::string& key, Clock::time_point now = Clock::now());

  std::size_t tracked_keys() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void forget_full_buckets(Clock::time_point now);

  RateLimit limit_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// The client's IP address without the port ("10.0.0.7:5123" -> "10.0.0.7").
std::string client_ip(const Request& request);

// Limits every request by client IP (per_ip) and, when `credential_of`
// returns a non-empty id for it, by that credential (per_credential).
// Refusals count in duckmesh_http_rate_limited_total{scope="ip"|"credential"}.
Middleware rate_limit(RateLimit per_ip, RateLimit per_credential,
                      std::function<std::string(const Request&)> credential_of);

}  // namespace duckmesh::http
