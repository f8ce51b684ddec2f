// OntologyClient: the schema definitions the service builds tables from,
// resilient to a slow, failing or absent ontology server.
//
// Resolution of one schema id, in order:
//   1. the cache, when its entry is younger than `cache_ttl`      (origin "cache")
//   2. the server, when the circuit breaker allows a call           ("server");
//      the answer is cached
//   3. the last good cached answer, however old                    ("stale_cache")
//   4. the bundled definitions                                     ("bundled")
//   5. unavailable, naming why each step failed
// A fallback answer is never written to the cache: only what the server
// served is cached, with the time it was served.
//
// Without a server (mock mode, USE_MOCK_ONTO_SERVER) only the bundled
// definitions are used.
//
// A background thread (start()) refreshes every cached entry and the schema
// list each `refresh_interval` while the breaker allows calls, which is also
// how an open breaker gets its half-open probe without user traffic.
//
// Thread safety: every method may be called from many threads.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "ontology/circuit_breaker.hpp"
#include "ontology/schema_source.hpp"

namespace duckmesh::ontology {

enum class Origin { server, cache, stale_cache, bundled };
std::string_view to_string(Origin origin);

struct Resolved {
  OntologySchema schema;
  Origin origin = Origin::server;
};

struct ResolvedList {
  std::vector<std::string> ids;
  Origin origin = Origin::server;
};

struct OntologyClientOptions {
  std::chrono::milliseconds cache_ttl{60'000};
  std::chrono::milliseconds refresh_interval{30'000};
  BreakerOptions breaker;
};

struct OntologyStatus {
  bool mock = false;    // bundled definitions only
  std::string server;   // URL, or "" in mock mode
  std::string bundled;  // bundled folder, or "" when none
  BreakerState breaker = BreakerState::closed;
  int consecutive_failures = 0;
  long breaker_opened = 0;            // times the breaker opened
  std::optional<bool> reachable;      // last call to the server succeeded; unset before any
  std::string last_error;             // message of the last failed server call
  std::optional<Origin> last_origin;  // where the last answer came from
  std::size_t cached = 0;             // schemas in the cache
};

class OntologyClient {
 public:
  // `server` may be null (mock mode); `bundled` may be null (no fallback).
  OntologyClient(std::unique_ptr<SchemaSource> server, std::unique_ptr<SchemaSource> bundled,
                 OntologyClientOptions options, Clock clock = std::chrono::steady_clock::now);
  ~OntologyClient();
  OntologyClient(const OntologyClient&) = delete;
  OntologyClient& operator=(const OntologyClient&) = delete;

  // not_found when the source that answered has no such schema (a server that
  // answers 404 is authoritative: no fallback); unavailable when nothing could.
  Resolved get(const std::string& id);
  ResolvedList list();

  // One refresh pass, as the background thread does it.
  void refresh();
  void start();
  void stop();

  OntologyStatus status() const;

 private:
  struct CacheEntry {
    OntologySchema schema;
    std::chrono::steady_clock::time_point fetched_at;
  };
  template <class T>
  std::optional<T> call_server(const std::function<T()>& call, std::string& why);
  void note_origin(Origin origin);

  std::unique_ptr<SchemaSource> server_;
  std::unique_ptr<SchemaSource> bundled_;
  OntologyClientOptions options_;
  Clock clock_;
  CircuitBreaker breaker_;

  mutable std::mutex mutex_;
  std::map<std::string, CacheEntry> cache_;
  std::optional<std::vector<std::string>> cached_list_;
  std::optional<bool> reachable_;
  std::string last_error_;
  std::optional<Origin> last_origin_;

  std::mutex refresh_mutex_;
  std::condition_variable refresh_cv_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace duckmesh::ontology

namespace duckmesh::ontology {

// The status as a health check: "healthy" when the server answers (or in mock
// mode), "degraded" when it does not but a fallback serves, "unhealthy" when
// nothing could. Fields: status, mode, server, bundled, reachable,
// breaker_state, consecutive_failures, breaker_opened, schema_source,
// last_error, cached_schemas.
boost::json::object health_check(const OntologyStatus& status);

}  // namespace duckmesh::ontology
