#include "catalog/sqlite/sqlite_catalog.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <exception>
#include <limits>
#include <map>
#include <utility>

#include "catalog/catalog_rules.hpp"
#include "catalog/json_fields.hpp"
#include "catalog/names.hpp"
#include "catalog/sqlite/connection.hpp"
#include "catalog/sqlite/schema_migrator.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

// --- products --------------------------------------------------------------

constexpr std::string_view kProductColumns = "id, name, description, owner, created_at";

Product read_product(const Statement& row) {
  Product product;
  product.id = row.column_int64(0);
  product.name = row.column_text(1);
  product.description = row.column_text(2);
  product.owner = row.column_text(3);
  product.created_unix_us = row.column_int64(4);
  return product;
}

std::optional<std::int64_t> find_product_id(Connection& db, const std::string& name) {
  auto query = db.prepare("SELECT id FROM products WHERE name = ?1");
  query.bind_text(1, name);
  if (!query.step()) return std::nullopt;
  return query.column_int64(0);
}

std::int64_t require_product_id(Connection& db, const std::string& name) {
  const auto id = find_product_id(db, name);
  if (!id) throw_product_not_found(name);
  return *id;
}

// Hands out `count` consecutive ids of `sequence`; returns the first.
std::int64_t allocate_ids(Connection& db, std::string_view sequence, std::int64_t count) {
  auto query = db.prepare("SELECT next_value FROM catalog_sequences WHERE name = ?1");
  query.bind_text(1, sequence);
  if (!query.step()) {
    throw Error(ErrorCode::internal,
                "catalog database lacks sequence '" + std::string(sequence) + "'");
  }
  const std::int64_t first = query.column_int64(0);
  db.prepare("UPDATE catalog_sequences SET next_value = next_value + ?2 WHERE name = ?1")
      .bind_text(1, sequence)
      .bind_int64(2, count)
      .run();
  return first;
}

// --- watermark -------------------------------------------------------------

bus::Position read_watermark(Connection& db) {
  auto query = db.prepare("SELECT watermark FROM bus_progress WHERE id = 1");
  if (!query.step())
    throw Error(ErrorCode::internal, "catalog database lacks its bus_progress row");
  return static_cast<bus::Position>(query.column_int64(0));
}

// Records `ranges` as resolved and advances the watermark over every range
// that now touches it. Stored ranges stay disjoint and non-adjacent, all above
// the watermark. Returns the new watermark. REQUIRES: a write transaction.
// With `exclusive` (a publication), a range that is already resolved, even in
// part, throws conflict instead: two coordinators holding the same records
// (one's lease expired mid-commit) cannot both commit them.
bus::Position apply_resolved(Connection& db, const std::vector<PositionRange>& ranges,
                             bool exclusive) {
  const auto before = static_cast<std::int64_t>(read_watermark(db));
  std::int64_t watermark = before;
  if (ranges.empty()) return static_cast<bus::Position>(watermark);

  auto overlapping = db.prepare(
      "SELECT MIN(first_position), MAX(last_position) FROM resolved_ranges "
      "WHERE first_position <= ?2 + 1 AND last_position >= ?1 - 1");
  auto remove_within =
      db.prepare("DELETE FROM resolved_ranges WHERE first_position >= ?1 AND last_position <= ?2");
  auto insert =
      db.prepare("INSERT INTO resolved_ranges (first_position, last_position) VALUES (?1, ?2)");
  auto intersecting = db.prepare(
      "SELECT MAX(first_position, ?1), MIN(last_position, ?2) FROM resolved_ranges "
      "WHERE first_position <= ?2 AND last_position >= ?1 LIMIT 1");
  for (const auto& range : ranges) {
    if (exclusive) {
      const auto range_first = static_cast<std::int64_t>(range.first);
      const auto range_last = static_cast<std::int64_t>(range.last);
      if (range_first <= watermark) {
        throw_already_resolved(range_first, std::min(range_last, watermark));
      }
      intersecting.bind_int64(1, range_first).bind_int64(2, range_last);
      if (intersecting.step()) {
        throw_already_resolved(intersecting.column_int64(0), intersecting.column_int64(1));
      }
      intersecting.reset();
    }
    std::int64_t first = std::max(static_cast<std::int64_t>(range.first), watermark + 1);
    std::int64_t last = static_cast<std::int64_t>(range.last);
    if (last < first) continue;  // entirely at or below the watermark
    overlapping.bind_int64(1, first).bind_int64(2, last);
    if (overlapping.step() && !overlapping.column_is_null(0)) {
      first = std::min(first, overlapping.column_int64(0));
      last = std::max(last, overlapping.column_int64(1));
    }
    overlapping.reset();
    remove_within.bind_int64(1, first).bind_int64(2, last).run();
    remove_within.reset();
    insert.bind_int64(1, first).bind_int64(2, last).run();
    insert.reset();
  }

  auto touching = db.prepare("SELECT last_position FROM resolved_ranges WHERE first_position = ?1");
  while (true) {
    touching.bind_int64(1, watermark + 1);
    const bool found = touching.step();
    const std::int64_t last = found ? touching.column_int64(0) : 0;
    touching.reset();
    if (!found) break;
    watermark = last;
  }
  if (watermark != before) {
    db.prepare("DELETE FROM resolved_ranges WHERE last_position <= ?1")
        .bind_int64(1, watermark)
        .run();
    db.prepare("UPDATE bus_progress SET watermark = ?1 WHERE id = 1")
        .bind_int64(1, watermark)
        .run();
  }
  return static_cast<bus::Position>(watermark);
}

// --- snapshots -------------------------------------------------------------

constexpr std::string_view kSnapshotColumns =
    "id, parent_id, committed_at, operation, summary_json, watermark";

Snapshot read_snapshot(const Statement& row, const std::string& product) {
  Snapshot snapshot;
  snapshot.id = row.column_int64(0);
  snapshot.product = product;
  snapshot.parent = row.column_optional_int64(1);
  snapshot.committed_unix_us = row.column_int64(2);
  snapshot.operation = operation_from_string(row.column_text(3));
  snapshot.summary_json = row.column_text(4);
  snapshot.watermark = static_cast<bus::Position>(row.column_int64(5));
  return snapshot;
}

// The id, parent and commit time a product's next snapshot takes.
struct SnapshotSlot {
  std::int64_t id = 1;
  std::optional<std::int64_t> parent;
  std::int64_t committed_unix_us = 0;
};

