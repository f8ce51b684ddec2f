// Retrying requests the server could not take just now.
//
// Retried: connection failures and timeouts, and the statuses that say "try
// again later" (408, 429, 502, 503, 504). The wait before the next attempt is
// the server's Retry-After when it sent one, else an exponential backoff.
// Every request the command-line tools send is safe to repeat: queries only
// read, and ingest batches carry an Idempotency-Key, so a batch that did get
// through before the failure comes back as duplicates.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "client/http_client.hpp"

namespace duckmesh::client {

struct RetryPolicy {
  int max_attempts = 10;  // including the first
  std::chrono::milliseconds initial_delay{250};
  std::chrono::milliseconds max_delay{15'000};
  // Retry-After is honoured up to this much; a longer one is capped so a
  // misconfigured server cannot stall a command for hours.
  std::chrono::milliseconds max_retry_after{300'000};
};

bool retryable_status(unsigned status);

// Retry-After in its delay-seconds form ("3"); nullopt for an HTTP date or
// anything unreadable, in which case the backoff applies.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

// How long to wait after `failed_attempts` (>= 1) failures: `retry_after`
// (capped) when given, else initial_delay * 2^(failed_attempts-1) capped at
// max_delay.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int failed_attempts,
                                        std::optional<std::chrono::seconds> retry_after);

// Told about each retry: why ("HTTP 503 unavailable", "connection refused")
// and how long the wait before the next attempt is.
using RetryObserver = std::function<void(const std::string& why, std::chrono::milliseconds delay)>;

// Sends `request` until it gets an answer that is not retryable, or the
// attempts run out. Returns the last response (which may be a retryable
// status when the attempts ran out); throws the last TransportError when
// every attempt failed to connect. With a `sink` (see HttpClient::send),
// a response cut short after the sink got data is not retried, since the
// data already went out: the TransportError propagates.
HttpResponse send_with_retry(HttpClient& client, const HttpRequest& request,
                             const RetryPolicy& policy, const RetryObserver& observer = {},
                             const BodySink* sink = nullptr);

}  // namespace duckmesh::client
