// PostgresCatalog: the CatalogRepo on a PostgreSQL server, for several
// coordinator processes (on several machines) sharing one catalog.
//
// Schema: the same migrations as SQLite (catalog/migrations.hpp), applied on
// open in one transaction under an advisory lock, so processes opening a new
// database at once serialise; a database written by a newer binary is
// refused with Error internal. The migration SQL needs no translation for
// PostgreSQL (see schema_migrator.hpp).
//
// Concurrency: calls run on a pool of connections (connection_pool.hpp), so
// one instance serves several threads at once. Writers use READ COMMITTED
// transactions and take row locks in one fixed order, so two writers never
// deadlock and never decide on stale reads:
//   1. the rows of the products they write (SELECT ... FOR NO KEY UPDATE, in
//      name order),
//   2. the bus_progress row, when they resolve positions,
//   3. the catalog_sequences row of the ids they allocate (UPDATE).
// The product row lock makes the next snapshot id, the liveness of removed
// files and the idempotency check of one product a decision of one writer at
// a time: two coordinators publishing for one product never create the same
// snapshot id, and the second to retire a file fails with Error conflict and
// changes nothing. Each statement of a READ COMMITTED transaction sees what
// was committed before it started, so a writer that waited for a lock reads
// the state its predecessor left. Readers use REPEATABLE READ, READ ONLY
// transactions: one consistent view for a multi-query read, never blocked by
// writers. A deadlock or serialization failure reported by the server (not
// expected given the order above) is retried a few times.
//
// Errors, as SqliteCatalog's:
//   lost connection, server unreachable, statement_timeout or lock wait
//   beyond it                                 -> unavailable
//   connection lost while COMMIT was in flight -> unavailable (outcome unknown)
//   a uniqueness / integrity race lost         -> conflict
//   anything else from the server              -> internal
// A call whose connection broke before COMMIT is retried once on a fresh
// connection (nothing of it was committed), so one server restart costs a
// caller nothing.
//
// Where CatalogRepo leaves a choice open this implementation decides as
// SqliteCatalog does (see sqlite_catalog.hpp); the conformance tests run the
// same cases against both.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "catalog/catalog_repo.hpp"
#include "catalog/migrations.hpp"

namespace duckmesh::pg {
class ConnectionPool;
}

namespace duckmesh::catalog {

struct PostgresCatalogOptions {
  // libpq connection string ("host=... dbname=...") or URI
  // ("postgresql://user:password@host:port/db").
  std::string url;
  std::size_t pool_size = 4;
  // Longest a statement (lock waits included) may run; 0: no limit.
  int statement_timeout_ms = 30'000;
  // Longest a caller waits for a free pooled connection.
  int checkout_timeout_ms = 30'000;
  // A pooled connection idle this long is checked (SELECT 1) before use.
  int health_check_idle_ms = 1'000;
  std::int64_t idempotency_window_us = kDefaultIdempotencyWindowUs;
  // As SqliteCatalogOptions::clock.
  std::function<std::int64_t()> clock;
};

class PostgresCatalog final : public CatalogRepo {
 public:
  // Connects, and applies the migrations the database lacks. Throws
  // invalid_input for bad options, unavailable when the server cannot be
  // reached, internal when the database holds a newer schema than this
  // binary knows.
  explicit PostgresCatalog(PostgresCatalogOptions options);
  ~PostgresCatalog() override;

  Product create_product(const ProductDef& def) override;
  std::optional<Product> find_product(const std::string& name) const override;
  std::vector<Product> list_products() const override;

  std::pair<TableInfo, Snapshot> create_table(const std::string& product,
                                              const TableDef& def) override;
  std::pair<TableInfo, Snapshot> evolve_table(const std::string& product, const std::string& table,
                                              const std::string& schema_json,
                                              const std::string& options_json) override;
  Snapshot drop_table(const std::string& product, const std::string& table) override;
  std::optional<TableInfo> find_table(const std::string& product,
                                      const std::string& table) const override;
  std::vector<TableInfo> list_tables(const std::string& product) const override;
  std::vector<TableInfo> tables_at(const std::string& product,
                                   std::int64_t snapshot_id) const override;
  std::vector<SchemaVersion> schema_history(const std::string& product,
                                            const std::string& table) const override;

  std::vector<Snapshot> publish(const std::vector<Publication>& publications,
                                const std::vector<PositionRange>& resolved) override;
  void resolve_positions(const std::vector<PositionRange>& resolved) override;
  bus::Position watermark() const override;
  std::vector<bus::Position> resolved_among(
      const std::vector<bus::Position>& positions) const override;
  std::map<std::string, IdempotencyHit> find_idempotency(
      const std::string& product, const std::string& table,
      const std::vector<std::string>& keys) const override;
  void remember_requests(const std::vector<RequestRecord>& requests) override;
  std::optional<RequestAnswer> find_request(const std::string& product, const std::string& table,
                                            const std::string& key) const override;
  std::size_t purge_idempotency(std::int64_t now_unix_us) override;

  std::optional<Snapshot> latest_snapshot(const std::string& product) const override;
  std::optional<Snapshot> find_snapshot(const std::string& product, std::int64_t id) const override;
  std::optional<Snapshot> snapshot_as_of(const std::string& product,
                                         std::int64_t unix_us) const override;
  std::vector<Snapshot> list_snapshots(const std::string& product, std::size_t limit,
                                       std::int64_t before_id) const override;
  std::vector<DataFile> live_files(const std::string& product, std::int64_t snapshot_id,
                                   const std::string& table) const override;
  std::vector<DataFile> files_added(const std::string& product, const std::string& table,
                                    std::int64_t after_snapshot,
                                    std::int64_t up_to_snapshot) const override;
  std::optional<Snapshot> oldest_snapshot(const std::string& product) const override;
  ExpiryResult expire_snapshots(const std::string& product, std::size_t keep_at_least,
                                std::int64_t committed_before_unix_us, bool dry_run) override;
  std::vector<DataFile> collectable_files(const std::string& product,
                                          std::int64_t unreferenced_before_unix_us) const override;
  std::size_t forget_files(const std::string& product,
                           const std::vector<std::int64_t>& file_ids) override;
  std::vector<std::string> known_file_paths() const override;

  void create_api_key(const ApiKeyRecord& key) override;
  std::optional<ApiKeyRecord> find_api_key(const std::string& id) const override;
  std::vector<ApiKeyRecord> list_api_keys(const std::string& product) const override;
  bool revoke_api_key(const std::string& id, std::int64_t unix_us) override;
  void touch_api_key(const std::string& id, std::int64_t unix_us) override;
  std::int64_t append_audit(const AuditEntry& entry) override;
  std::vector<AuditEntry> list_audit(const std::string& product, std::int64_t since_unix_us,
                                     std::size_t limit) const override;

  // The schema version of the database (the last migration applied).
  int schema_version() const;
  // Connections the pool opened so far, replacements after failures included.
  std::size_t connections_opened() const;

  // Brings the database at `options.url` to this binary's schema without
  // opening a catalog; returns the versions before and after. Throws as the
  // constructor does.
  static MigrationOutcome migrate(const PostgresCatalogOptions& options);

 private:
  std::int64_t now_unix_us() const;
  template <typename Work>
  auto write(Work&& work);
  template <typename Work>
  auto read(Work&& work) const;

  const PostgresCatalogOptions options_;
  std::unique_ptr<pg::ConnectionPool> pool_;
};

}  // namespace duckmesh::catalog