SnapshotSlot next_snapshot(Connection& db, std::int64_t product_id, std::int64_t now_unix_us) {
  auto query = db.prepare(
      "SELECT id, committed_at FROM snapshots WHERE product_id = ?1 ORDER BY id DESC LIMIT 1");
  query.bind_int64(1, product_id);
  SnapshotSlot slot;
  slot.committed_unix_us = now_unix_us;
  if (query.step()) {
    slot.parent = query.column_int64(0);
    slot.id = *slot.parent + 1;
    slot.committed_unix_us = std::max(now_unix_us, query.column_int64(1) + 1);
  }
  return slot;
}

Snapshot write_snapshot(Connection& db, std::int64_t product_id, const std::string& product,
                        const SnapshotSlot& slot, Operation operation, std::string summary_json,
                        bus::Position watermark) {
  Snapshot snapshot;
  snapshot.id = slot.id;
  snapshot.product = product;
  snapshot.parent = slot.parent;
  snapshot.committed_unix_us = slot.committed_unix_us;
  snapshot.operation = operation;
  snapshot.summary_json = std::move(summary_json);
  snapshot.watermark = watermark;
  db.prepare(
        "INSERT INTO snapshots (product_id, id, parent_id, committed_at, operation, "
        "summary_json, watermark) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind_int64(1, product_id)
      .bind_int64(2, snapshot.id)
      .bind_optional_int64(3, snapshot.parent)
      .bind_int64(4, snapshot.committed_unix_us)
      .bind_text(5, to_string(operation))
      .bind_text(6, snapshot.summary_json)
      .bind_int64(7, static_cast<std::int64_t>(watermark))
      .run();
  return snapshot;
}

std::optional<Snapshot> first_snapshot(Statement& query, const std::string& product) {
  if (!query.step()) return std::nullopt;
  return read_snapshot(query, product);
}

// --- tables ----------------------------------------------------------------

// Columns of `tables t` joined with the `schema_versions sv` row in force.
constexpr std::string_view kTableColumns =
    "t.id, t.name, t.kind, t.primary_key_json, t.partition_column, t.partition_transform, "
    "sv.version, sv.schema_json, sv.options_json, t.created_snapshot, t.dropped_snapshot, "
    "t.created_at";

TableInfo read_table(const Statement& row, const std::string& product) {
  TableInfo table;
  table.id = row.column_int64(0);
  table.product = product;
  table.name = row.column_text(1);
  table.kind = table_kind_from_string(row.column_text(2));
  table.primary_key = decode_string_list(row.column_text(3));
  table.partition.column = row.column_text(4);
  table.partition.transform = row.column_text(5);
  table.schema_version = static_cast<std::int32_t>(row.column_int64(6));
  table.schema_json = row.column_text(7);
  table.options_json = row.column_text(8);
  table.created_snapshot = row.column_int64(9);
  table.dropped_snapshot = row.column_optional_int64(10);
  table.created_unix_us = row.column_int64(11);
  return table;
}

std::optional<TableInfo> find_live_table(Connection& db, std::int64_t product_id,
                                         const std::string& product, const std::string& name) {
  auto query = db.prepare(
      "SELECT " + std::string(kTableColumns) +
      " FROM tables t JOIN schema_versions sv ON sv.table_id = t.id AND sv.version = "
      "t.schema_version WHERE t.product_id = ?1 AND t.name = ?2 AND t.dropped_snapshot IS NULL");
  query.bind_int64(1, product_id).bind_text(2, name);
  if (!query.step()) return std::nullopt;
  return read_table(query, product);
}

void insert_schema_version(Connection& db, std::int64_t table_id, std::int32_t version,
                           const std::string& schema_json, const std::string& options_json,
                           const Snapshot& snapshot) {
  db.prepare(
        "INSERT INTO schema_versions (table_id, version, schema_json, options_json, "
        "snapshot_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind_int64(1, table_id)
      .bind_int64(2, version)
      .bind_text(3, schema_json)
      .bind_text(4, options_json)
      .bind_int64(5, snapshot.id)
      .bind_int64(6, snapshot.committed_unix_us)
      .run();
}

// --- files -----------------------------------------------------------------

constexpr std::string_view kFileColumns =
    "id, table_name, path, partition_json, row_count, byte_size, stats_json, added_snapshot, "
    "removed_snapshot";

DataFile read_file(const Statement& row, const std::string& product) {
  DataFile file;
  file.id = row.column_int64(0);
  file.product = product;
  file.table = row.column_text(1);
  file.path = row.column_text(2);
  file.partition_json = row.column_text(3);
  file.row_count = row.column_int64(4);
  file.bytes = row.column_int64(5);
  file.stats = decode_column_stats(row.column_text(6));
  file.added_snapshot = row.column_int64(7);
  file.removed_snapshot = row.column_optional_int64(8);
  return file;
}

// Registers, retires and records one publication's content in snapshot `slot`.
void write_publication(Connection& db, std::int64_t product_id, const Publication& publication,
                       const SnapshotSlot& slot, std::int64_t idempotency_window_us) {
  std::map<std::string, std::int64_t> table_ids;
  auto find_table_id = db.prepare(
      "SELECT id FROM tables WHERE product_id = ?1 AND name = ?2 AND dropped_snapshot IS NULL");
  std::int64_t next_file_id =
      publication.added.empty()
          ? 0
          : allocate_ids(db, "data_files", static_cast<std::int64_t>(publication.added.size()));
  auto insert_file = db.prepare(
      "INSERT INTO data_files (id, product_id, table_id, table_name, path, partition_json, "
      "row_count, byte_size, stats_json, added_snapshot, removed_snapshot) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)");
  for (const auto& file : publication.added) {
    auto known = table_ids.find(file.table);
    if (known == table_ids.end()) {
      find_table_id.bind_int64(1, product_id).bind_text(2, file.table);
      if (!find_table_id.step()) throw_table_not_found(publication.product, file.table);
      known = table_ids.emplace(file.table, find_table_id.column_int64(0)).first;
      find_table_id.reset();
    }
    insert_file.bind_int64(1, next_file_id++)
        .bind_int64(2, product_id)
        .bind_int64(3, known->second)
        .bind_text(4, file.table)
        .bind_text(5, file.path)
        .bind_text(6, json_or_empty_object(file.partition_json))
        .bind_int64(7, file.row_count)
        .bind_int64(8, file.bytes)
        .bind_text(9, encode_column_stats(file.stats))
        .bind_int64(10, slot.id)
        .run();
    insert_file.reset();
  }

  auto retire = db.prepare(
      "UPDATE data_files SET removed_snapshot = ?1 "
      "WHERE id = ?2 AND product_id = ?3 AND removed_snapshot IS NULL");
  auto removed_by =
      db.prepare("SELECT removed_snapshot FROM data_files WHERE id = ?1 AND product_id = ?2");
  for (const std::int64_t file_id : publication.removed_file_ids) {
    retire.bind_int64(1, slot.id).bind_int64(2, file_id).bind_int64(3, product_id).run();
    retire.reset();
    if (db.changes() == 1) continue;
    removed_by.bind_int64(1, file_id).bind_int64(2, product_id);
    boost::json::object details;
    details["product"] = publication.product;
    details["file_id"] = file_id;
    if (!removed_by.step()) {
      throw Error(
          ErrorCode::not_found,
          "product '" + publication.product + "' has no data file " + std::to_string(file_id),
          std::move(details));
    }
    const std::int64_t removed_in = removed_by.column_int64(0);
    details["removed_snapshot"] = removed_in;
    throw Error(ErrorCode::conflict,
                "data file " + std::to_string(file_id) + " of product '" + publication.product +
                    "' is no longer live: snapshot " + std::to_string(removed_in) + " removed it",
                std::move(details));
  }

  auto live_key = db.prepare(
      "SELECT snapshot_id FROM idempotency "
      "WHERE product_id = ?1 AND table_name = ?2 AND idem_key = ?3 AND expires_at > ?4");
  auto record_key = db.prepare(
      "INSERT INTO idempotency (product_id, table_name, idem_key, bus_position, snapshot_id, "
      "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT (product_id, table_name, idem_key) DO UPDATE SET "
      "bus_position = excluded.bus_position, snapshot_id = excluded.snapshot_id, "
      "expires_at = excluded.expires_at");
  const std::int64_t expires_at = slot.committed_unix_us + idempotency_window_us;
  for (const auto& entry : publication.idempotency) {
    live_key.bind_int64(1, product_id)
        .bind_text(2, entry.table)
        .bind_text(3, entry.key)
        .bind_int64(4, slot.committed_unix_us);
    if (live_key.step()) {
      boost::json::object details;
      details["product"] = publication.product;
      details["table"] = entry.table;
      details["idempotency_key"] = entry.key;
      details["snapshot_id"] = live_key.column_int64(0);
      throw Error(ErrorCode::conflict,
                  "idempotency key '" + entry.key + "' of table '" + entry.table +
                      "' is already committed in snapshot " +
                      std::to_string(live_key.column_int64(0)) + " of product '" +
                      publication.product + "'",
                  std::move(details));
    }
    live_key.reset();
    record_key.bind_int64(1, product_id)
        .bind_text(2, entry.table)
        .bind_text(3, entry.key)
        .bind_int64(4, stored_position(entry.position, "idempotency.position"))
        .bind_int64(5, slot.id)
        .bind_int64(6, expires_at)
        .run();
    record_key.reset();
  }
}

}  // namespace

// --- construction ----------------------------------------------------------

SqliteCatalog::SqliteCatalog(SqliteCatalogOptions options) : options_(std::move(options)) {
  if (options_.path.empty()) throw_invalid("the SQLite catalog needs a file path", "path");
  if (options_.idempotency_window_us <= 0) {
    throw_invalid("the idempotency window must be positive", "idempotency_window_us");
  }
  if (options_.busy_timeout_ms < 0) {
    throw_invalid("the busy timeout must not be negative", "busy_timeout_ms");
  }
  connection_ = std::make_unique<Connection>(options_.path, options_.busy_timeout_ms);

  // journal_mode answers with the mode in force, which stays the old one when
  // WAL cannot be used (e.g. an in-memory database).
  auto journal = connection_->prepare("PRAGMA journal_mode=WAL");
  const std::string mode = journal.step() ? journal.column_text(0) : std::string();
  journal.run();
  if (mode != "wal") {
    throw Error(ErrorCode::internal, "catalog '" + options_.path +
                                         "' cannot use write-ahead logging (journal mode is '" +
                                         mode + "'); it must be a file on a local file system");
  }
  // FULL: in WAL mode the log is synced at every commit, so a committed
  // transaction survives power loss (NORMAL could lose the last ones).
  connection_->execute_script("PRAGMA synchronous=FULL");
  connection_->execute_script("PRAGMA foreign_keys=ON");
  auto foreign_keys = connection_->prepare("PRAGMA foreign_keys");
  if (!foreign_keys.step() || foreign_keys.column_int64(0) != 1) {
    throw Error(ErrorCode::internal, "this SQLite build cannot enforce foreign keys");
  }
  foreign_keys.run();
  sqlite::migrate(*connection_, now_unix_us());
}

SqliteCatalog::~SqliteCatalog() = default;

std::int64_t SqliteCatalog::now_unix_us() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

MigrationOutcome SqliteCatalog::migrate(const SqliteCatalogOptions& options) {
  if (options.path.empty()) throw_invalid("the SQLite catalog needs a file path", "path");
  Connection connection(options.path, options.busy_timeout_ms);
  // As the constructor sets them, so a file created here is like one it creates.
  auto journal = connection.prepare("PRAGMA journal_mode=WAL");
  journal.run();
  connection.execute_script("PRAGMA foreign_keys=ON");
  const std::int64_t now = options.clock ? options.clock()
                                         : std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count();
  return sqlite::migrate(connection, now);
}

int SqliteCatalog::schema_version() const {
  std::lock_guard lock(mutex_);
  return sqlite::applied_schema_version(*connection_);
}

// --- products --------------------------------------------------------------

Product SqliteCatalog::create_product(const ProductDef& def) {
  require_valid_product_name(def.name);
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::write);
  if (find_product_id(*connection_, def.name)) {
    boost::json::object details;
    details["product"] = def.name;
    throw Error(ErrorCode::conflict, "a product named '" + def.name + "' already exists",
                std::move(details));
  }
  Product product;
  product.id = allocate_ids(*connection_, "products", 1);
  product.name = def.name;
  product.description = def.description;
  product.owner = def.owner;
  product.created_unix_us = now_unix_us();
  connection_
      ->prepare(
          "INSERT INTO products (id, name, description, owner, created_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind_int64(1, product.id)
      .bind_text(2, product.name)
      .bind_text(3, product.description)
      .bind_text(4, product.owner)
      .bind_int64(5, product.created_unix_us)
      .run();
  transaction.commit();
  return product;
}

std::optional<Product> SqliteCatalog::find_product(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto query = connection_->prepare("SELECT " + std::string(kProductColumns) +
                                    " FROM products WHERE name = ?1");
  query.bind_text(1, name);
  if (!query.step()) return std::nullopt;
  return read_product(query);
}

std::vector<Product> SqliteCatalog::list_products() const {
  std::lock_guard lock(mutex_);
  auto query = connection_->prepare("SELECT " + std::string(kProductColumns) +
                                    " FROM products ORDER BY name");
  std::vector<Product> products;
  while (query.step()) products.push_back(read_product(query));
  return products;
}

// --- tables ----------------------------------------------------------------

std::pair<TableInfo, Snapshot> SqliteCatalog::create_table(const std::string& product,
                                                           const TableDef& def) {
  validate_table_def(def);
  std::lock_guard lock(mutex_);
  Connection& db = *connection_;
  Transaction transaction(db, Transaction::Mode::write);
  const std::int64_t product_id = require_product_id(db, product);
  if (find_live_table(db, product_id, product, def.name)) {
    boost::json::object details;
    details["product"] = product;
    details["table"] = def.name;
    throw Error(ErrorCode::conflict,
                "product '" + product + "' already has a table named '" + def.name + "'",
                std::move(details));
  }
  const SnapshotSlot slot = next_snapshot(db, product_id, now_unix_us());
  const Snapshot snapshot =
      write_snapshot(db, product_id, product, slot, Operation::schema,
                     schema_summary("create_table", def.name, 1), read_watermark(db));

  TableInfo table;
  table.id = allocate_ids(db, "tables", 1);
  table.product = product;
  table.name = def.name;
  table.kind = def.kind;
  table.primary_key = def.primary_key;
  if (def.partition.enabled()) table.partition = def.partition;
  table.schema_version = 1;
  table.schema_json = def.schema_json;
  table.options_json = json_or_empty_object(def.options_json);
  table.created_snapshot = snapshot.id;
  table.created_unix_us = snapshot.committed_unix_us;
  db.prepare(
        "INSERT INTO tables (id, product_id, name, kind, primary_key_json, partition_column, "
        "partition_transform, schema_version, options_json, created_snapshot, dropped_snapshot, "
        "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, ?11)")
      .bind_int64(1, table.id)
      .bind_int64(2, product_id)
      .bind_text(3, table.name)
      .bind_text(4, to_string(table.kind))
      .bind_text(5, encode_string_list(table.primary_key))
      .bind_text(6, table.partition.column)
      .bind_text(7, table.partition.transform)
      .bind_int64(8, table.schema_version)
      .bind_text(9, table.options_json)
      .bind_int64(10, table.created_snapshot)
      .bind_int64(11, table.created_unix_us)
      .run();
  insert_schema_version(db, table.id, 1, table.schema_json, table.options_json, snapshot);
  transaction.commit();
  return {std::move(table), snapshot};
}

std::pair<TableInfo, Snapshot> SqliteCatalog::evolve_table(const std::string& product,
                                                           const std::string& table,
                                                           const std::string& schema_json,
                                                           const std::string& options_json) {
  if (schema_json.empty())
    throw_invalid("table '" + table + "' needs a non-empty schema", "schema");
  std::lock_guard lock(mutex_);
  Connection& db = *connection_;
  Transaction transaction(db, Transaction::Mode::write);
  const std::int64_t product_id = require_product_id(db, product);
  auto current = find_live_table(db, product_id, product, table);
  if (!current) throw_table_not_found(product, table);

  TableInfo evolved = std::move(*current);
  evolved.schema_version += 1;
  evolved.schema_json = schema_json;
  if (!options_json.empty()) evolved.options_json = options_json;
  const SnapshotSlot slot = next_snapshot(db, product_id, now_unix_us());
  const Snapshot snapshot = write_snapshot(
      db, product_id, product, slot, Operation::schema,
      schema_summary("evolve_table", table, evolved.schema_version), read_watermark(db));
  db.prepare("UPDATE tables SET schema_version = ?1, options_json = ?2 WHERE id = ?3")
      .bind_int64(1, evolved.schema_version)
      .bind_text(2, evolved.options_json)
      .bind_int64(3, evolved.id)
      .run();
  insert_schema_version(db, evolved.id, evolved.schema_version, evolved.schema_json,
                        evolved.options_json, snapshot);
  transaction.commit();
  return {std::move(evolved), snapshot};
}

Snapshot SqliteCatalog::drop_table(const std::string& product, const std::string& table) {
  std::lock_guard lock(mutex_);
  Connection& db = *connection_;
  Transaction transaction(db, Transaction::Mode::write);
  const std::int64_t product_id = require_product_id(db, product);
  const auto current = find_live_table(db, product_id, product, table);
  if (!current) throw_table_not_found(product, table);

  const SnapshotSlot slot = next_snapshot(db, product_id, now_unix_us());
  db.prepare(
        "UPDATE data_files SET removed_snapshot = ?1 WHERE table_id = ?2 AND removed_snapshot IS "
        "NULL")
      .bind_int64(1, slot.id)
      .bind_int64(2, current->id)
      .run();
  const std::int64_t files_removed = db.changes();
  db.prepare("UPDATE tables SET dropped_snapshot = ?1 WHERE id = ?2")
      .bind_int64(1, slot.id)
      .bind_int64(2, current->id)
      .run();
  boost::json::object summary;
  summary["action"] = "drop_table";
  summary["table"] = table;
  summary["files_removed"] = files_removed;
  Snapshot snapshot = write_snapshot(db, product_id, product, slot, Operation::drop,
                                     boost::json::serialize(summary), read_watermark(db));
  transaction.commit();
  return snapshot;
}

std::optional<TableInfo> SqliteCatalog::find_table(const std::string& product,
                                                   const std::string& table) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const auto product_id = find_product_id(*connection_, product);
  if (!product_id) return std::nullopt;
  auto found = find_live_table(*connection_, *product_id, product, table);
  transaction.commit();
  return found;
}

