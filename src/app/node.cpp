#include "app/node.hpp"

#include "bus/local/local_log_bus.hpp"
#include "catalog/sqlite/sqlite_catalog.hpp"
#include "storage/local/local_object_store.hpp"

namespace duckmesh::app {

std::unique_ptr<catalog::CatalogRepo> open_catalog(
    const std::filesystem::path& data_dir,
    const std::optional<catalog::PostgresCatalogOptions>& postgres, int busy_timeout_ms) {
  if (postgres) return std::make_unique<catalog::PostgresCatalog>(*postgres);
  catalog::SqliteCatalogOptions catalog_options;
  catalog_options.path = (data_dir / "catalog.sqlite").string();
  catalog_options.busy_timeout_ms = busy_timeout_ms;
  return std::make_unique<catalog::SqliteCatalog>(catalog_options);
}

Node::Node(NodeOptions options) : options_(std::move(options)) {
  std::filesystem::create_directories(options_.data_dir);
  catalog_ = open_catalog(options_.data_dir, options_.postgres);
  if (options_.postgres_bus) {
    bus_ = std::make_unique<bus::PostgresBus>(*options_.postgres_bus);
  } else {
    bus::LocalLogBusOptions bus_options;
    bus_options.dir = options_.data_dir / "log";
    bus_ = std::make_unique<bus::LocalLogBus>(bus_options);
  }
  // Absolute, so file paths handed to DuckDB match the sandbox allow-list.
  if (options_.s3) {
    auto s3 = *options_.s3;
    if (s3.cache_dir.empty()) s3.cache_dir = options_.data_dir / "s3-cache";
    s3.cache_dir = std::filesystem::absolute(s3.cache_dir);
    store_ = std::make_unique<storage::S3ObjectStore>(std::move(s3));
  } else {
    store_ = std::make_unique<storage::LocalObjectStore>(
        std::filesystem::absolute(options_.data_dir / "store"));
  }
  coordinator_ =
      std::make_unique<commit::Coordinator>(*catalog_, *bus_, *store_, options_.coordinator);
}

StorageBackends open_storage(const std::filesystem::path& data_dir,
                             const std::optional<catalog::PostgresCatalogOptions>& postgres,
                             int busy_timeout_ms) {
  StorageBackends backends;
  backends.catalog = open_catalog(data_dir, postgres, busy_timeout_ms);
  backends.store =
      std::make_unique<storage::LocalObjectStore>(std::filesystem::absolute(data_dir / "store"));
  return backends;
}

Node::~Node() {
  if (coordinator_) coordinator_->stop();
}

}  // namespace duckmesh::app
