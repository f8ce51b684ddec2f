// CatalogRepo: the SQL catalog that says what exists and what is visible.
//
// It holds products, tables and their schema versions, snapshots, data files,
// idempotency records, and the bus watermark. A snapshot is the unit of
// visibility: readers resolve one snapshot id and see exactly the files live
// in it, never half of a publication.
//
// Atomicity: publish(), create_table(), evolve_table() and drop_table() are
// each one database transaction: either everything they describe becomes
// visible (files, snapshots, idempotency keys, watermark) or nothing does.
// Snapshot ids increase by one per product, starting at 1.
//
// Thread safety: every method may be called concurrently from many threads
// and from many processes sharing the same catalog. Errors throw
// duckmesh::Error (not_found, conflict, invalid_input, unavailable, internal).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bus/ingest_bus.hpp"

namespace duckmesh::catalog {

enum class TableKind { append, keyed };
enum class Operation { ingest, compact, schema, drop };

std::string_view to_string(TableKind kind);
std::string_view to_string(Operation op);
TableKind table_kind_from_string(std::string_view s);  // throws invalid_input
Operation operation_from_string(std::string_view s);   // throws invalid_input

struct ProductDef {
  std::string name;
  std::string description;
  std::string owner;
};

struct Product {
  std::int64_t id = 0;
  std::string name;
  std::string description;
  std::string owner;
  std::int64_t created_unix_us = 0;
};

// Partitioning of a table's files: by a transform of one column.
// transform: "day" | "month" | "year" (of a timestamp/date column) | "identity".
struct PartitionSpec {
  std::string column;  // empty: not partitioned
  std::string transform;
  bool enabled() const { return !column.empty(); }
};

struct TableDef {
  std::string name;
  TableKind kind = TableKind::append;
  std::vector<std::string> primary_key;  // keyed tables only
  PartitionSpec partition;
  std::string schema_json;          // the table's columns, as the schema module writes them
  std::string options_json = "{}";  // table options (unknown-field policy, sort key, ...)
};

struct TableInfo {
  std::int64_t id = 0;
  std::string product;
  std::string name;
  TableKind kind = TableKind::append;
  std::vector<std::string> primary_key;
  PartitionSpec partition;
  std::int32_t schema_version = 0;
  std::string schema_json;
  std::string options_json;
  std::int64_t created_snapshot = 0;
  std::optional<std::int64_t> dropped_snapshot;
  std::int64_t created_unix_us = 0;
};

struct SchemaVersion {
  std::int32_t version = 0;
  std::string schema_json;
  std::int64_t snapshot_id = 0;
  std::int64_t created_unix_us = 0;
};

// Per-column statistics of one data file; min/max as SQL literal text of the
// column's type (e.g. "42", "2024-05-01 10:00:00"), absent when all NULL.
struct ColumnStats {
  std::string column;
  std::optional<std::string> min;
  std::optional<std::string> max;
  std::int64_t null_count = 0;
};

struct NewFile {
  std::string table;
  std::string path;                   // ObjectStore key
  std::string partition_json = "{}";  // {"column": "value"} of its partition
  std::int64_t row_count = 0;
  std::int64_t bytes = 0;
  std::vector<ColumnStats> stats;
};

struct DataFile {
  std::int64_t id = 0;
  std::string product;
  std::string table;
  std::string path;
  std::string partition_json;
  std::int64_t row_count = 0;
  std::int64_t bytes = 0;
  std::vector<ColumnStats> stats;
  std::int64_t added_snapshot = 0;
  std::optional<std::int64_t> removed_snapshot;
};

struct Snapshot {
  std::int64_t id = 0;
  std::string product;
  std::optional<std::int64_t> parent;
  std::int64_t committed_unix_us = 0;
  Operation operation = Operation::ingest;
  std::string summary_json = "{}";
  bus::Position watermark = 0;  // bus watermark when this snapshot committed
};

struct IdempotencyEntry {
  std::string table;
  std::string key;
  bus::Position position = 0;
};

struct IdempotencyHit {
  bus::Position position = 0;
  std::int64_t snapshot_id = 0;
};

// How long idempotency keys and request answers are remembered unless a
// catalog's options say otherwise: 7 days.
inline constexpr std::int64_t kDefaultIdempotencyWindowUs = std::int64_t{7} * 24 * 3600 * 1'000'000;

// What ingest answered a request sent with an Idempotency-Key header.
struct RequestAnswer {
  std::uint64_t fingerprint = 0;  // of the request's body and format
  std::string answer_json;        // the answer, as ingest encodes it
};

// An answer with the request it answered: `key` of `product`'s `table`.
struct RequestRecord {
  std::string product;
  std::string table;
  std::string key;
  RequestAnswer answer;
};

// An inclusive range of bus positions.
struct PositionRange {
  bus::Position first = 0;
  bus::Position last = 0;
};

// What expire_snapshots did (or, on a dry run, would do).
struct ExpiryResult {
  std::int64_t expired = 0;                 // snapshots forgotten
  std::optional<std::int64_t> oldest_kept;  // the oldest snapshot still readable
  std::int64_t files_unreferenced = 0;      // files no kept snapshot needs any more
};

// One product's part of a publication.
struct Publication {
  std::string product;
  Operation operation = Operation::ingest;
  std::vector<NewFile> added;
  std::vector<std::int64_t> removed_file_ids;  // must all be live, else conflict
  std::vector<IdempotencyEntry> idempotency;
  std::string summary_json = "{}";
};

// An API key as the catalog keeps it: never the secret, only its salted hash.
// `product` is empty for a platform (superadmin) key. Roles are the wire names
// reader, writer, admin, superadmin.
struct ApiKeyRecord {
  std::string id;
  std::string product;
  std::string role;
  std::string secret_hash;
  std::int64_t created_unix_us = 0;
  std::optional<std::int64_t> last_used_unix_us;
  std::optional<std::int64_t> revoked_unix_us;
};

// One administrative action: who did what to which target, and how it ended
// ("success" or an error code). `product` is empty for platform actions.
struct AuditEntry {
  std::int64_t id = 0;  // assigned by append_audit
  std::int64_t at_unix_us = 0;
  std::string actor;
  std::string action;
  std::string product;
  std::string target;
  std::string outcome;
  std::string details_json = "{}";
};

class CatalogRepo {
 public:
  virtual ~CatalogRepo() = default;
  CatalogRepo() = default;
  CatalogRepo(const CatalogRepo&) = delete;
  CatalogRepo& operator=(const CatalogRepo&) = delete;

