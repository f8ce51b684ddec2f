#include "app/serve.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "api/admin.hpp"
#include "api/ingest.hpp"
#include "api/monitoring.hpp"
#include "api/products.hpp"
#include "api/query.hpp"
#include "app/maintenance_command.hpp"
#include "app/node.hpp"
#include "common/error.hpp"
#include "duck/database.hpp"
#include "http/middleware.hpp"
#include "http/server.hpp"
#include "ingest/service.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
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

  http::Router router;
  api::add_monitoring_routes(router, {.data_dir = config.data_dir, .duckdb = &duckdb});
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
  node.coordinator().stop();
  return 0;
}

}  // namespace duckmesh::app
