#include "client/retry.hpp"

#include <charconv>
#include <thread>

#include "client/server_error.hpp"

namespace duckmesh::client {

bool retryable_status(unsigned status) {
  return status == 408 || status == 429 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int failed_attempts,
                                        std::optional<std::chrono::seconds> retry_after) {
  if (retry_after) {
    return std::min<std::chrono::milliseconds>(*retry_after, policy.max_retry_after);
  }
  auto delay = policy.initial_delay;
  for (int i = 1; i < failed_attempts && delay < policy.max_delay; ++i) delay *= 2;
  return std::min(delay, policy.max_delay);
}

HttpResponse send_with_retry(HttpClient& client, const HttpRequest& request,
                             const RetryPolicy& policy, const RetryObserver& observer,
                             const BodySink* sink) {
  bool delivered = false;
  BodySink tracking;
  if (sink != nullptr) {
    tracking = [&](std::string_view bytes) {
      delivered = true;
      (*sink)(bytes);
    };
  }
  for (int attempt = 1;; ++attempt) {
    std::string why;
    std::optional<std::chrono::seconds> retry_after;
    try {
      HttpResponse response =
          sink != nullptr ? client.send(request, tracking) : client.send(request);
      if (!retryable_status(response.status) || attempt >= policy.max_attempts) return response;
      auto error = ServerError::from_response(response);
      why = "HTTP " + std::to_string(response.status) + " " + error.code() +
            (error.message().empty() ? "" : ": " + error.message());
      retry_after = parse_retry_after(response.header("retry-after"));
    } catch (const TransportError& e) {
      if (delivered || attempt >= policy.max_attempts) throw;
      why = e.what();
    }
    auto delay = backoff_delay(policy, attempt, retry_after);
    if (observer) observer(why, delay);
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace duckmesh::client
