#include "http/middleware.hpp"

#include <random>

#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace duckmesh::http {

Handler chain(std::vector<Middleware> middlewares, Handler handler) {
  Handler next = std::move(handler);
  for (auto it = middlewares.rbegin(); it != middlewares.rend(); ++it) {
    next = [mw = *it, inner = std::move(next)](Request& request) { return mw(request, inner); };
  }
  return next;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = rng();
    for (int i = 0; i < 16; ++i) id[half * 16 + i] = hex[(bits >> (i * 4)) & 0xF];
  }
  return id;
}

namespace {

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Middleware request_id() {
  return [](Request& request, const Next& next) {
    auto given = request.header("X-Request-Id");
    request.request_id = acceptable_request_id(given) ? std::string(given) : new_request_id();
    log::RequestScope scope(request.request_id);
    Response response = next(request);
    response.header("X-Request-Id", request.request_id);
    return response;
  };
}

Middleware access_log() {
  return [](Request& request, const Next& next) {
    Response response = next(request);
    auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                             request.received_at);
    log::Level level = response.status >= 500 ? log::Level::error : log::Level::info;
    log::write(level, "request",
               {{"method", std::string(to_string(request.method()))},
                {"path", request.path},
                {"route", request.route},
                {"status", response.status},
                {"bytes", response.body.size()},
                {"duration_ms", elapsed.count()},
                {"remote", request.remote_address}});
    return response;
  };
}

Middleware metrics() {
  auto& registry = obs::Registry::global();
  auto* requests = &registry.counter("duckmesh_http_requests_total",
                                     "HTTP requests answered, by route pattern, method and status",
                                     {"route", "method", "status"});
  auto* duration =
      &registry.histogram("duckmesh_http_request_duration_seconds",
                          "Time from request received to response ready", {"route", "method"});
  return [requests, duration](Request& request, const Next& next) {
    Response response = next(request);
    std::string route = request.route.empty() ? "unmatched" : request.route;
    std::string method(to_string(request.method()));
    requests->with({route, method, std::to_string(response.status)}).inc();
    duration->with({route, method})
        .observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - request.received_at)
                .count());
    return response;
  };
}

Middleware errors() {
  return [](Request& request, const Next& next) {
    try {
      return next(request);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::internal) {
        log::error("internal error", {{"error", e.what()}, {"path", request.path}});
      }
      return Response::from_error(e, request.request_id);
    } catch (const std::exception& e) {
      log::error("unexpected exception", {{"error", e.what()}, {"path", request.path}});
      return Response::from_error(Error(ErrorCode::internal, "internal error"), request.request_id);
    }
  };
}

}  // namespace duckmesh::http
