// Node: the parts of one DuckMesh node on its embedded defaults, built from a
// data directory:
//   <data_dir>/catalog.sqlite   SQLite catalog (WAL), unless a PostgreSQL
//                               catalog is configured
//   <data_dir>/log/             durable local ingest log, unless a
//                               PostgreSQL bus is configured
//   <data_dir>/store/           data files
// and the commit coordinator over them. The composition root: the only place
// that names concrete backends.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "bus/ingest_bus.hpp"
#include "bus/postgres/postgres_bus.hpp"
#include "catalog/catalog_repo.hpp"
#include "catalog/postgres/postgres_catalog.hpp"
#include "commit/coordinator.hpp"
#include "storage/object_store.hpp"
#include "storage/s3/s3_object_store.hpp"

namespace duckmesh::app {

struct NodeOptions {
  std::filesystem::path data_dir = "./duckmesh-data";
  // Data files on an S3-compatible server instead of <data_dir>/store when
  // set; its cache_dir defaults to <data_dir>/s3-cache.
  std::optional<storage::S3Options> s3;
  // The catalog in a PostgreSQL database instead of <data_dir>/catalog.sqlite
  // when set.
  std::optional<catalog::PostgresCatalogOptions> postgres;
  // The ingest bus in PostgreSQL tables instead of <data_dir>/log when set,
  // shared by every node that names the same database.
  std::optional<bus::PostgresBusOptions> postgres_bus;
  commit::CoordinatorOptions coordinator;
  // How long the SQLite catalog remembers idempotency keys and request
  // answers (the PostgreSQL catalog's options carry their own).
  std::int64_t idempotency_window_us = catalog::kDefaultIdempotencyWindowUs;
};

// How long a catalog writer waits for another process's SQLite write lock.
inline constexpr int kCatalogBusyTimeoutMs = 5000;

// The catalog of a node: PostgreSQL when `postgres` is set, else the SQLite
// file <data_dir>/catalog.sqlite, whose writers wait up to `busy_timeout_ms`
// for another process's write lock.
std::unique_ptr<catalog::CatalogRepo> open_catalog(
    const std::filesystem::path& data_dir,
    const std::optional<catalog::PostgresCatalogOptions>& postgres,
    int busy_timeout_ms = kCatalogBusyTimeoutMs,
    std::int64_t idempotency_window_us = catalog::kDefaultIdempotencyWindowUs);

class Node {
 public:
  explicit Node(NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  catalog::CatalogRepo& catalog() { return *catalog_; }
  bus::IngestBus& bus() { return *bus_; }
  storage::ObjectStore& store() { return *store_; }
  commit::Coordinator& coordinator() { return *coordinator_; }

 private:
  NodeOptions options_;
  std::unique_ptr<catalog::CatalogRepo> catalog_;
  std::unique_ptr<bus::IngestBus> bus_;
  std::unique_ptr<storage::ObjectStore> store_;
  std::unique_ptr<commit::Coordinator> coordinator_;
};

// The catalog and store of a data directory, without its ingest log (whose
// lock a running server holds): what the maintenance commands need. An
// SQLite catalog waits up to `busy_timeout_ms` for another process's write.
struct StorageBackends {
  std::unique_ptr<catalog::CatalogRepo> catalog;
  std::unique_ptr<storage::ObjectStore> store;
};
// The store is the bucket `s3` names when set (its cache under data_dir),
// else <data_dir>/store.
StorageBackends open_storage(const std::filesystem::path& data_dir,
                             const std::optional<catalog::PostgresCatalogOptions>& postgres,
                             int busy_timeout_ms,
                             const std::optional<storage::S3Options>& s3 = std::nullopt);

}  // namespace duckmesh::app