std::vector<TableInfo> SqliteCatalog::list_tables(const std::string& product) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  auto query = connection_->prepare(
      "SELECT " + std::string(kTableColumns) +
      " FROM tables t JOIN schema_versions sv ON sv.table_id = t.id AND sv.version = "
      "t.schema_version WHERE t.product_id = ?1 AND t.dropped_snapshot IS NULL ORDER BY t.name");
  query.bind_int64(1, product_id);
  std::vector<TableInfo> tables;
  while (query.step()) tables.push_back(read_table(query, product));
  transaction.commit();
  return tables;
}

std::vector<TableInfo> SqliteCatalog::tables_at(const std::string& product,
                                                std::int64_t snapshot_id) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  auto query =
      connection_->prepare("SELECT " + std::string(kTableColumns) +
                           " FROM tables t JOIN schema_versions sv ON sv.table_id = t.id "
                           "WHERE t.product_id = ?1 AND t.created_snapshot <= ?2 "
                           "AND (t.dropped_snapshot IS NULL OR t.dropped_snapshot > ?2) "
                           "AND sv.version = (SELECT MAX(v.version) FROM schema_versions v "
                           "WHERE v.table_id = t.id AND v.snapshot_id <= ?2) "
                           "ORDER BY t.name");
  query.bind_int64(1, product_id).bind_int64(2, snapshot_id);
  std::vector<TableInfo> tables;
  while (query.step()) tables.push_back(read_table(query, product));
  transaction.commit();
  return tables;
}

