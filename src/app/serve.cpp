#include "app/serve.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "api/access_control.hpp"
#include "api/admin.hpp"
#include "api/dead_letters.hpp"
#include "api/discovery.hpp"
#include "api/domain.hpp"
#include "api/ingest.hpp"
#include "api/monitoring.hpp"
#include "api/ops.hpp"
#include "api/products.hpp"
#include "api/query.hpp"
#include "app/catalog_command.hpp"
#include "app/maintenance_command.hpp"
#include "app/node.hpp"
#include "auth/api_keys.hpp"
#include "auth/audit.hpp"
#include "auth/authenticator.hpp"
#include "common/error.hpp"
#include "common/heap.hpp"
#include "domain/entity_ops.hpp"
#include "domain/ontology_tables.hpp"
#include "duck/database.hpp"
#include "http/auth_middleware.hpp"
#include "http/hardening.hpp"
#include "http/middleware.hpp"
#include "http/rate_limit.hpp"
#include "http/server.hpp"
#include "ingest/service.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "ontology/bundled_source.hpp"
#include "ontology/http_source.hpp"
#include "ontology/ontology_client.hpp"
#include "product/product_service.hpp"
#include "query/query_service.hpp"

namespace duckmesh::app {

namespace {

// Figures read rather than counted, refreshed before every /metrics answer:
// the age of each product's latest snapshot and the query sandboxes. The
// registry outlives serve(), so the collector is switched off with this.
class ServiceMetrics {
 public:
  ServiceMetrics(const catalog::CatalogRepo& catalog, query::QueryService& queries)
      : alive_(std::make_shared<std::atomic<bool>>(true)) {
    obs::Registry::global().add_collector([alive = alive_, &catalog, &queries](obs::Registry& r) {
      if (!alive->load()) return;
      auto& age = r.gauge("duckmesh_snapshot_age_seconds",
                          "Seconds since the product's latest snapshot was committed", {"product"});
      auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
      for (const auto& product : catalog.list_products()) {
        if (auto latest = catalog.latest_snapshot(product.name)) {
          age.with({product.name})
              .set(static_cast<double>(now_us - latest->committed_unix_us) / 1e6);
        }
      }
      auto& sandboxes =
          r.gauge("duckmesh_query_sandboxes", "Query sandboxes of a product by state (busy, idle)",
                  {"product", "state"});
      auto& waiting = r.gauge("duckmesh_query_queue_length",
                              "Queries waiting for a free sandbox of the product", {"product"});
      for (const auto& [product, f] : queries.sandbox_figures()) {
        sandboxes.with({product, "busy"}).set(static_cast<double>(f.busy));
        sandboxes.with({product, "idle"}).set(static_cast<double>(f.idle));
        waiting.with({product}).set(static_cast<double>(f.waiting));
      }
    });
  }
  ~ServiceMetrics() { alive_->store(false); }
  ServiceMetrics(const ServiceMetrics&) = delete;
  ServiceMetrics& operator=(const ServiceMetrics&) = delete;

