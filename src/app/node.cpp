#include "app/node.hpp"

#include "bus/local/local_log_bus.hpp"
#include "catalog/sqlite/sqlite_catalog.hpp"
#include "storage/local/local_object_store.hpp"

namespace duckmesh::app {

namespace {

// The data files' store: the bucket (its local cache under the data
// directory unless set) or <data_dir>/store. Absolute, so file paths handed
// to DuckDB match the sandbox allow-list.
std::unique_ptr<storage::ObjectStore> open_store(const std::filesystem::path& data_dir,
                                                 const std::optional<storage::S3Options>& s3) {
  if (!s3) {
    return std::make_unique<storage::LocalObjectStore>(
        std::filesystem::absolute(data_dir / "store"));
  }
  auto options = *s3;
  if (options.cache_dir.empty()) options.cache_dir = data_dir / "s3-cache";
  options.cache_dir = std::filesystem::absolute(options.cache_dir);
  return std::make_unique<storage::S3ObjectStore>(std::move(options));
}

}  // namespace

std::unique_ptr<catalog::CatalogRepo> open_catalog(
    const std::filesystem::path& data_dir,
    const std::optional<catalog::PostgresCatalogOptions>& postgres, int busy_timeout_ms,
    std::int64_t idempotency_window_us) {
  if (postgres) return std::make_unique<catalog::PostgresCatalog>(*postgres);
  catalog::SqliteCatalogOptions catalog_options;
  catalog_options.path = (data_dir / "catalog.sqlite").string();
  catalog_options.busy_timeout_ms = busy_timeout_ms;
  catalog_options.idempotency_window_us = idempotency_window_us;
  return std::make_unique<catalog::SqliteCatalog>(catalog_options);
}

Node::Node(NodeOptions options) : options_(std::move(options)) {
  std::filesystem::create_directories(options_.data_dir);
  catalog_ = open_catalog(options_.data_dir, options_.postgres, kCatalogBusyTimeoutMs,
                          options_.idempotency_window_us);
  if (options_.postgres_bus) {
    bus_ = std::make_unique<bus::PostgresBus>(*options_.postgres_bus);
  } else {
    bus::LocalLogBusOptions bus_options;
    bus_options.dir = options_.data_dir / "log";
    bus_ = std::make_unique<bus::LocalLogBus>(bus_options);
  }
  store_ = open_store(options_.data_dir, options_.s3);
  coordinator_ =
      std::make_unique<commit::Coordinator>(*catalog_, *bus_, *store_, options_.coordinator);
}

StorageBackends open_storage(const std::filesystem::path& data_dir,
                             const std::optional<catalog::PostgresCatalogOptions>& postgres,
                             int busy_timeout_ms, const std::optional<storage::S3Options>& s3) {
  StorageBackends backends;
  backends.catalog = open_catalog(data_dir, postgres, busy_timeout_ms);
  backends.store = open_store(data_dir, s3);
  return backends;
}

Node::~Node() {
  if (coordinator_) coordinator_->stop();
}

}  // namespace duckmesh::app
