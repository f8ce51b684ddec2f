#include "ontology/ontology_client.hpp"

#include "common/error.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace duckmesh::ontology {
namespace {

obs::Family<obs::Counter>& requests() {
  static auto& f = obs::Registry::global().counter(
      "duckmesh_ontology_requests_total",
      "Calls to the ontology server by outcome (ok, not_found, failed, refused by the breaker)",
      {"outcome"});
  return f;
}

obs::Family<obs::Counter>& answers() {
  static auto& f = obs::Registry::global().counter(
      "duckmesh_ontology_answers_total",
      "Schema answers by where they came from (server, cache, stale_cache, bundled)", {"origin"});
  return f;
}

obs::Gauge& breaker_gauge() {
  static auto& g = obs::Registry::global()
                       .gauge("duckmesh_ontology_breaker_state",
                              "Ontology server circuit breaker: 0 closed, 1 open, 2 half-open")
                       .get();
  return g;
}

double gauge_value(BreakerState s) {
  return s == BreakerState::closed ? 0 : s == BreakerState::open ? 1 : 2;
}

}  // namespace

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::server: return "server";
    case Origin::cache: return "cache";
    case Origin::stale_cache: return "stale_cache";
    case Origin::bundled: return "bundled";
  }
  return "server";
}

OntologyClient::OntologyClient(std::unique_ptr<SchemaSource> server,
                               std::unique_ptr<SchemaSource> bundled, OntologyClientOptions options,
                               Clock clock)
    : server_(std::move(server)),
      bundled_(std::move(bundled)),
      options_(options),
      clock_(std::move(clock)),
      breaker_(options.breaker, clock_) {
  breaker_gauge().set(0);
}

OntologyClient::~OntologyClient() {
  stop();
}

void OntologyClient::note_origin(Origin origin) {
  answers().with({std::string(to_string(origin))}).inc();
  std::lock_guard lock(mutex_);
  last_origin_ = origin;
}

template <class T>
std::optional<T> OntologyClient::call_server(const std::function<T()>& call, std::string& why) {
  if (!server_) {
    why = "no ontology server (bundled definitions only)";
    return std::nullopt;
  }
  if (!breaker_.allow()) {
    requests().with({"refused"}).inc();
    why = "the circuit breaker to " + server_->describe() + " is open";
    return std::nullopt;
  }
  try {
    T out = call();
    breaker_.record_success();
    breaker_gauge().set(gauge_value(breaker_.state()));
    requests().with({"ok"}).inc();
    std::lock_guard lock(mutex_);
    reachable_ = true;
    return out;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) {
      // The server answered; it is healthy and authoritative.
      breaker_.record_success();
      breaker_gauge().set(gauge_value(breaker_.state()));
      requests().with({"not_found"}).inc();
      {
        std::lock_guard lock(mutex_);
        reachable_ = true;
      }
      throw;
    }
    auto before = breaker_.state();
    breaker_.record_failure();
    auto after = breaker_.state();
    breaker_gauge().set(gauge_value(after));
    requests().with({"failed"}).inc();
    if (after == BreakerState::open && before != BreakerState::open) {
      log::warn("ontology circuit breaker opened",
                {{"server", server_->describe()}, {"error", std::string(e.message())}});
    }
    why = std::string(e.message());
    std::lock_guard lock(mutex_);
    reachable_ = false;
    last_error_ = why;
    return std::nullopt;
  }
}

Resolved OntologyClient::get(const std::string& id) {
  std::optional<CacheEntry> cached;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(id); it != cache_.end()) cached = it->second;
  }
  if (server_ && cached && clock_() - cached->fetched_at < options_.cache_ttl) {
    note_origin(Origin::cache);
    return {cached->schema, Origin::cache};
  }
  std::string why;
  auto fetched = call_server<OntologySchema>([&] { return server_->fetch_schema(id); }, why);
  if (fetched) {
    {
      std::lock_guard lock(mutex_);
      cache_[id] = CacheEntry{*fetched, clock_()};
    }
    note_origin(Origin::server);
    return {std::move(*fetched), Origin::server};
  }
  if (cached) {
    note_origin(Origin::stale_cache);
    return {cached->schema, Origin::stale_cache};
  }
  if (bundled_) {
    try {
      auto schema = bundled_->fetch_schema(id);
      note_origin(Origin::bundled);
      return {std::move(schema), Origin::bundled};
    } catch (const Error& e) {
      // Without a server the bundled folder is the authority; with one, the
      // server's failure is the reason there is no answer.
      if (!server_ || e.code() != ErrorCode::not_found) throw;
      why += "; the bundled ontology has no schema '" + id + "' either";
    }
  }
  throw Error(ErrorCode::unavailable, "schema '" + id + "' is not available: " + why,
              {{"schema", id}});
}

