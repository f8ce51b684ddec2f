#include "app/serve.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "api/admin.hpp"
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
#include "common/error.hpp"
#include "domain/entity_ops.hpp"
#include "domain/ontology_tables.hpp"
#include "duck/database.hpp"
#include "http/middleware.hpp"
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

// The S3 store's options from the configuration; invalid_input naming a
// missing setting.
storage::S3Options s3_options(const Config& config) {
  auto require = [](const std::string& value, const char* setting) {
    if (value.empty()) {
      throw Error(ErrorCode::invalid_input,
                  std::string("setting '") + setting + "' is required when store is s3",
                  {{"setting", setting}});
    }
  };
  require(config.s3_endpoint, "s3_endpoint");
  require(config.s3_bucket, "s3_bucket");
  require(config.s3_access_key, "s3_access_key");
  require(config.s3_secret_key, "s3_secret_key");
  storage::S3Options o;
  o.endpoint = config.s3_endpoint;
  o.bucket = config.s3_bucket;
  o.prefix = config.s3_prefix;
  o.region = config.s3_region;
  o.credentials = {config.s3_access_key, config.s3_secret_key, ""};
  o.path_style = config.s3_path_style;
  o.cache_bytes = config.s3_cache_bytes;
  return o;
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
  if (config.store == "s3") node_options.s3 = s3_options(config);
  node_options.postgres = postgres_catalog_options(config);
  Node node(node_options);
  node.coordinator().start();
  std::unique_ptr<maintenance::MaintenanceLoop> maintenance;
  if (config.maintenance_enabled) {
    maintenance = std::make_unique<maintenance::MaintenanceLoop>(node.catalog(), node.store(),
                                                                 maintenance_options(config));
    maintenance->refresh_table_metrics();
    maintenance->start();
  }
  product::ProductService products(node.catalog());
  ingest::IngestOptions ingest_options;
  ingest_options.max_bus_backlog = config.ingest_max_backlog;
  ingest_options.max_decompressed_bytes =
      std::max<std::size_t>(config.body_limit_bytes * 16, 64u << 20);
  ingest::IngestService ingest(node.catalog(), node.bus(), node.coordinator(), products,
                               ingest_options);

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

  auto ontology = make_ontology_client(config);
  ontology->start();
  domain::OntologyTables ontology_tables(node.catalog(), products, *ontology);
  if (ontology_tables.ensure_product(config.default_product)) {
    auto report = ontology_tables.initialize(config.default_product, false);
    log::info("default product initialized from the ontology",
              {{"product", config.default_product}, {"summary", report.at("summary")}});
  }

  http::Router router;
  api::MonitoringContext monitoring{.data_dir = config.data_dir, .duckdb = &duckdb};
  monitoring.checks["ontology"] = [&ontology] {
    return ontology::health_check(ontology->status());
  };
  // Bus lag: events published but not yet committed (or resolved). Degraded
  // past half the ingest backlog limit, unhealthy at it (ingest then sheds).
  monitoring.checks["bus"] = [&node, limit = config.ingest_max_backlog] {
    auto stats = node.bus().stats();
    auto watermark = node.coordinator().watermark();
    std::uint64_t lag = stats.last_position > watermark ? stats.last_position - watermark : 0;
    const char* status = lag >= limit ? "unhealthy" : lag >= limit / 2 ? "degraded" : "healthy";
    return boost::json::object{{"status", status},
                               {"lag_events", lag},
                               {"pending", stats.pending},
                               {"in_flight", stats.in_flight},
                               {"dead_letters", stats.dead_letters},
                               {"watermark", watermark}};
  };
  // The coordinator's loop wakes at least every max_batch_age: a heartbeat
  // older than many of those means a commit cycle is stuck.
  monitoring.checks["coordinator"] = [&node, age = config.commit_max_batch_age_ms] {
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
                               {"heartbeat_age_ms", since_ms},
                               {"watermark", c.watermark()}};
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
  api::add_domain_routes(router, {.product = config.default_product,
                                  .tables = &ontology_tables,
                                  .products = &products,
                                  .ontology = ontology.get()});
  domain::EntityOps entity_ops(ingest, queries, products, config.default_product);
  api::add_ops_routes(router, entity_ops);
  api::add_discovery_routes(
      router, {.product = config.default_product, .products = &products, .router = &router});
  api::add_admin_routes(router);
  api::add_product_routes(router, products);
  api::add_ingest_routes(router, ingest);
  api::add_query_routes(router, queries, node.catalog());

  http::Handler handler =
      http::chain({http::request_id(), http::access_log(), http::metrics(), http::errors()},
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

  http::Server server(options, handler);
  server.start();
  std::string address = config.listen_host + ":" + std::to_string(server.port());
  log::info("listening", {{"address", address}});
  std::cout << "duckmesh listening on http://" << address << std::endl;

  server.run_until_signal(std::chrono::milliseconds(config.shutdown_grace_ms));
  if (maintenance) maintenance->stop();
  ontology->stop();
  node.coordinator().stop();
  return 0;
}

}  // namespace duckmesh::app
