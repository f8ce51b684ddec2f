#include "http/rate_limit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "obs/metrics.hpp"

namespace duckmesh::http {

TokenBuckets::TokenBuckets(RateLimit limit, std::size_t max_keys)
    : limit_(limit), max_keys_(std::max<std::size_t>(max_keys, 1)) {
  if (limit_.per_second < 0 || !std::isfinite(limit_.per_second)) {
    throw Error(ErrorCode::invalid_input, "a rate limit must be a rate of 0 or more per second");
  }
  if (limit_.enabled() && limit_.burst < 1) {
    throw Error(ErrorCode::invalid_input, "a rate limit's burst must be at least 1 request (got " +
                                              std::to_string(limit_.burst) + ")");
  }
}

void TokenBuckets::forget_full_buckets(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed * limit_.per_second >= limit_.burst) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

TokenBuckets::Decision TokenBuckets::take(const std::string& key, Clock::time_point now) {
  Decision d;
  if (!limit_.enabled()) return d;
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) forget_full_buckets(now);
    it = buckets_.emplace(key, Bucket{limit_.burst, now}).first;
  }
  Bucket& b = it->second;
  double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.updated).count());
  b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.per_second);
  b.updated = now;
  d.limit = limit_.burst;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    d.allowed = true;
  } else {
    d.allowed = false;
    d.retry_after_seconds = (1 - b.tokens) / limit_.per_second;
  }
  d.remaining = std::floor(b.tokens);
  d.reset_seconds = (limit_.burst - b.tokens) / limit_.per_second;
  return d;
}

std::size_t TokenBuckets::tracked_keys() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

std::string client_ip(const Request& request) {
  const std::string& remote = request.remote_address;
  auto colon = remote.rfind(':');
  return colon == std::string::npos ? remote : remote.substr(0, colon);
}

namespace {

// The innermost limiter's figures win: a response that already carries them
// (from the per-credential limit) keeps them.
void add_headers(Response& response, const TokenBuckets::Decision& d) {
  for (const auto& header : response.headers) {
    if (header.first == "RateLimit-Limit") return;
  }
  response.header("RateLimit-Limit", std::to_string(static_cast<long long>(d.limit)));
  response.header("RateLimit-Remaining", std::to_string(static_cast<long long>(d.remaining)));
  response.header("RateLimit-Reset",
                  std::to_string(static_cast<long long>(std::ceil(d.reset_seconds))));
}

}  // namespace

Middleware rate_limit(RateLimit per_ip, RateLimit per_credential,
                      std::function<std::string(const Request&)> credential_of) {
  auto ip_buckets = std::make_shared<TokenBuckets>(per_ip);
  auto credential_buckets = std::make_shared<TokenBuckets>(per_credential);
  auto* refused = &obs::Registry::global().counter(
      "duckmesh_http_rate_limited_total", "Requests refused by a rate limit, by scope", {"scope"});
  return [ip_buckets, credential_buckets, per_ip, per_credential, refused,
          credential_of = std::move(credential_of)](Request& request, const Next& next) {
    if (!per_ip.enabled() && !per_credential.enabled()) return next(request);
    std::optional<TokenBuckets::Decision> tightest;
    auto consider = [&](const TokenBuckets::Decision& d, const char* scope,
                        const std::string& who) -> std::optional<Response> {
      if (!tightest || d.remaining < tightest->remaining || !d.allowed) tightest = d;
      if (d.allowed) return std::nullopt;
      refused->with({scope}).inc();
      auto seconds = static_cast<std::int64_t>(std::ceil(d.retry_after_seconds));
      double rate = scope == std::string("ip") ? per_ip.per_second : per_credential.per_second;
      Response r = Response::from_error(
          Error(ErrorCode::rate_limited,
                fmt::format("rate limit of this {} ({}) reached: {} requests at once, {:g} per "
                            "second after that; retry in {} s",
                            scope, who, d.limit, rate, std::max<std::int64_t>(seconds, 1)),
                {{"scope", scope}, {"retry_after_seconds", std::max<std::int64_t>(seconds, 1)}}),
          request.request_id);
      add_headers(r, d);
      return r;
    };
    if (per_ip.enabled()) {
      std::string ip = client_ip(request);
      if (auto refusal = consider(ip_buckets->take(ip), "ip", ip)) return *refusal;
    }
    if (per_credential.enabled() && credential_of) {
      std::string id = credential_of(request);
      if (!id.empty()) {
        if (auto refusal = consider(credential_buckets->take(id), "credential", id)) {
          return *refusal;
        }
      }
    }
    Response response = next(request);
    if (tightest) add_headers(response, *tightest);
    return response;
  };
}

}  // namespace duckmesh::http