  // --- products --------------------------------------------------------
  // conflict if the name exists; invalid_input for a bad name.
  virtual Product create_product(const ProductDef& def) = 0;
  virtual std::optional<Product> find_product(const std::string& name) const = 0;
  virtual std::vector<Product> list_products() const = 0;

  // --- tables ----------------------------------------------------------
  // Creates the table at schema version 1 with a `schema` snapshot.
  // conflict if a live table of that name exists; not_found for the product.
  virtual std::pair<TableInfo, Snapshot> create_table(const std::string& product,
                                                      const TableDef& def) = 0;
  // New schema version (+1) and a `schema` snapshot. Compatibility is the
  // caller's business; the catalog records what it is given.
  virtual std::pair<TableInfo, Snapshot> evolve_table(const std::string& product,
                                                      const std::string& table,
                                                      const std::string& schema_json,
                                                      const std::string& options_json) = 0;
  // Marks the table dropped and its live files removed, in a `drop` snapshot.
  virtual Snapshot drop_table(const std::string& product, const std::string& table) = 0;
  // The live (not dropped) table, or nullopt.
  virtual std::optional<TableInfo> find_table(const std::string& product,
                                              const std::string& table) const = 0;
  virtual std::vector<TableInfo> list_tables(const std::string& product) const = 0;
  // Tables live at `snapshot_id`, each with the schema in force at that snapshot.
  virtual std::vector<TableInfo> tables_at(const std::string& product,
                                           std::int64_t snapshot_id) const = 0;
  virtual std::vector<SchemaVersion> schema_history(const std::string& product,
                                                    const std::string& table) const = 0;

  // --- publication -----------------------------------------------------
  // One transaction: for each publication register its files, retire its
  // removed files (conflict, and nothing at all happens, if any is no longer
  // live), record its idempotency keys (expiring after the configured window),
  // create its snapshot; mark `resolved` bus positions as resolved and advance
  // the watermark. Returns the snapshots in the order of `publications`.
  // A publication with no files and no removals still creates a snapshot.
  virtual std::vector<Snapshot> publish(const std::vector<Publication>& publications,
                                        const std::vector<PositionRange>& resolved) = 0;

  // Marks bus positions resolved without publishing data (dead letters,
  // duplicates dropped by the coordinator). Advances the watermark.
  virtual void resolve_positions(const std::vector<PositionRange>& resolved) = 0;

  // The bus watermark: every position <= it is resolved (committed in some
  // snapshot, dropped as a duplicate, or dead-lettered).
  virtual bus::Position watermark() const = 0;

  // Which of `positions` are already resolved (crash recovery: a record
  // committed but not acked before a crash must not be committed again).
  virtual std::vector<bus::Position> resolved_among(
      const std::vector<bus::Position>& positions) const = 0;

  // Committed idempotency keys of a table among `keys`, with where they went.
  virtual std::map<std::string, IdempotencyHit> find_idempotency(
      const std::string& product, const std::string& table,
      const std::vector<std::string>& keys) const = 0;
  // Remembers, for the idempotency window, what ingest answered requests
  // sent with an Idempotency-Key header, so a retry on any node, or after a
  // restart, gets the same answer; one transaction for all of them
  // (not_found for an unknown product, and none is stored). The first
  // answer recorded for a key stays until it expires. Written without
  // waiting for the storage's sync: an answer survives a crash of this
  // process, and the next synced commit makes it durable.
  virtual void remember_requests(const std::vector<RequestRecord>& requests) = 0;
  // The answer remembered for that header key, if it has not expired.
  virtual std::optional<RequestAnswer> find_request(const std::string& product,
                                                    const std::string& table,
                                                    const std::string& key) const = 0;
  // Forgets idempotency records and remembered request answers older than
  // the window; returns how many.
  virtual std::size_t purge_idempotency(std::int64_t now_unix_us) = 0;