std::vector<SchemaVersion> SqliteCatalog::schema_history(const std::string& product,
                                                         const std::string& table) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  // The live table sorts first (NULL dropped_snapshot), then the latest drop.
  auto which = connection_->prepare(
      "SELECT id FROM tables WHERE product_id = ?1 AND name = ?2 "
      "ORDER BY dropped_snapshot IS NOT NULL, dropped_snapshot DESC LIMIT 1");
  which.bind_int64(1, product_id).bind_text(2, table);
  if (!which.step()) throw_table_not_found(product, table);
  auto query = connection_->prepare(
      "SELECT version, schema_json, snapshot_id, created_at FROM schema_versions "
      "WHERE table_id = ?1 ORDER BY version");
  query.bind_int64(1, which.column_int64(0));
  std::vector<SchemaVersion> history;
  while (query.step()) {
    SchemaVersion version;
    version.version = static_cast<std::int32_t>(query.column_int64(0));
    version.schema_json = query.column_text(1);
    version.snapshot_id = query.column_int64(2);
    version.created_unix_us = query.column_int64(3);
    history.push_back(std::move(version));
  }
  transaction.commit();
  return history;
}

// --- publication -----------------------------------------------------------

std::vector<Snapshot> SqliteCatalog::publish(const std::vector<Publication>& publications,
                                             const std::vector<PositionRange>& resolved) {
  validate_ranges(resolved);
  for (const auto& publication : publications) validate_publication(publication);

  std::lock_guard lock(mutex_);
  Connection& db = *connection_;
  Transaction transaction(db, Transaction::Mode::write);
  // Ranges first: each snapshot records the watermark this transaction
  // leaves behind, the one a reader of the snapshot can rely on.
  const bus::Position watermark = apply_resolved(db, resolved, true);
  const std::int64_t now = now_unix_us();
  std::vector<Snapshot> snapshots;
  snapshots.reserve(publications.size());
  for (const auto& publication : publications) {
    const std::int64_t product_id = require_product_id(db, publication.product);
    const SnapshotSlot slot = next_snapshot(db, product_id, now);
    write_publication(db, product_id, publication, slot, options_.idempotency_window_us);
    snapshots.push_back(write_snapshot(db, product_id, publication.product, slot,
                                       publication.operation,
                                       json_or_empty_object(publication.summary_json), watermark));
  }
  transaction.commit();
  return snapshots;
}

