// SqliteCatalog: the embedded CatalogRepo, one SQLite database file.
//
// Durability: WAL journal with synchronous=FULL, so once a method that writes
// returns, what it wrote survives a crash of the process and a power loss.
// Foreign keys are enforced. The schema is brought to the version this binary
// knows on open (see catalog/migrations.hpp); a file written by a newer binary
// is refused with Error internal.
//
// Concurrency: each instance owns one SQLite connection guarded by a mutex,
// so calls on one instance run one at a time, reads included; every method is
// safe to call from any thread. Several instances and several processes may
// open the same file. Writers take SQLite's write lock when their transaction
// begins (BEGIN IMMEDIATE) and wait for it up to busy_timeout_ms, then fail
// with Error unavailable; readers see a consistent state and do not block
// writers. Two publications racing to remove the same file: the second fails
// with Error conflict and changes nothing.
//
// Ids: product, table and data file ids come from a sequence table and are
// never reused; snapshot ids are per product: 1, 2, 3, ... without gaps.
//
// Times are microseconds since the Unix epoch. A product's snapshot commit
// times strictly increase: when the clock reads at or before the previous
// snapshot's time (it went back), the new snapshot takes previous + 1.
//
// Where CatalogRepo leaves a choice open, this implementation:
// - throws not_found for an unknown product from methods returning a vector
//   or a map, and returns nullopt from methods returning an optional;
// - create_table: invalid_input for a bad table name, an empty schema, a keyed
//   table without a primary key, an append table with one, or a partition
//   transform other than day, month, year, identity;
// - evolve_table: an empty options_json keeps the current options; not_found
//   when no live table has the name;
// - schema_history: of the live table of that name, else of the most recently
//   dropped one; not_found when the name never existed;
// - tables_at: each table's schema_version, schema_json and options_json are
//   those in force at the snapshot; dropped_snapshot is the table's actual
//   drop, which may lie after the snapshot asked for;
// - publish: not_found for an unknown product, an unknown table of a new file,
//   or a removed file id that is not the product's; conflict when an
//   idempotency key of the same product and table is already recorded and
//   not expired, so one event is never committed twice (an expired record is
//   replaced); invalid_input for a position of 0 or >= 2^63 - 1, a range
//   with first > last, an empty path, negative counts, an empty key.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "catalog/catalog_repo.hpp"
#include "catalog/migrations.hpp"

namespace duckmesh::catalog {

namespace sqlite {
class Connection;
}

struct SqliteCatalogOptions {
  // The database file; created when absent. Its directory must exist.
  std::string path;
  // How long an idempotency key is remembered after its publication.
  std::int64_t idempotency_window_us = kDefaultIdempotencyWindowUs;
  // How long a writer waits for another connection's write lock.
  int busy_timeout_ms = 5000;
  // The current time in microseconds since the Unix epoch; empty means
  // std::chrono::system_clock. Tests set it to control commit times.
  std::function<std::int64_t()> clock;
};

class SqliteCatalog final : public CatalogRepo {
 public:
  // Opens or creates the file and applies the migrations it lacks. Throws
  // invalid_input for bad options, unavailable when the file stays locked
  // beyond the busy timeout, internal when it cannot be opened or holds a
  // newer schema than this binary knows.
  explicit SqliteCatalog(SqliteCatalogOptions options);
  ~SqliteCatalog() override;

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
  std::optional<Snapshot> snapshot_as_of(const std::string& product,
                                         std::int64_t unix_us) const override;
  std::vector<Snapshot> list_snapshots(const std::string& product, std::size_t limit,
                                       std::int64_t before_id) const override;
  std::vector<DataFile> live_files(const std::string& product, std::int64_t snapshot_id,
                                   const std::string& table) const override;

  void create_api_key(const ApiKeyRecord& key) override;
  std::optional<ApiKeyRecord> find_api_key(const std::string& id) const override;
  std::vector<ApiKeyRecord> list_api_keys(const std::string& product) const override;
  bool revoke_api_key(const std::string& id, std::int64_t unix_us) override;
  void touch_api_key(const std::string& id, std::int64_t unix_us) override;
  std::int64_t append_audit(const AuditEntry& entry) override;
  std::vector<AuditEntry> list_audit(const std::string& product, std::int64_t since_unix_us,
                                     std::size_t limit) const override;

  // The schema version of the file (the last migration applied).
  int schema_version() const;

  // Brings the file at `options.path` (created when absent) to this binary's
  // schema without opening a catalog; returns the versions before and after.
  // Throws as the constructor does.
  static MigrationOutcome migrate(const SqliteCatalogOptions& options);

 private:
  std::int64_t now_unix_us() const;

  const SqliteCatalogOptions options_;
  mutable std::mutex mutex_;  // guards connection_
  std::unique_ptr<sqlite::Connection> connection_;
};

}  // namespace duckmesh::catalog