  // --- snapshots and files ---------------------------------------------
  virtual std::optional<Snapshot> latest_snapshot(const std::string& product) const = 0;
  virtual std::optional<Snapshot> find_snapshot(const std::string& product,
                                                std::int64_t id) const = 0;
  // The last snapshot committed at or before `unix_us`.
  virtual std::optional<Snapshot> snapshot_as_of(const std::string& product,
                                                 std::int64_t unix_us) const = 0;
  // Newest first; `before_id` 0 means from the latest.
  virtual std::vector<Snapshot> list_snapshots(const std::string& product, std::size_t limit,
                                               std::int64_t before_id) const = 0;
  // Files live at `snapshot_id` (added <= id and not removed at or before id);
  // all tables when `table` is empty.
  virtual std::vector<DataFile> live_files(const std::string& product, std::int64_t snapshot_id,
                                           const std::string& table) const = 0;

  // Files of `table` added by snapshots after `after_snapshot` up to and
  // including `up_to_snapshot`, whether still live or since retired (by a
  // compaction), except those already unreferenced (gc may have deleted
  // them). Ordered by id. The rows a table received in that range.
  virtual std::vector<DataFile> files_added(const std::string& product, const std::string& table,
                                            std::int64_t after_snapshot,
                                            std::int64_t up_to_snapshot) const = 0;

  // --- retention and garbage collection --------------------------------
  // The oldest snapshot still readable (expiry forgets older ones), or nullopt.
  virtual std::optional<Snapshot> oldest_snapshot(const std::string& product) const = 0;

  // One transaction: forgets the product's oldest snapshots, keeping always
  // the newest `keep_at_least` (at least 1: the newest snapshot is never
  // expired) and every snapshot committed at or after `committed_before_unix_us`.
  // Expiry only ever removes a prefix of the history, so the kept snapshots
  // are contiguous. A file retired at or before the oldest kept snapshot is
  // needed by no kept snapshot; it is marked unreferenced at the current
  // time (once), which starts its grace period for garbage collection.
  // Tables, schema versions and idempotency records are kept. With `dry_run`
  // nothing changes and the result says what would happen.
  // not_found for the product; invalid_input when keep_at_least is 0.
  virtual ExpiryResult expire_snapshots(const std::string& product, std::size_t keep_at_least,
                                        std::int64_t committed_before_unix_us, bool dry_run) = 0;

  // Files of the product marked unreferenced at or before `unreferenced_before_unix_us`
  // (their grace period is over): no kept snapshot lists them, so their objects
  // may be deleted. Ordered by id.
  virtual std::vector<DataFile> collectable_files(
      const std::string& product, std::int64_t unreferenced_before_unix_us) const = 0;

  // Forgets the catalog rows of files among `file_ids` that are unreferenced
  // (others are left alone); returns how many were forgotten. Called after
  // their objects are deleted, so a crash in between only repeats the delete.
  virtual std::size_t forget_files(const std::string& product,
                                   const std::vector<std::int64_t>& file_ids) = 0;

  // Every object key the catalog still records for a file of any product, in
  // any state (live, retired, unreferenced). An object in the store under
  // products/ that is not among them was never published: an orphan.
  virtual std::vector<std::string> known_file_paths() const = 0;

  // --- API keys and the audit log ---------------------------------------
  // Stores a new key. conflict when the id exists; invalid_input for an
  // unknown role or a product/role mismatch (superadmin has no product, every
  // other role has one). The product is not checked for existence here.
  virtual void create_api_key(const ApiKeyRecord& key) = 0;
  virtual std::optional<ApiKeyRecord> find_api_key(const std::string& id) const = 0;
  // Keys of one product, or of every product and the platform when `product`
  // is empty; ordered by creation time.
  virtual std::vector<ApiKeyRecord> list_api_keys(const std::string& product) const = 0;
  // Marks the key revoked at `unix_us` (a revoked key stays listed). Returns
  // false when no key has the id; revoking twice keeps the first time.
  virtual bool revoke_api_key(const std::string& id, std::int64_t unix_us) = 0;
  // Records when the key was last used. Callers throttle this (it is a write).
  virtual void touch_api_key(const std::string& id, std::int64_t unix_us) = 0;

  // Appends an entry (durable on return) and returns its id; ids increase.
  virtual std::int64_t append_audit(const AuditEntry& entry) = 0;
  // Newest first: entries of `product` (all when empty) at or after
  // `since_unix_us`, at most `limit`.
  virtual std::vector<AuditEntry> list_audit(const std::string& product, std::int64_t since_unix_us,
                                             std::size_t limit) const = 0;
};

}  // namespace duckmesh::catalog