void SqliteCatalog::resolve_positions(const std::vector<PositionRange>& resolved) {
  validate_ranges(resolved);
  if (resolved.empty()) return;
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::write);
  apply_resolved(*connection_, resolved, false);
  transaction.commit();
}

bus::Position SqliteCatalog::watermark() const {
  std::lock_guard lock(mutex_);
  return read_watermark(*connection_);
}

std::vector<bus::Position> SqliteCatalog::resolved_among(
    const std::vector<bus::Position>& positions) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const bus::Position watermark = read_watermark(*connection_);
  // One read of the stored ranges that overlap the positions above the
  // watermark, then a binary search per position: a claim of 100k records
  // costs one statement, not 100k.
  bus::Position low = 0, high = 0;
  for (const bus::Position position : positions) {
    if (position <= watermark || position > static_cast<bus::Position>(kMaxPosition)) continue;
    low = low == 0 ? position : std::min(low, position);
    high = std::max(high, position);
  }
  std::vector<std::pair<bus::Position, bus::Position>> ranges;  // ascending by first
  if (high != 0) {
    auto overlapping = connection_->prepare(
        "SELECT first_position, last_position FROM resolved_ranges "
        "WHERE first_position <= ?2 AND last_position >= ?1 ORDER BY first_position");
    overlapping.bind_int64(1, static_cast<std::int64_t>(low))
        .bind_int64(2, static_cast<std::int64_t>(high));
    while (overlapping.step()) {
      ranges.emplace_back(static_cast<bus::Position>(overlapping.column_int64(0)),
                          static_cast<bus::Position>(overlapping.column_int64(1)));
    }
  }
  std::vector<bus::Position> resolved;
  for (const bus::Position position : positions) {
    if (position == 0 || position > static_cast<bus::Position>(kMaxPosition)) continue;
    if (position <= watermark) {
      resolved.push_back(position);
      continue;
    }
    // The range that could hold it is the last one starting at or below it.
    auto after =
        std::upper_bound(ranges.begin(), ranges.end(), position,
                         [](bus::Position p, const std::pair<bus::Position, bus::Position>& r) {
                           return p < r.first;
                         });
    if (after != ranges.begin() && std::prev(after)->second >= position) {
      resolved.push_back(position);
    }
  }
  transaction.commit();
  return resolved;
}