ResolvedList OntologyClient::list() {
  std::string why;
  auto ids = call_server<std::vector<std::string>>([&] { return server_->list_schemas(); }, why);
  if (ids) {
    {
      std::lock_guard lock(mutex_);
      cached_list_ = *ids;
    }
    note_origin(Origin::server);
    return {std::move(*ids), Origin::server};
  }
  {
    std::lock_guard lock(mutex_);
    if (cached_list_) {
      answers().with({"stale_cache"}).inc();
      last_origin_ = Origin::stale_cache;
      return {*cached_list_, Origin::stale_cache};
    }
  }
  if (bundled_) {
    note_origin(Origin::bundled);
    return {bundled_->list_schemas(), Origin::bundled};
  }
  throw Error(ErrorCode::unavailable, "the schema list is not available: " + why);
}

void OntologyClient::refresh() {
  if (!server_) return;
  std::string why;
  auto ids = call_server<std::vector<std::string>>([&] { return server_->list_schemas(); }, why);
  if (!ids) return;
  {
    std::lock_guard lock(mutex_);
    cached_list_ = *ids;
  }
  std::vector<std::string> wanted;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : cache_) wanted.push_back(id);
  }
  for (const auto& id : wanted) {
    try {
      auto fetched = call_server<OntologySchema>([&] { return server_->fetch_schema(id); }, why);
      if (!fetched) return;  // failing again: leave the rest for the next pass
      std::lock_guard lock(mutex_);
      cache_[id] = CacheEntry{std::move(*fetched), clock_()};
    } catch (const Error&) {
      std::lock_guard lock(mutex_);
      cache_.erase(id);  // the server no longer publishes it
    }
  }
}

void OntologyClient::start() {
  if (!server_ || refresher_.joinable()) return;
  {
    std::lock_guard lock(refresh_mutex_);
    stopping_ = false;
  }
  refresher_ = std::thread([this] {
    std::unique_lock lock(refresh_mutex_);
    while (!stopping_) {
      refresh_cv_.wait_for(lock, options_.refresh_interval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      try {
        refresh();
      } catch (const std::exception& e) {
        log::warn("ontology refresh failed", {{"error", e.what()}});
      }
      lock.lock();
    }
  });
}

void OntologyClient::stop() {
  {
    std::lock_guard lock(refresh_mutex_);
    stopping_ = true;
  }
  refresh_cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

OntologyStatus OntologyClient::status() const {
  OntologyStatus s;
  s.mock = !server_;
  s.server = server_ ? server_->describe() : "";
  s.bundled = bundled_ ? bundled_->describe() : "";
  s.breaker = breaker_.state();
  s.consecutive_failures = breaker_.consecutive_failures();
  s.breaker_opened = breaker_.times_opened();
  std::lock_guard lock(mutex_);
  s.reachable = reachable_;
  s.last_error = last_error_;
  s.last_origin = last_origin_;
  s.cached = cache_.size();
  return s;
}

}  // namespace duckmesh::ontology

namespace duckmesh::ontology {

boost::json::object health_check(const OntologyStatus& s) {
  boost::json::object o;
  bool server_ok = s.mock || (s.breaker == BreakerState::closed && s.reachable.value_or(true));
  bool fallback = !s.bundled.empty() || s.cached > 0;
  o["status"] = server_ok ? "healthy" : fallback ? "degraded" : "unhealthy";
  o["mode"] = s.mock ? "bundled_only" : "server";
  o["server"] = s.server;
  o["bundled"] = s.bundled;
  o["reachable"] = s.reachable ? boost::json::value(*s.reachable) : boost::json::value(nullptr);
  o["breaker_state"] = to_string(s.breaker);
  o["consecutive_failures"] = s.consecutive_failures;
  o["breaker_opened"] = s.breaker_opened;
  o["schema_source"] =
      s.last_origin ? boost::json::value(to_string(*s.last_origin)) : boost::json::value(nullptr);
  if (!s.last_error.empty()) o["last_error"] = s.last_error;
  o["cached_schemas"] = s.cached;
  return o;
}

}  // namespace duckmesh::ontology
