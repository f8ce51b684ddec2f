// Structured logging: one JSON object per line, for log shippers to parse.
//
//   {"time":"2026-11-25T09:12:28.123456Z","level":"info","message":"listening",
//    "request_id":"4f2c...","address":"0.0.0.0:8080"}
//
// "time" (UTC, microseconds), "level" and "message" are always present, in
// that order; "request_id" follows when the writing thread is inside a
// RequestScope; then the caller's fields in their order. A field named like
// one of those four keys is written as "field_<name>" so it can never hide
// them. Strings are JSON-escaped, so a message cannot break a line in two.
//
// Thread safety: every function may be called from any thread, concurrently.
// Lines from different threads never interleave. Until init() or
// init_with_stream() runs, lines go to stderr at level info.
//
// This is one of the two pieces of process-wide state the service allows
// (the other is the metrics registry).
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace duckmesh::log {

enum class Level { trace, debug, info, warn, error };

// "trace", "debug", "info", "warn" or "warning", "error", in any case;
// nullopt for anything else.
std::optional<Level> parse_level(std::string_view s);

// "trace", "debug", "info", "warn", "error".
std::string_view to_string(Level l);

// Lines at `level` and above go to stderr from now on.
void init(Level level);

// Lines at `level` and above go to `out`, flushed after each line. `out` must
// outlive every later write, or the next init call. Meant for tests.
void init_with_stream(Level level, std::ostream& out);

// Changes the threshold at run time; takes effect for the next write of
// every thread.
void set_level(Level level);
Level level();

// True when a line at `l` would be written; lets callers skip building
// expensive fields for lines that would be dropped.
inline bool enabled(Level l) {
  return l >= level();
}

// Writes one line when `level` is at or above the threshold. Below it,
// nothing is formatted: the call costs one atomic load.
void write(Level level, std::string_view message, boost::json::object fields = {});

inline void trace(std::string_view m, boost::json::object f = {}) {
  write(Level::trace, m, std::move(f));
}
inline void debug(std::string_view m, boost::json::object f = {}) {
  write(Level::debug, m, std::move(f));
}
inline void info(std::string_view m, boost::json::object f = {}) {
  write(Level::info, m, std::move(f));
}
inline void warn(std::string_view m, boost::json::object f = {}) {
  write(Level::warn, m, std::move(f));
}
inline void error(std::string_view m, boost::json::object f = {}) {
  write(Level::error, m, std::move(f));
}

// Tags every line the current thread writes with `request_id` while the
// scope lives; on destruction the thread's previous id (possibly none) comes
// back, so scopes nest. Must be destroyed on the thread that created it.
class RequestScope {
 public:
  explicit RequestScope(std::string request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};

// The current thread's request id, "" outside any RequestScope. The view is
// valid until a RequestScope on this thread begins or ends.
std::string_view current_request_id();

}  // namespace duckmesh::log