std::map<std::string, IdempotencyHit> SqliteCatalog::find_idempotency(
    const std::string& product, const std::string& table,
    const std::vector<std::string>& keys) const {
  const std::int64_t now = now_unix_us();
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  auto query = connection_->prepare(
      "SELECT bus_position, snapshot_id FROM idempotency "
      "WHERE product_id = ?1 AND table_name = ?2 AND idem_key = ?3 AND expires_at > ?4");
  std::map<std::string, IdempotencyHit> hits;
  for (const auto& key : keys) {
    query.bind_int64(1, product_id).bind_text(2, table).bind_text(3, key).bind_int64(4, now);
    if (query.step()) {
      IdempotencyHit hit;
      hit.position = static_cast<bus::Position>(query.column_int64(0));
      hit.snapshot_id = query.column_int64(1);
      hits.emplace(key, hit);
    }
    query.reset();
  }
  transaction.commit();
  return hits;
}

void SqliteCatalog::remember_requests(const std::vector<RequestRecord>& requests) {
  for (const auto& r : requests) validate_request_record(r);
  if (requests.empty()) return;
  const std::int64_t now = now_unix_us();
  std::lock_guard lock(mutex_);
  // Without a sync of its own (see CatalogRepo): the answers ride on the
  // next synced commit. (The pragma sets a flag of the connection: no I/O,
  // no lock.)
  connection_->execute_script("PRAGMA synchronous=NORMAL");
  std::exception_ptr failure;
  try {
    Transaction transaction(*connection_, Transaction::Mode::write);
    // An expired answer gives way; a live one stays.
    auto insert = connection_->prepare(
        "INSERT INTO request_answers (product_id, table_name, request_key, fingerprint, "
        "answer_json, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (product_id, table_name, request_key) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, answer_json = excluded.answer_json, "
        "expires_at = excluded.expires_at WHERE request_answers.expires_at <= ?7");
    std::map<std::string, std::int64_t> product_ids;
    for (const auto& r : requests) {
      auto id = product_ids.find(r.product);
      if (id == product_ids.end()) {
        id = product_ids.emplace(r.product, require_product_id(*connection_, r.product)).first;
      }
      insert.bind_int64(1, id->second)
          .bind_text(2, r.table)
          .bind_text(3, r.key)
          .bind_text(4, fingerprint_text(r.answer.fingerprint))
          .bind_text(5, r.answer.answer_json)
          .bind_int64(6, now + options_.idempotency_window_us)
          .bind_int64(7, now)
          .run();
      insert.reset();
    }
    transaction.commit();
  } catch (...) {
    failure = std::current_exception();
  }
  connection_->execute_script("PRAGMA synchronous=FULL");
  if (failure) std::rethrow_exception(failure);
}

std::optional<RequestAnswer> SqliteCatalog::find_request(const std::string& product,
                                                         const std::string& table,
                                                         const std::string& key) const {
  const std::int64_t now = now_unix_us();
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  auto query = connection_->prepare(
      "SELECT fingerprint, answer_json FROM request_answers "
      "WHERE product_id = ?1 AND table_name = ?2 AND request_key = ?3 AND expires_at > ?4");
  query.bind_int64(1, product_id).bind_text(2, table).bind_text(3, key).bind_int64(4, now);
  std::optional<RequestAnswer> answer;
  if (query.step()) {
    answer.emplace();
    answer->fingerprint = fingerprint_of_text(query.column_text(0));
    answer->answer_json = query.column_text(1);
  }
  query.reset();
  transaction.commit();
  return answer;
}

std::size_t SqliteCatalog::purge_idempotency(std::int64_t now_unix_us) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::write);
  connection_->prepare("DELETE FROM idempotency WHERE expires_at <= ?1")
      .bind_int64(1, now_unix_us)
      .run();
  auto purged = static_cast<std::size_t>(connection_->changes());
  connection_->prepare("DELETE FROM request_answers WHERE expires_at <= ?1")
      .bind_int64(1, now_unix_us)
      .run();
  purged += static_cast<std::size_t>(connection_->changes());
  transaction.commit();
  return purged;
}

// --- snapshots and files ---------------------------------------------------

std::optional<Snapshot> SqliteCatalog::latest_snapshot(const std::string& product) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const auto product_id = find_product_id(*connection_, product);
  if (!product_id) return std::nullopt;
  auto query = connection_->prepare("SELECT " + std::string(kSnapshotColumns) +
                                    " FROM snapshots WHERE product_id = ?1 "
                                    "ORDER BY id DESC LIMIT 1");
  query.bind_int64(1, *product_id);
  auto snapshot = first_snapshot(query, product);
  transaction.commit();
  return snapshot;
}

std::optional<Snapshot> SqliteCatalog::find_snapshot(const std::string& product,
                                                     std::int64_t id) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const auto product_id = find_product_id(*connection_, product);
  if (!product_id) return std::nullopt;
  auto query = connection_->prepare("SELECT " + std::string(kSnapshotColumns) +
                                    " FROM snapshots WHERE product_id = ?1 AND id = ?2");
  query.bind_int64(1, *product_id).bind_int64(2, id);
  auto snapshot = first_snapshot(query, product);
  transaction.commit();
  return snapshot;
}

std::optional<Snapshot> SqliteCatalog::snapshot_as_of(const std::string& product,
                                                      std::int64_t unix_us) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const auto product_id = find_product_id(*connection_, product);
  if (!product_id) return std::nullopt;
  auto query = connection_->prepare("SELECT " + std::string(kSnapshotColumns) +
                                    " FROM snapshots WHERE product_id = ?1 AND committed_at <= ?2 "
                                    "ORDER BY committed_at DESC, id DESC LIMIT 1");
  query.bind_int64(1, *product_id).bind_int64(2, unix_us);
  auto snapshot = first_snapshot(query, product);
  transaction.commit();
  return snapshot;
}

std::vector<Snapshot> SqliteCatalog::list_snapshots(const std::string& product, std::size_t limit,
                                                    std::int64_t before_id) const {
  if (before_id < 0) throw_invalid("before_id must not be negative", "before_id");
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  auto query = connection_->prepare("SELECT " + std::string(kSnapshotColumns) +
                                    " FROM snapshots WHERE product_id = ?1 AND id < ?2 "
                                    "ORDER BY id DESC LIMIT ?3");
  const auto max_limit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  query.bind_int64(1, product_id)
      .bind_int64(2, before_id == 0 ? std::numeric_limits<std::int64_t>::max() : before_id)
      .bind_int64(3, static_cast<std::int64_t>(std::min(limit, max_limit)));
  std::vector<Snapshot> snapshots;
  while (query.step()) snapshots.push_back(read_snapshot(query, product));
  transaction.commit();
  return snapshots;
}