 private:
  std::shared_ptr<std::atomic<bool>> alive_;
};

// A token bucket from the two settings of a rate limit.
http::RateLimit bucket(double per_second, std::size_t burst) {
  if (per_second <= 0) return {};
  double size = burst > 0 ? static_cast<double>(burst) : std::max(1.0, std::ceil(2 * per_second));
  return {.per_second = per_second, .burst = size};
}

std::unique_ptr<ontology::OntologyClient> make_ontology_client(const Config& config) {
  auto seconds = [](double s) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
  };
  std::unique_ptr<ontology::SchemaSource> bundled;
  auto dir = ontology::find_bundled_dir(config.ontology_dir);
  if (!dir.empty()) {
    bundled = std::make_unique<ontology::BundledSchemaSource>(dir);
  } else {
    log::warn(
        "no bundled ontology folder found; without the ontology server no table "
        "definitions are available");
  }
  std::unique_ptr<ontology::SchemaSource> server;
  if (!config.use_mock_onto_server) {
    server = std::make_unique<ontology::HttpSchemaSource>(config.onto_server_url,
                                                          seconds(config.onto_server_timeout_s));
  }
  ontology::OntologyClientOptions options;
  options.cache_ttl = seconds(config.onto_cache_ttl_s);
  options.refresh_interval = seconds(config.onto_refresh_interval_s);
  options.breaker.failure_threshold = static_cast<int>(config.onto_breaker_failures);
  options.breaker.cool_down = seconds(config.onto_breaker_cooldown_s);
  log::info("ontology", {{"server", config.use_mock_onto_server ? "" : config.onto_server_url},
                         {"bundled", dir.string()}});
  return std::make_unique<ontology::OntologyClient>(std::move(server), std::move(bundled), options);
}

std::string read_setting_file(const std::string& path, const char* setting) {
  std::ifstream in(path);
  if (!in) {
    throw Error(ErrorCode::invalid_input,
                std::string("setting '") + setting + "': cannot read file '" + path + "'",
                {{"setting", setting}, {"file", path}});
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The JWT verifier the settings describe, or null when none is configured.
std::unique_ptr<auth::JwtVerifier> make_jwt_verifier(const Config& config) {
  auth::JwtOptions options;
  options.hs256_secret = config.jwt_hs256_secret;
  if (!config.jwt_public_key_file.empty())
    options.public_key_pem = read_setting_file(config.jwt_public_key_file, "jwt_public_key_file");
  if (!config.jwt_jwks_file.empty())
    options.jwks_json = read_setting_file(config.jwt_jwks_file, "jwt_jwks_file");
  options.audience = config.jwt_audience;
  options.issuer = config.jwt_issuer;
  options.leeway = std::chrono::seconds(config.jwt_leeway_s);
  if (!options.enabled()) return nullptr;
  return std::make_unique<auth::JwtVerifier>(std::move(options));
}

// This node's name among the consumers of a shared bus.
std::string node_id(const Config& config) {
  if (!config.node_id.empty()) return config.node_id;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  return std::string(host) + "-" + std::to_string(::getpid());
}

}  // namespace

int serve(const Config& config) {
  log::init(*log::parse_level(config.log_level));
  log::info("starting", {{"version", DUCKMESH_VERSION},
                         {"duckdb_version", duck::library_version()},
                         {"config", config.to_json()}});

  std::filesystem::create_directories(config.data_dir);
  obs::register_process_metrics(obs::Registry::global());

  duck::DatabaseOptions duck_options;
  if (config.duckdb_threads > 0) duck_options.threads = static_cast<int>(config.duckdb_threads);
  duck_options.memory_limit = config.duckdb_memory_limit;
  duck::Database duckdb(config.duckdb_path, duck_options);

  NodeOptions node_options;
  node_options.data_dir = config.data_dir;
  node_options.coordinator.max_batch_events = config.commit_max_batch_events;
  node_options.coordinator.max_batch_age =
      std::chrono::milliseconds(config.commit_max_batch_age_ms);
  node_options.coordinator.lease = std::chrono::milliseconds(config.commit_lease_ms);
  // Without the coordinator role the loop only follows the catalog
  // watermark, so waiting for visibility still works on an API node.
  node_options.coordinator.commit = config.roles.coordinator;
  node_options.coordinator.consumer = "coordinator/" + node_id(config);
  // Other nodes' coordinators resolve positions on a shared bus: follow the
  // catalog's watermark so waits for visibility see them.
  if (config.bus == "postgres")
    node_options.coordinator.watermark_poll = std::chrono::milliseconds(20);
  node_options.s3 = s3_store_options(config);
  node_options.postgres = postgres_catalog_options(config);
  node_options.idempotency_window_us = config.idempotency_window_s * 1'000'000;
  node_options.postgres_bus = postgres_bus_options(config);
  Node node(node_options);
  node.coordinator().start();
  log::info("node", {{"roles", config.roles.to_string()},
                     {"consumer", node_options.coordinator.consumer},
                     {"bus", config.bus},
                     {"catalog", config.catalog},
                     {"store", config.store}});
  std::unique_ptr<maintenance::MaintenanceLoop> maintenance;
  if (config.maintenance_enabled && (config.roles.compactor || config.roles.gc)) {
    maintenance = std::make_unique<maintenance::MaintenanceLoop>(node.catalog(), node.store(),
                                                                 maintenance_options(config));
    maintenance->refresh_table_metrics();
    maintenance->start();
  }
  product::ProductService products(node.catalog());
  ingest::IngestOptions ingest_options;
  ingest_options.max_bus_backlog = config.ingest_max_backlog;
  const std::uint64_t memory_available = obs::memory_available_to_process().value_or(0);
  ingest_options.max_memory_bytes =
      ingest_memory_limit_bytes(config.ingest_max_memory, memory_available);
  if (ingest_options.max_memory_bytes == 0 && config.ingest_max_memory != "0") {
    log::warn("the memory available to the service is unknown: ingest has no memory limit",
              {{"setting", "ingest_max_memory"}, {"value", config.ingest_max_memory}});
  }
  ingest_options.max_decompressed_bytes =
      std::max<std::size_t>(config.body_limit_bytes * 16, 64u << 20);
  std::map<std::string, ingest::QuotaLimits> product_quotas;
  for (const auto& [name, q] : config.product_quotas) {
    product_quotas[name] = {.events_per_day = q.events_per_day, .stored_bytes = q.stored_bytes};
  }
  ingest::Quotas quotas(
      node.catalog(),
      {.events_per_day = config.quota_events_per_day, .stored_bytes = config.quota_stored_bytes},
      std::move(product_quotas), std::chrono::milliseconds(config.quota_refresh_ms));
  ingest_options.quotas = &quotas;
  ingest::IngestService ingest(node.catalog(), node.bus(), node.coordinator(), products,
                               ingest_options);
  ingest::DeadLetters dead_letters(node.bus(), node.coordinator(), products);

  query::QueryServiceOptions query_options;
  query_options.scratch_dir =
      std::filesystem::absolute(std::filesystem::path(config.data_dir) / "query-scratch");
  if (!config.duckdb_memory_limit.empty())
    query_options.limits.memory_limit = config.duckdb_memory_limit;
  query::QueryService queries(
      node.catalog(), node.store(),
      [&node](std::uint64_t position, std::chrono::milliseconds timeout) {
        return node.coordinator().wait_for(position, timeout);
      },
      query_options);
  ServiceMetrics service_metrics(node.catalog(), queries);

  auto ontology = make_ontology_client(config);
  if (config.roles.api) ontology->start();
  domain::OntologyTables ontology_tables(node.catalog(), products, *ontology);
  if (config.roles.api && ontology_tables.ensure_product(config.default_product)) {
    auto report = ontology_tables.initialize(config.default_product, false);
    log::info("default product initialized from the ontology",
              {{"product", config.default_product}, {"summary", report.at("summary")}});
  }

  auth::KeyService keys(node.catalog());
  auth::AuditLog audit_log(node.catalog());
  auth::Authenticator authenticator(keys, make_jwt_verifier(config), config.insecure_no_auth);
  constexpr const char* kInsecureWarning =
      "AUTHENTICATION IS OFF (insecure_no_auth): every request without credentials acts as "
      "superadmin. Use it for local trials only, never on a reachable address.";
  if (authenticator.insecure()) {
    log::warn(kInsecureWarning, {{"setting", "insecure_no_auth"}});
    // Also on stdout, where a person running the server looks (stderr is
    // JSON lines for machines).
    std::cout << "WARNING: " << kInsecureWarning << std::endl;
  } else {
    log::info("authentication", {{"api_keys", true}, {"jwt", authenticator.jwt_enabled()}});
  }

  http::Router router;
  api::MonitoringContext monitoring{
      .data_dir = config.data_dir,
      .disk_degraded_free_percent = config.health_disk_degraded_free_percent,
      .disk_unhealthy_free_percent = config.health_disk_unhealthy_free_percent,
      .duckdb = &duckdb};
  monitoring.checks["auth"] = [&authenticator, kInsecureWarning] {
    if (authenticator.insecure()) {
      return boost::json::object{
          {"status", "warning"}, {"enabled", false}, {"message", kInsecureWarning}};
    }
    return boost::json::object{
        {"status", "healthy"}, {"enabled", true}, {"jwt", authenticator.jwt_enabled()}};
  };
  if (config.roles.api) {
    monitoring.checks["ontology"] = [&ontology] {
      return ontology::health_check(ontology->status());
    };
  }
  // Bus lag: events published but not yet committed (or resolved). Degraded
  // past half the ingest backlog limit, unhealthy at it (ingest then sheds).
  monitoring.checks["bus"] = [&node, limit = config.ingest_max_backlog] {
    auto stats = node.bus().stats();
    auto watermark = node.coordinator().watermark();
    const std::uint64_t lag = node.coordinator().lag();
    const char* status = lag >= limit ? "unhealthy" : lag >= limit / 2 ? "degraded" : "healthy";
    return boost::json::object{{"status", status},
                               {"lag_events", lag},
                               {"pending", stats.pending},
                               {"in_flight", stats.in_flight},
                               {"dead_letters", stats.dead_letters},
                               {"watermark", watermark}};
  };
  // Resident memory against ingest_max_memory: degraded from 80% of it,
  // unhealthy at it (ingest then sheds).
  monitoring.checks["memory"] = [limit = ingest_options.max_memory_bytes] {
    const std::uint64_t resident = obs::resident_memory_bytes().value_or(0);
    if (limit == 0) {
      return boost::json::object{
          {"status", "healthy"}, {"resident_bytes", resident}, {"limit_bytes", nullptr}};
    }
    const char* status = resident >= limit            ? "unhealthy"
                         : resident >= limit / 10 * 8 ? "degraded"
                                                      : "healthy";
    return boost::json::object{
        {"status", status}, {"resident_bytes", resident}, {"limit_bytes", limit}};
  };
  // The coordinator's loop wakes at least every max_batch_age: a heartbeat
  // older than many of those means a commit cycle is stuck.
  monitoring.checks["coordinator"] = [&node, age = config.commit_max_batch_age_ms,
                                      commits = config.roles.coordinator] {
    auto& c = node.coordinator();
    std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    std::int64_t since_ms = (now - c.heartbeat_unix_us()) / 1000;
    std::int64_t degraded_ms = std::max<std::int64_t>(10'000, 20 * age);
    const char* status = !c.running() || since_ms >= 6 * degraded_ms ? "unhealthy"
                         : since_ms >= degraded_ms                   ? "degraded"
                                                                     : "healthy";
    return boost::json::object{{"status", status},
                               {"running", c.running()},
                               {"commits", commits},
                               {"heartbeat_age_ms", since_ms},
                               {"watermark", c.watermark()}};
  };
  monitoring.checks["node"] = [&config, consumer = node_options.coordinator.consumer] {
    return boost::json::object{{"status", "healthy"},       {"roles", config.roles.to_string()},
                               {"consumer", consumer},      {"bus", config.bus},
                               {"catalog", config.catalog}, {"store", config.store}};
  };
  // Maintenance: off, or the last run of each task; an error in the last run
  // of a task degrades the node.
  monitoring.checks["maintenance"] = [&maintenance] {
    if (!maintenance) return boost::json::object{{"status", "healthy"}, {"enabled", false}};
    boost::json::object tasks;
    bool failed = false;
    for (const auto& [task, run] : maintenance->last_runs()) {
      tasks[task] = {{"outcome", run.outcome}, {"finished_unix_us", run.finished_unix_us}};
      failed = failed || run.outcome == "error";
    }
    return boost::json::object{{"status", failed ? "degraded" : "healthy"},
                               {"enabled", true},
                               {"interval_ms", maintenance->interval().count()},
                               {"last_runs", std::move(tasks)}};
  };
  api::add_monitoring_routes(router, std::move(monitoring));
  // A node without the api role answers only monitoring and metrics. The
  // routes hold references: what they use lives as long as the server.
  domain::EntityOps entity_ops(ingest, queries, products, config.default_product);
  if (config.roles.api) {
    api::add_domain_routes(router, {.product = config.default_product,
                                    .tables = &ontology_tables,
                                    .products = &products,
                                    .ontology = ontology.get()});
    api::add_ops_routes(router, entity_ops, config.default_product);
    api::add_discovery_routes(
        router, {.product = config.default_product, .products = &products, .router = &router});
    api::add_admin_routes(router);
    api::add_product_routes(router, products);
    api::add_ingest_routes(router, ingest);
    api::add_dead_letter_routes(router, dead_letters);
    api::add_query_routes(router, queries, node.catalog());
    api::add_access_control_routes(router, {.keys = &keys, .audit = &audit_log});
  }

  // Hosts, CORS and the per-address limit come before authentication (a
  // preflight carries no credentials; a flood of bad keys is limited by
  // address); the per-credential limit needs the identity authorize() sets.
  http::Handler handler = http::chain(
      {http::request_id(), http::access_log(), http::metrics(),
       http::security_headers(!config.tls_cert_file.empty()), http::errors(),
       http::trusted_hosts(config.trusted_hosts), http::cors(config.cors_origins),
       http::rate_limit(bucket(config.rate_limit_ip, config.rate_limit_ip_burst), {}, nullptr),
       http::authorize(router, authenticator),
       http::rate_limit({}, bucket(config.rate_limit_key, config.rate_limit_key_burst),
                        [](const http::Request& request) {
                          if (!request.identity || request.identity->subject == "anonymous") {
                            return std::string();
                          }
                          return request.identity->subject;
                        }),
       http::audit(audit_log)},
      [&router](http::Request& request) { return router.dispatch(request); });

  http::ServerOptions options;
  options.host = config.listen_host;
  options.port = config.listen_port;
  options.io_threads = config.io_threads;
  options.worker_threads = config.worker_threads;
  options.worker_queue_limit = config.worker_queue_limit;
  options.body_limit = config.body_limit_bytes;
  options.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  options.header_limit = config.header_limit_bytes;
  options.tls_cert_file = config.tls_cert_file;
  options.tls_key_file = config.tls_key_file;

  // Memory freed after a burst goes back to the system within seconds, so
  // resident memory (the memory check, the metrics) follows the load down;
  // ingest over ingest_max_memory also releases at once. Every second cost
  // about 2% of the CPU under saturating ingest (page faults), every 5 s
  // nothing measurable.
  HeapReleaser heap_releaser(std::chrono::seconds(5));
  http::Server server(options, handler);
  server.start();
  std::string address = config.listen_host + ":" + std::to_string(server.port());
  log::info("listening", {{"address", address}});
  std::cout << "duckmesh listening on " << (config.tls_cert_file.empty() ? "http" : "https")
            << "://" << address << std::endl;

  server.run_until_signal(std::chrono::milliseconds(config.shutdown_grace_ms));
  if (maintenance) maintenance->stop();
  if (config.roles.api) ontology->stop();
  node.coordinator().stop();
  return 0;
}

}  // namespace duckmesh::app