std::vector<DataFile> SqliteCatalog::live_files(const std::string& product,
                                                std::int64_t snapshot_id,
                                                const std::string& table) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  // Two texts rather than "(?3 = '' OR table_name = ?3)", which would keep
  // the planner from using the (product_id, table_name, added_snapshot) index.
  std::string sql = "SELECT " + std::string(kFileColumns) +
                    " FROM data_files WHERE product_id = ?1 AND added_snapshot <= ?2 "
                    "AND (removed_snapshot IS NULL OR removed_snapshot > ?2)";
  sql += table.empty() ? " ORDER BY id" : " AND table_name = ?3 ORDER BY id";
  auto query = connection_->prepare(sql);
  query.bind_int64(1, product_id).bind_int64(2, snapshot_id);
  if (!table.empty()) query.bind_text(3, table);
  std::vector<DataFile> files;
  while (query.step()) files.push_back(read_file(query, product));
  transaction.commit();
  return files;
}

std::vector<DataFile> SqliteCatalog::files_added(const std::string& product,
                                                 const std::string& table,
                                                 std::int64_t after_snapshot,
                                                 std::int64_t up_to_snapshot) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  auto query = connection_->prepare("SELECT " + std::string(kFileColumns) +
                                    " FROM data_files WHERE product_id = ?1 AND table_name = ?2 "
                                    "AND added_snapshot > ?3 AND added_snapshot <= ?4 "
                                    "AND unreferenced_at IS NULL ORDER BY id");
  query.bind_int64(1, product_id)
      .bind_text(2, table)
      .bind_int64(3, after_snapshot)
      .bind_int64(4, up_to_snapshot);
  std::vector<DataFile> files;
  while (query.step()) files.push_back(read_file(query, product));
  transaction.commit();
  return files;
}

// --- retention and garbage collection --------------------------------------

std::optional<Snapshot> SqliteCatalog::oldest_snapshot(const std::string& product) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const auto product_id = find_product_id(*connection_, product);
  if (!product_id) return std::nullopt;
  auto query = connection_->prepare("SELECT " + std::string(kSnapshotColumns) +
                                    " FROM snapshots WHERE product_id = ?1 ORDER BY id LIMIT 1");
  query.bind_int64(1, *product_id);
  auto snapshot = first_snapshot(query, product);
  transaction.commit();
  return snapshot;
}

ExpiryResult SqliteCatalog::expire_snapshots(const std::string& product, std::size_t keep_at_least,
                                             std::int64_t committed_before_unix_us, bool dry_run) {
  if (keep_at_least == 0) {
    throw_invalid("expiry must keep at least the newest snapshot", "keep_at_least");
  }
  std::lock_guard lock(mutex_);
  Connection& db = *connection_;
  Transaction transaction(db, dry_run ? Transaction::Mode::read : Transaction::Mode::write);
  const std::int64_t product_id = require_product_id(db, product);
  ExpiryResult result;

  // The newest snapshot that count retention lets go: the (keep_at_least+1)-th newest.
  auto beyond_count = db.prepare(
      "SELECT id FROM snapshots WHERE product_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2");
  beyond_count.bind_int64(1, product_id).bind_int64(2, static_cast<std::int64_t>(keep_at_least));
  std::optional<std::int64_t> last_expired;
  if (beyond_count.step()) {
    const std::int64_t by_count = beyond_count.column_int64(0);
    // Age retention keeps every snapshot committed at or after the cutoff;
    // commit times increase with ids, so the expired ones are a prefix.
    auto by_age = db.prepare(
        "SELECT MAX(id) FROM snapshots WHERE product_id = ?1 AND committed_at < ?2 AND id <= ?3");
    by_age.bind_int64(1, product_id)
        .bind_int64(2, committed_before_unix_us)
        .bind_int64(3, by_count);
    if (by_age.step() && !by_age.column_is_null(0)) last_expired = by_age.column_int64(0);
  }

  if (last_expired) {
    auto count = db.prepare("SELECT COUNT(*) FROM snapshots WHERE product_id = ?1 AND id <= ?2");
    count.bind_int64(1, product_id).bind_int64(2, *last_expired);
    count.step();
    result.expired = count.column_int64(0);
    result.oldest_kept = *last_expired + 1;
  } else {
    auto oldest = db.prepare("SELECT MIN(id) FROM snapshots WHERE product_id = ?1");
    oldest.bind_int64(1, product_id);
    if (oldest.step() && !oldest.column_is_null(0)) result.oldest_kept = oldest.column_int64(0);
  }

  // A file retired by snapshot R is read only by snapshots before R: none is
  // kept once R <= the oldest kept snapshot.
  if (result.oldest_kept) {
    auto pending = db.prepare(
        "SELECT COUNT(*) FROM data_files WHERE product_id = ?1 AND removed_snapshot <= ?2 "
        "AND unreferenced_at IS NULL");
    pending.bind_int64(1, product_id).bind_int64(2, *result.oldest_kept);
    pending.step();
    result.files_unreferenced = pending.column_int64(0);
  }
  if (dry_run) {
    transaction.commit();
    return result;
  }
  if (last_expired) {
    db.prepare("DELETE FROM snapshots WHERE product_id = ?1 AND id <= ?2")
        .bind_int64(1, product_id)
        .bind_int64(2, *last_expired)
        .run();
  }
  if (result.oldest_kept && result.files_unreferenced > 0) {
    db.prepare(
          "UPDATE data_files SET unreferenced_at = ?3 WHERE product_id = ?1 "
          "AND removed_snapshot <= ?2 AND unreferenced_at IS NULL")
        .bind_int64(1, product_id)
        .bind_int64(2, *result.oldest_kept)
        .bind_int64(3, now_unix_us())
        .run();
  }
  transaction.commit();
  return result;
}

std::vector<DataFile> SqliteCatalog::collectable_files(
    const std::string& product, std::int64_t unreferenced_before_unix_us) const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  const std::int64_t product_id = require_product_id(*connection_, product);
  auto query = connection_->prepare("SELECT " + std::string(kFileColumns) +
                                    " FROM data_files WHERE product_id = ?1 "
                                    "AND unreferenced_at IS NOT NULL AND unreferenced_at <= ?2 "
                                    "ORDER BY id");
  query.bind_int64(1, product_id).bind_int64(2, unreferenced_before_unix_us);
  std::vector<DataFile> files;
  while (query.step()) files.push_back(read_file(query, product));
  transaction.commit();
  return files;
}

std::size_t SqliteCatalog::forget_files(const std::string& product,
                                        const std::vector<std::int64_t>& file_ids) {
  if (file_ids.empty()) return 0;
  std::lock_guard lock(mutex_);
  Connection& db = *connection_;
  Transaction transaction(db, Transaction::Mode::write);
  const std::int64_t product_id = require_product_id(db, product);
  auto forget = db.prepare(
      "DELETE FROM data_files WHERE id = ?1 AND product_id = ?2 AND unreferenced_at IS NOT NULL");
  std::size_t forgotten = 0;
  for (const std::int64_t id : file_ids) {
    forget.bind_int64(1, id).bind_int64(2, product_id).run();
    forget.reset();
    forgotten += static_cast<std::size_t>(db.changes());
  }
  transaction.commit();
  return forgotten;
}

std::vector<std::string> SqliteCatalog::known_file_paths() const {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::read);
  auto query = connection_->prepare("SELECT path FROM data_files ORDER BY path");
  std::vector<std::string> paths;
  while (query.step()) paths.push_back(query.column_text(0));
  transaction.commit();
  return paths;
}

// --- API keys and the audit log --------------------------------------------

namespace {

constexpr std::string_view kApiKeyColumns =
    "id, product, role, secret_hash, created_at, last_used_at, revoked_at";

ApiKeyRecord read_api_key(const Statement& row) {
  ApiKeyRecord key;
  key.id = row.column_text(0);
  key.product = row.column_is_null(1) ? "" : row.column_text(1);
  key.role = row.column_text(2);
  key.secret_hash = row.column_text(3);
  key.created_unix_us = row.column_int64(4);
  key.last_used_unix_us = row.column_optional_int64(5);
  key.revoked_unix_us = row.column_optional_int64(6);
  return key;
}

}  // namespace

void SqliteCatalog::create_api_key(const ApiKeyRecord& key) {
  validate_api_key(key);
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::write);
  auto existing = connection_->prepare("SELECT 1 FROM api_keys WHERE id = ?1");
  existing.bind_text(1, key.id);
  if (existing.step()) {
    throw Error(ErrorCode::conflict, "an API key with id '" + key.id + "' already exists",
                {{"key_id", key.id}});
  }
  auto insert = connection_->prepare(
      "INSERT INTO api_keys (id, product, role, secret_hash, created_at, last_used_at, "
      "revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  insert.bind_text(1, key.id);
  if (key.product.empty())
    insert.bind_null(2);
  else
    insert.bind_text(2, key.product);
  insert.bind_text(3, key.role)
      .bind_text(4, key.secret_hash)
      .bind_int64(5, key.created_unix_us)
      .bind_optional_int64(6, key.last_used_unix_us)
      .bind_optional_int64(7, key.revoked_unix_us)
      .run();
  transaction.commit();
}

std::optional<ApiKeyRecord> SqliteCatalog::find_api_key(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto query = connection_->prepare("SELECT " + std::string(kApiKeyColumns) +
                                    " FROM api_keys WHERE id = ?1");
  query.bind_text(1, id);
  if (!query.step()) return std::nullopt;
  return read_api_key(query);
}

std::vector<ApiKeyRecord> SqliteCatalog::list_api_keys(const std::string& product) const {
  std::lock_guard lock(mutex_);
  std::string sql = "SELECT " + std::string(kApiKeyColumns) + " FROM api_keys";
  if (!product.empty()) sql += " WHERE product = ?1";
  sql += " ORDER BY created_at, id";
  auto query = connection_->prepare(sql);
  if (!product.empty()) query.bind_text(1, product);
  std::vector<ApiKeyRecord> keys;
  while (query.step()) keys.push_back(read_api_key(query));
  return keys;
}

bool SqliteCatalog::revoke_api_key(const std::string& id, std::int64_t unix_us) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::write);
  auto found = connection_->prepare("SELECT 1 FROM api_keys WHERE id = ?1");
  found.bind_text(1, id);
  if (!found.step()) return false;
  connection_->prepare("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
      .bind_text(1, id)
      .bind_int64(2, unix_us)
      .run();
  transaction.commit();
  return true;
}

void SqliteCatalog::touch_api_key(const std::string& id, std::int64_t unix_us) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::write);
  connection_
      ->prepare(
          "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND "
          "(last_used_at IS NULL OR last_used_at < ?2)")
      .bind_text(1, id)
      .bind_int64(2, unix_us)
      .run();
  transaction.commit();
}

std::int64_t SqliteCatalog::append_audit(const AuditEntry& entry) {
  validate_audit_entry(entry);
  std::lock_guard lock(mutex_);
  Transaction transaction(*connection_, Transaction::Mode::write);
  const std::int64_t id = allocate_ids(*connection_, "audit_log", 1);
  auto insert = connection_->prepare(
      "INSERT INTO audit_log (id, at, actor, action, product, target, outcome, details_json) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  insert.bind_int64(1, id).bind_int64(2, entry.at_unix_us).bind_text(3, entry.actor);
  insert.bind_text(4, entry.action);
  if (entry.product.empty())
    insert.bind_null(5);
  else
    insert.bind_text(5, entry.product);
  insert.bind_text(6, entry.target)
      .bind_text(7, entry.outcome)
      .bind_text(8, entry.details_json.empty() ? "{}" : entry.details_json)
      .run();
  transaction.commit();
  return id;
}

std::vector<AuditEntry> SqliteCatalog::list_audit(const std::string& product,
                                                  std::int64_t since_unix_us,
                                                  std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::string sql =
      "SELECT id, at, actor, action, product, target, outcome, details_json FROM audit_log "
      "WHERE at >= ?1";
  if (!product.empty()) sql += " AND product = ?3";
  sql += " ORDER BY id DESC LIMIT ?2";
  auto query = connection_->prepare(sql);
  query.bind_int64(1, since_unix_us);
  query.bind_int64(2, static_cast<std::int64_t>(
                          std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
  if (!product.empty()) query.bind_text(3, product);
  std::vector<AuditEntry> entries;
  while (query.step()) {
    AuditEntry e;
    e.id = query.column_int64(0);
    e.at_unix_us = query.column_int64(1);
    e.actor = query.column_text(2);
    e.action = query.column_text(3);
    e.product = query.column_is_null(4) ? "" : query.column_text(4);
    e.target = query.column_text(5);
    e.outcome = query.column_text(6);
    e.details_json = query.column_text(7);
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace duckmesh::catalog
