#include "catalog/postgres/postgres_catalog.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <limits>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <type_traits>
#include <utility>

#include "catalog/catalog_rules.hpp"
#include "catalog/json_fields.hpp"
#include "catalog/names.hpp"
#include "catalog/postgres/schema_migrator.hpp"
#include "common/error.hpp"
#include "pg/array_literal.hpp"
#include "pg/connection_pool.hpp"
#include "pg/session.hpp"

namespace duckmesh::catalog {

using Tx = pqxx::transaction_base;

namespace {

std::int64_t int_at(const pqxx::row& row, int column) {
  return row[column].as<std::int64_t>();
}

std::optional<std::int64_t> optional_int_at(const pqxx::row& row, int column) {
  if (row[column].is_null()) return std::nullopt;
  return row[column].as<std::int64_t>();
}

std::string text_at(const pqxx::row& row, int column) {
  return row[column].is_null() ? std::string() : std::string(row[column].c_str());
}

// --- products --------------------------------------------------------------

constexpr std::string_view kProductColumns = "id, name, description, owner, created_at";

Product read_product(const pqxx::row& row) {
  Product product;
  product.id = int_at(row, 0);
  product.name = text_at(row, 1);
  product.description = text_at(row, 2);
  product.owner = text_at(row, 3);
  product.created_unix_us = int_at(row, 4);
  return product;
}

std::optional<std::int64_t> find_product_id(Tx& tx, const std::string& name) {
  const auto rows = tx.exec_params("SELECT id FROM products WHERE name = $1", name);
  if (rows.empty()) return std::nullopt;
  return int_at(rows[0], 0);
}

std::int64_t require_product_id(Tx& tx, const std::string& name) {
  const auto id = find_product_id(tx, name);
  if (!id) throw_product_not_found(name);
  return *id;
}

// Takes the row lock of the product: the first lock of every writer (see the
// header), held to the end of the transaction. NO KEY UPDATE: it excludes
// other writers of the product but not the key-share locks that foreign-key
// checks of inserts take on the row.
std::int64_t lock_product(Tx& tx, const std::string& name) {
  const auto rows =
      tx.exec_params("SELECT id FROM products WHERE name = $1 FOR NO KEY UPDATE", name);
  if (rows.empty()) throw_product_not_found(name);
  return int_at(rows[0], 0);
}

// Hands out `count` consecutive ids of `sequence`; returns the first. The
// UPDATE locks the sequence row until the transaction ends.
std::int64_t allocate_ids(Tx& tx, std::string_view sequence, std::int64_t count) {
  const auto rows = tx.exec_params(
      "UPDATE catalog_sequences SET next_value = next_value + $2::bigint WHERE name = $1 "
      "RETURNING next_value - $2::bigint",
      std::string(sequence), count);
  if (rows.empty()) {
    throw Error(ErrorCode::internal,
                "catalog database lacks sequence '" + std::string(sequence) + "'");
  }
  return int_at(rows[0], 0);
}

// --- watermark -------------------------------------------------------------

bus::Position read_watermark(Tx& tx, bool for_update) {
  const auto rows =
      tx.exec(for_update ? "SELECT watermark FROM bus_progress WHERE id = 1 FOR UPDATE"
                         : "SELECT watermark FROM bus_progress WHERE id = 1");
  if (rows.empty()) throw Error(ErrorCode::internal, "catalog database lacks its bus_progress row");
  return static_cast<bus::Position>(int_at(rows[0], 0));
}

// As SqliteCatalog's: records `ranges` and advances the watermark over every
// range that now touches it. Locks bus_progress when there is anything to
// record. With `exclusive` (a publication), a range already resolved, even in
// part, throws conflict instead.
bus::Position apply_resolved(Tx& tx, const std::vector<PositionRange>& ranges, bool exclusive) {
  if (ranges.empty()) return read_watermark(tx, false);
  // REQUIRES for exclusive: ranges disjoint (the coordinator passes sorted, merged ones).
  const auto before = static_cast<std::int64_t>(read_watermark(tx, true));
  std::int64_t watermark = before;
  for (const auto& range : ranges) {
    if (exclusive) {
      const auto range_first = static_cast<std::int64_t>(range.first);
      const auto range_last = static_cast<std::int64_t>(range.last);
      if (range_first <= watermark) {
        throw_already_resolved(range_first, std::min(range_last, watermark));
      }
      const auto intersecting = tx.exec_params(
          "SELECT GREATEST(first_position, $1::bigint), LEAST(last_position, $2::bigint) "
          "FROM resolved_ranges WHERE first_position <= $2::bigint "
          "AND last_position >= $1::bigint LIMIT 1",
          range_first, range_last);
      if (!intersecting.empty()) {
        throw_already_resolved(int_at(intersecting[0], 0), int_at(intersecting[0], 1));
      }
    }
    std::int64_t first = std::max(static_cast<std::int64_t>(range.first), watermark + 1);
    std::int64_t last = static_cast<std::int64_t>(range.last);
    if (last < first) continue;  // entirely at or below the watermark
    const auto overlapping = tx.exec_params(
        "SELECT MIN(first_position), MAX(last_position) FROM resolved_ranges "
        "WHERE first_position <= $2::bigint + 1 AND last_position >= $1::bigint - 1",
        first, last);
    if (!overlapping.empty() && !overlapping[0][0].is_null()) {
      first = std::min(first, int_at(overlapping[0], 0));
      last = std::max(last, int_at(overlapping[0], 1));
    }
    tx.exec_params(
        "DELETE FROM resolved_ranges WHERE first_position >= $1::bigint "
        "AND last_position <= $2::bigint",
        first, last);
    tx.exec_params("INSERT INTO resolved_ranges (first_position, last_position) VALUES ($1, $2)",
                   first, last);
  }
  while (true) {
    const auto touching = tx.exec_params(
        "SELECT last_position FROM resolved_ranges WHERE first_position = $1::bigint",
        watermark + 1);
    if (touching.empty()) break;
    watermark = int_at(touching[0], 0);
  }
  if (watermark != before) {
    tx.exec_params("DELETE FROM resolved_ranges WHERE last_position <= $1::bigint", watermark);
    tx.exec_params("UPDATE bus_progress SET watermark = $1 WHERE id = 1", watermark);
  }
  return static_cast<bus::Position>(watermark);
}

// --- snapshots -------------------------------------------------------------

constexpr std::string_view kSnapshotColumns =
    "id, parent_id, committed_at, operation, summary_json, watermark";

Snapshot read_snapshot(const pqxx::row& row, const std::string& product) {
  Snapshot snapshot;
  snapshot.id = int_at(row, 0);
  snapshot.product = product;
  snapshot.parent = optional_int_at(row, 1);
  snapshot.committed_unix_us = int_at(row, 2);
  snapshot.operation = operation_from_string(text_at(row, 3));
  snapshot.summary_json = text_at(row, 4);
  snapshot.watermark = static_cast<bus::Position>(int_at(row, 5));
  return snapshot;
}

std::optional<Snapshot> first_snapshot(const pqxx::result& rows, const std::string& product) {
  if (rows.empty()) return std::nullopt;
  return read_snapshot(rows[0], product);
}

struct SnapshotSlot {
  std::int64_t id = 1;
  std::optional<std::int64_t> parent;
  std::int64_t committed_unix_us = 0;
};

// REQUIRES: the product's row lock (lock_product), so no other writer takes
// the same slot.
SnapshotSlot next_snapshot(Tx& tx, std::int64_t product_id, std::int64_t now_unix_us) {
  const auto rows = tx.exec_params(
      "SELECT id, committed_at FROM snapshots WHERE product_id = $1 ORDER BY id DESC LIMIT 1",
      product_id);
  SnapshotSlot slot;
  slot.committed_unix_us = now_unix_us;
  if (!rows.empty()) {
    slot.parent = int_at(rows[0], 0);
    slot.id = *slot.parent + 1;
    slot.committed_unix_us = std::max(now_unix_us, int_at(rows[0], 1) + 1);
  }
  return slot;
}

Snapshot write_snapshot(Tx& tx, std::int64_t product_id, const std::string& product,
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
  tx.exec_params(
      "INSERT INTO snapshots (product_id, id, parent_id, committed_at, operation, "
      "summary_json, watermark) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      product_id, snapshot.id, snapshot.parent, snapshot.committed_unix_us,
      std::string(to_string(operation)), snapshot.summary_json,
      static_cast<std::int64_t>(watermark));
  return snapshot;
}

// --- tables ----------------------------------------------------------------

constexpr std::string_view kTableColumns =
    "t.id, t.name, t.kind, t.primary_key_json, t.partition_column, t.partition_transform, "
    "sv.version, sv.schema_json, sv.options_json, t.created_snapshot, t.dropped_snapshot, "
    "t.created_at";

TableInfo read_table(const pqxx::row& row, const std::string& product) {
  TableInfo table;
  table.id = int_at(row, 0);
  table.product = product;
  table.name = text_at(row, 1);
  table.kind = table_kind_from_string(text_at(row, 2));
  table.primary_key = decode_string_list(text_at(row, 3));
  table.partition.column = text_at(row, 4);
  table.partition.transform = text_at(row, 5);
  table.schema_version = static_cast<std::int32_t>(int_at(row, 6));
  table.schema_json = text_at(row, 7);
  table.options_json = text_at(row, 8);
  table.created_snapshot = int_at(row, 9);
  table.dropped_snapshot = optional_int_at(row, 10);
  table.created_unix_us = int_at(row, 11);
  return table;
}

std::vector<TableInfo> read_tables(const pqxx::result& rows, const std::string& product) {
  std::vector<TableInfo> tables;
  tables.reserve(rows.size());
  for (const auto& row : rows) tables.push_back(read_table(row, product));
  return tables;
}

std::optional<TableInfo> find_live_table(Tx& tx, std::int64_t product_id,
                                         const std::string& product, const std::string& name) {
  const auto rows = tx.exec_params(
      "SELECT " + std::string(kTableColumns) +
          " FROM tables t JOIN schema_versions sv ON sv.table_id = t.id AND sv.version = "
          "t.schema_version WHERE t.product_id = $1 AND t.name = $2 AND t.dropped_snapshot IS NULL",
      product_id, name);
  if (rows.empty()) return std::nullopt;
  return read_table(rows[0], product);
}

void insert_schema_version(Tx& tx, std::int64_t table_id, std::int32_t version,
                           const std::string& schema_json, const std::string& options_json,
                           const Snapshot& snapshot) {
  tx.exec_params(
      "INSERT INTO schema_versions (table_id, version, schema_json, options_json, "
      "snapshot_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
      table_id, static_cast<std::int64_t>(version), schema_json, options_json, snapshot.id,
      snapshot.committed_unix_us);
}

// --- files -----------------------------------------------------------------

constexpr std::string_view kFileColumns =
    "id, table_name, path, partition_json, row_count, byte_size, stats_json, added_snapshot, "
    "removed_snapshot";

std::vector<DataFile> read_files(const pqxx::result& rows, const std::string& product) {
  std::vector<DataFile> files;
  files.reserve(rows.size());
  for (const auto& row : rows) {
    DataFile file;
    file.id = int_at(row, 0);
    file.product = product;
    file.table = text_at(row, 1);
    file.path = text_at(row, 2);
    file.partition_json = text_at(row, 3);
    file.row_count = int_at(row, 4);
    file.bytes = int_at(row, 5);
    file.stats = decode_column_stats(text_at(row, 6));
    file.added_snapshot = int_at(row, 7);
    file.removed_snapshot = optional_int_at(row, 8);
    files.push_back(std::move(file));
  }
  return files;
}

// Registers, retires and records one publication's content in snapshot `slot`.
// REQUIRES: the product's row lock.
void write_publication(Tx& tx, std::int64_t product_id, const Publication& publication,
                       const SnapshotSlot& slot, std::int64_t idempotency_window_us) {
  // Retirements first: a lost race fails before any id is allocated.
  for (const std::int64_t file_id : publication.removed_file_ids) {
    const auto retired = tx.exec_params(
        "UPDATE data_files SET removed_snapshot = $1 "
        "WHERE id = $2 AND product_id = $3 AND removed_snapshot IS NULL",
        slot.id, file_id, product_id);
    if (retired.affected_rows() == 1) continue;
    const auto removed_by =
        tx.exec_params("SELECT removed_snapshot FROM data_files WHERE id = $1 AND product_id = $2",
                       file_id, product_id);
    if (removed_by.empty()) throw_file_not_found(publication.product, file_id);
    throw_file_not_live(publication.product, file_id, int_at(removed_by[0], 0));
  }

  std::map<std::string, std::int64_t> table_ids;
  std::int64_t next_file_id =
      publication.added.empty()
          ? 0
          : allocate_ids(tx, "data_files", static_cast<std::int64_t>(publication.added.size()));
  for (const auto& file : publication.added) {
    auto known = table_ids.find(file.table);
    if (known == table_ids.end()) {
      const auto rows = tx.exec_params(
          "SELECT id FROM tables WHERE product_id = $1 AND name = $2 AND dropped_snapshot IS NULL",
          product_id, file.table);
      if (rows.empty()) throw_table_not_found(publication.product, file.table);
      known = table_ids.emplace(file.table, int_at(rows[0], 0)).first;
    }
    tx.exec_params(
        "INSERT INTO data_files (id, product_id, table_id, table_name, path, partition_json, "
        "row_count, byte_size, stats_json, added_snapshot, removed_snapshot) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
        next_file_id++, product_id, known->second, file.table, file.path,
        json_or_empty_object(file.partition_json), file.row_count, file.bytes,
        encode_column_stats(file.stats), slot.id);
  }

  const std::int64_t expires_at = slot.committed_unix_us + idempotency_window_us;
  if (publication.idempotency.empty()) return;
  // Two statements for all the keys (a publication may hold a whole batch's).
  // A key twice in one publication: the second meets the first, as if
  // committed in this snapshot.
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<std::string> table_list, key_list;
  std::vector<std::int64_t> position_list;
  for (const auto& entry : publication.idempotency) {
    if (!seen.emplace(entry.table, entry.key).second) {
      throw_key_committed(publication.product, entry, slot.id);
    }
    table_list.push_back(entry.table);
    key_list.push_back(entry.key);
    position_list.push_back(stored_position(entry.position, "idempotency.position"));
  }
  const std::string tables = pg::text_array(table_list), keys = pg::text_array(key_list),
                    positions = pg::bigint_array(position_list);
  const auto live = tx.exec_params(
      "SELECT i.table_name, i.idem_key, i.snapshot_id FROM idempotency i "
      "JOIN unnest($2::text[], $3::text[]) AS u(t, k) ON i.table_name = u.t AND i.idem_key = u.k "
      "WHERE i.product_id = $1 AND i.expires_at > $4 LIMIT 1",
      product_id, tables, keys, slot.committed_unix_us);
  if (!live.empty()) {
    const std::string table = live[0][0].c_str(), key = live[0][1].c_str();
    for (const auto& entry : publication.idempotency) {
      if (entry.table == table && entry.key == key) {
        throw_key_committed(publication.product, entry, int_at(live[0], 2));
      }
    }
  }
  tx.exec_params(
      "INSERT INTO idempotency (product_id, table_name, idem_key, bus_position, snapshot_id, "
      "expires_at) SELECT $1, u.t, u.k, u.p, $5, $6 "
      "FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(t, k, p) "
      "ON CONFLICT (product_id, table_name, idem_key) DO UPDATE SET "
      "bus_position = excluded.bus_position, snapshot_id = excluded.snapshot_id, "
      "expires_at = excluded.expires_at",
      product_id, tables, keys, positions, slot.id, expires_at);
}

std::int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

pg::PoolOptions pool_options(const PostgresCatalogOptions& options) {
  pg::PoolOptions pool;
  pool.url = options.url;
  pool.size = options.pool_size;
  pool.statement_timeout_ms = options.statement_timeout_ms;
  pool.checkout_timeout_ms = options.checkout_timeout_ms;
  pool.health_check_idle_ms = options.health_check_idle_ms;
  return pool;
}

using WriteTransaction = pqxx::work;  // READ COMMITTED; writers lock rows (see header)
using ReadTransaction = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

}  // namespace

// --- construction ----------------------------------------------------------

PostgresCatalog::PostgresCatalog(PostgresCatalogOptions options) : options_(std::move(options)) {
  if (options_.idempotency_window_us <= 0) {
    throw_invalid("the idempotency window must be positive", "idempotency_window_us");
  }
  pool_ = std::make_unique<pg::ConnectionPool>(pool_options(options_));
  pg::on_connection(*pool_, [&](pqxx::connection_base& connection) {
    return postgres::migrate(connection, now_unix_us());
  });
}

PostgresCatalog::~PostgresCatalog() = default;

template <typename Work>
auto PostgresCatalog::write(Work&& work) {
  return pg::run_transaction<WriteTransaction>(*pool_, std::forward<Work>(work));
}

template <typename Work>
auto PostgresCatalog::read(Work&& work) const {
  return pg::run_transaction<ReadTransaction>(*pool_, std::forward<Work>(work));
}

MigrationOutcome PostgresCatalog::migrate(const PostgresCatalogOptions& options) {
  PostgresCatalogOptions one = options;
  one.pool_size = 1;
  pg::ConnectionPool pool(pool_options(one));
  return pg::on_connection(pool, [&](pqxx::connection_base& connection) {
    return postgres::migrate(connection, options.clock ? options.clock() : system_now_us());
  });
}

std::int64_t PostgresCatalog::now_unix_us() const {
  return options_.clock ? options_.clock() : system_now_us();
}

int PostgresCatalog::schema_version() const {
  return pg::on_connection(*pool_, [](pqxx::connection_base& connection) {
    return postgres::applied_schema_version(connection);
  });
}

std::size_t PostgresCatalog::connections_opened() const {
  return pool_->connections_opened();
}

// --- products --------------------------------------------------------------

Product PostgresCatalog::create_product(const ProductDef& def) {
  require_valid_product_name(def.name);
  return write([&](Tx& tx) {
    if (find_product_id(tx, def.name)) throw_product_exists(def.name);
    Product product;
    product.id = allocate_ids(tx, "products", 1);
    product.name = def.name;
    product.description = def.description;
    product.owner = def.owner;
    product.created_unix_us = now_unix_us();
    // A racing creator of the same name fails here with unique_violation,
    // mapped to conflict.
    tx.exec_params(
        "INSERT INTO products (id, name, description, owner, created_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        product.id, product.name, product.description, product.owner, product.created_unix_us);
    return product;
  });
}

std::optional<Product> PostgresCatalog::find_product(const std::string& name) const {
  return read([&](Tx& tx) -> std::optional<Product> {
    const auto rows = tx.exec_params(
        "SELECT " + std::string(kProductColumns) + " FROM products WHERE name = $1", name);
    if (rows.empty()) return std::nullopt;
    return read_product(rows[0]);
  });
}

std::vector<Product> PostgresCatalog::list_products() const {
  return read([&](Tx& tx) {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    const auto rows = tx.exec("SELECT " + std::string(kProductColumns) +
                              " FROM products ORDER BY name COLLATE \"C\"");
    std::vector<Product> products;
    for (const auto& row : rows) products.push_back(read_product(row));
    return products;
  });
}

// --- tables ----------------------------------------------------------------

std::pair<TableInfo, Snapshot> PostgresCatalog::create_table(const std::string& product,
                                                             const TableDef& def) {
  validate_table_def(def);
  return write([&](Tx& tx) {
    const std::int64_t product_id = lock_product(tx, product);
    if (find_live_table(tx, product_id, product, def.name)) throw_table_exists(product, def.name);
    const SnapshotSlot slot = next_snapshot(tx, product_id, now_unix_us());
    const Snapshot snapshot =
        write_snapshot(tx, product_id, product, slot, Operation::schema,
                       schema_summary("create_table", def.name, 1), read_watermark(tx, false));

    TableInfo table;
    table.id = allocate_ids(tx, "tables", 1);
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
    tx.exec_params(
        "INSERT INTO tables (id, product_id, name, kind, primary_key_json, partition_column, "
        "partition_transform, schema_version, options_json, created_snapshot, dropped_snapshot, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11)",
        table.id, product_id, table.name, std::string(to_string(table.kind)),
        encode_string_list(table.primary_key), table.partition.column, table.partition.transform,
        static_cast<std::int64_t>(table.schema_version), table.options_json, table.created_snapshot,
        table.created_unix_us);
    insert_schema_version(tx, table.id, 1, table.schema_json, table.options_json, snapshot);
    return std::pair{std::move(table), snapshot};
  });
}

std::pair<TableInfo, Snapshot> PostgresCatalog::evolve_table(const std::string& product,
                                                             const std::string& table,
                                                             const std::string& schema_json,
                                                             const std::string& options_json) {
  if (schema_json.empty())
    throw_invalid("table '" + table + "' needs a non-empty schema", "schema");
  return write([&](Tx& tx) {
    const std::int64_t product_id = lock_product(tx, product);
    auto current = find_live_table(tx, product_id, product, table);
    if (!current) throw_table_not_found(product, table);
    TableInfo evolved = std::move(*current);
    evolved.schema_version += 1;
    evolved.schema_json = schema_json;
    if (!options_json.empty()) evolved.options_json = options_json;
    const SnapshotSlot slot = next_snapshot(tx, product_id, now_unix_us());
    const Snapshot snapshot = write_snapshot(
        tx, product_id, product, slot, Operation::schema,
        schema_summary("evolve_table", table, evolved.schema_version), read_watermark(tx, false));
    tx.exec_params("UPDATE tables SET schema_version = $1, options_json = $2 WHERE id = $3",
                   static_cast<std::int64_t>(evolved.schema_version), evolved.options_json,
                   evolved.id);
    insert_schema_version(tx, evolved.id, evolved.schema_version, evolved.schema_json,
                          evolved.options_json, snapshot);
    return std::pair{std::move(evolved), snapshot};
  });
}

Snapshot PostgresCatalog::drop_table(const std::string& product, const std::string& table) {
  return write([&](Tx& tx) {
    const std::int64_t product_id = lock_product(tx, product);
    const auto current = find_live_table(tx, product_id, product, table);
    if (!current) throw_table_not_found(product, table);
    const SnapshotSlot slot = next_snapshot(tx, product_id, now_unix_us());
    const auto retired = tx.exec_params(
        "UPDATE data_files SET removed_snapshot = $1 WHERE table_id = $2 "
        "AND removed_snapshot IS NULL",
        slot.id, current->id);
    tx.exec_params("UPDATE tables SET dropped_snapshot = $1 WHERE id = $2", slot.id, current->id);
    boost::json::object summary;
    summary["action"] = "drop_table";
    summary["table"] = table;
    summary["files_removed"] = static_cast<std::int64_t>(retired.affected_rows());
    return write_snapshot(tx, product_id, product, slot, Operation::drop,
                          boost::json::serialize(summary), read_watermark(tx, false));
  });
}

std::optional<TableInfo> PostgresCatalog::find_table(const std::string& product,
                                                     const std::string& table) const {
  return read([&](Tx& tx) -> std::optional<TableInfo> {
    const auto product_id = find_product_id(tx, product);
    if (!product_id) return std::nullopt;
    return find_live_table(tx, *product_id, product, table);
  });
}

std::vector<TableInfo> PostgresCatalog::list_tables(const std::string& product) const {
  return read([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    return read_tables(
        tx.exec_params("SELECT " + std::string(kTableColumns) +
                           " FROM tables t JOIN schema_versions sv ON sv.table_id = t.id AND "
                           "sv.version = t.schema_version WHERE t.product_id = $1 AND "
                           "t.dropped_snapshot IS NULL ORDER BY t.name COLLATE \"C\"",
                       product_id),
        product);
  });
}

std::vector<TableInfo> PostgresCatalog::tables_at(const std::string& product,
                                                  std::int64_t snapshot_id) const {
  return read([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    return read_tables(
        tx.exec_params("SELECT " + std::string(kTableColumns) +
                           " FROM tables t JOIN schema_versions sv ON sv.table_id = t.id "
                           "WHERE t.product_id = $1 AND t.created_snapshot <= $2::bigint "
                           "AND (t.dropped_snapshot IS NULL OR t.dropped_snapshot > $2::bigint) "
                           "AND sv.version = (SELECT MAX(v.version) FROM schema_versions v "
                           "WHERE v.table_id = t.id AND v.snapshot_id <= $2::bigint) "
                           "ORDER BY t.name COLLATE \"C\"",
                       product_id, snapshot_id),
        product);
  });
}

std::vector<SchemaVersion> PostgresCatalog::schema_history(const std::string& product,
                                                           const std::string& table) const {
  return read([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    // The live table sorts first (NULL dropped_snapshot), then the latest drop.
    const auto which = tx.exec_params(
        "SELECT id FROM tables WHERE product_id = $1 AND name = $2 "
        "ORDER BY dropped_snapshot IS NOT NULL, dropped_snapshot DESC LIMIT 1",
        product_id, table);
    if (which.empty()) throw_table_not_found(product, table);
    const auto rows = tx.exec_params(
        "SELECT version, schema_json, snapshot_id, created_at FROM schema_versions "
        "WHERE table_id = $1 ORDER BY version",
        int_at(which[0], 0));
    std::vector<SchemaVersion> history;
    for (const auto& row : rows) {
      SchemaVersion version;
      version.version = static_cast<std::int32_t>(int_at(row, 0));
      version.schema_json = text_at(row, 1);
      version.snapshot_id = int_at(row, 2);
      version.created_unix_us = int_at(row, 3);
      history.push_back(std::move(version));
    }
    return history;
  });
}

// --- publication -----------------------------------------------------------

std::vector<Snapshot> PostgresCatalog::publish(const std::vector<Publication>& publications,
                                               const std::vector<PositionRange>& resolved) {
  validate_ranges(resolved);
  for (const auto& publication : publications) validate_publication(publication);
  return write([&](Tx& tx) {
    // Lock order 1: every product written, in one order (by name) for all
    // writers, before anything else.
    std::set<std::string> names;
    for (const auto& publication : publications) names.insert(publication.product);
    std::map<std::string, std::int64_t> product_ids;
    for (const auto& name : names) product_ids.emplace(name, lock_product(tx, name));
    // Lock order 2: bus_progress. Ranges first, so each snapshot records the
    // watermark this transaction leaves behind.
    const bus::Position watermark = apply_resolved(tx, resolved, true);
    const std::int64_t now = now_unix_us();
    std::vector<Snapshot> snapshots;
    snapshots.reserve(publications.size());
    for (const auto& publication : publications) {
      const std::int64_t product_id = product_ids.at(publication.product);
      const SnapshotSlot slot = next_snapshot(tx, product_id, now);
      // Lock order 3: the data_files sequence, inside.
      write_publication(tx, product_id, publication, slot, options_.idempotency_window_us);
      snapshots.push_back(
          write_snapshot(tx, product_id, publication.product, slot, publication.operation,
                         json_or_empty_object(publication.summary_json), watermark));
    }
    return snapshots;
  });
}

void PostgresCatalog::resolve_positions(const std::vector<PositionRange>& resolved) {
  validate_ranges(resolved);
  if (resolved.empty()) return;
  write([&](Tx& tx) { apply_resolved(tx, resolved, false); });
}

bus::Position PostgresCatalog::watermark() const {
  return read([](Tx& tx) { return read_watermark(tx, false); });
}

std::vector<bus::Position> PostgresCatalog::resolved_among(
    const std::vector<bus::Position>& positions) const {
  return read([&](Tx& tx) {
    const bus::Position watermark = read_watermark(tx, false);
    auto valid = [](bus::Position p) {
      return p != 0 && p <= static_cast<bus::Position>(kMaxPosition);
    };
    std::vector<bus::Position> above;  // past the watermark
    for (const bus::Position position : positions) {
      if (valid(position) && position > watermark) above.push_back(position);
    }
    // In one statement (a claim holds up to max_batch_events positions): for
    // each, the stored range that starts closest below it must reach it.
    std::set<bus::Position> in_ranges;
    if (!above.empty()) {
      const auto rows = tx.exec_params(
          "SELECT p FROM unnest($1::bigint[]) AS p WHERE (SELECT r.last_position "
          "FROM resolved_ranges r WHERE r.first_position <= p "
          "ORDER BY r.first_position DESC LIMIT 1) >= p",
          pg::bigint_array(above));
      for (const auto& row : rows) in_ranges.insert(static_cast<bus::Position>(int_at(row, 0)));
    }
    std::vector<bus::Position> resolved;  // in the order asked
    for (const bus::Position position : positions) {
      if (valid(position) && (position <= watermark || in_ranges.count(position) > 0)) {
        resolved.push_back(position);
      }
    }
    return resolved;
  });
}

std::map<std::string, IdempotencyHit> PostgresCatalog::find_idempotency(
    const std::string& product, const std::string& table,
    const std::vector<std::string>& keys) const {
  const std::int64_t now = now_unix_us();
  return read([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    std::map<std::string, IdempotencyHit> hits;
    if (keys.empty()) return hits;
    // One statement for all of them (a claim may hold a whole batch's keys).
    const auto rows = tx.exec_params(
        "SELECT idem_key, bus_position, snapshot_id FROM idempotency "
        "WHERE product_id = $1 AND table_name = $2 AND idem_key = ANY($3::text[]) "
        "AND expires_at > $4",
        product_id, table, pg::text_array(keys), now);
    for (const auto& row : rows) {
      IdempotencyHit hit;
      hit.position = static_cast<bus::Position>(int_at(row, 1));
      hit.snapshot_id = int_at(row, 2);
      hits.emplace(row[0].c_str(), hit);
    }
    return hits;
  });
}

void PostgresCatalog::remember_requests(const std::vector<RequestRecord>& requests) {
  for (const auto& r : requests) validate_request_record(r);
  if (requests.empty()) return;
  const std::int64_t now = now_unix_us();
  write([&](Tx& tx) {
    // Not waiting for the server's WAL flush (see CatalogRepo).
    tx.exec("SET LOCAL synchronous_commit = off");
    std::map<std::string, std::int64_t> product_ids;
    std::vector<std::int64_t> product_list;
    std::vector<std::string> table_list, key_list, fingerprint_list, answer_list;
    for (const auto& r : requests) {
      auto id = product_ids.find(r.product);
      if (id == product_ids.end()) {
        id = product_ids.emplace(r.product, require_product_id(tx, r.product)).first;
      }
      product_list.push_back(id->second);
      table_list.push_back(r.table);
      key_list.push_back(r.key);
      fingerprint_list.push_back(fingerprint_text(r.answer.fingerprint));
      answer_list.push_back(r.answer.answer_json);
    }
    // An expired answer gives way; a live one stays. (A key twice in one
    // call: the first answer is kept, as ON CONFLICT may not touch a row
    // twice in one statement.)
    tx.exec_params(
        "INSERT INTO request_answers (product_id, table_name, request_key, fingerprint, "
        "answer_json, expires_at) "
        "SELECT DISTINCT ON (u.p, u.t, u.k) u.p, u.t, u.k, u.f, u.a, $6 "
        "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) "
        "WITH ORDINALITY AS u(p, t, k, f, a, n) ORDER BY u.p, u.t, u.k, u.n "
        "ON CONFLICT (product_id, table_name, request_key) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, answer_json = excluded.answer_json, "
        "expires_at = excluded.expires_at WHERE request_answers.expires_at <= $7",
        pg::bigint_array(product_list), pg::text_array(table_list), pg::text_array(key_list),
        pg::text_array(fingerprint_list), pg::text_array(answer_list),
        now + options_.idempotency_window_us, now);
  });
}

std::optional<RequestAnswer> PostgresCatalog::find_request(const std::string& product,
                                                           const std::string& table,
                                                           const std::string& key) const {
  const std::int64_t now = now_unix_us();
  return read([&](Tx& tx) -> std::optional<RequestAnswer> {
    const std::int64_t product_id = require_product_id(tx, product);
    const auto rows = tx.exec_params(
        "SELECT fingerprint, answer_json FROM request_answers "
        "WHERE product_id = $1 AND table_name = $2 AND request_key = $3 AND expires_at > $4",
        product_id, table, key, now);
    if (rows.empty()) return std::nullopt;
    RequestAnswer answer;
    answer.fingerprint = fingerprint_of_text(rows[0][0].c_str());
    answer.answer_json = rows[0][1].c_str();
    return answer;
  });
}

std::size_t PostgresCatalog::purge_idempotency(std::int64_t now_unix_us) {
  return write([&](Tx& tx) {
    auto purged = static_cast<std::size_t>(
        tx.exec_params("DELETE FROM idempotency WHERE expires_at <= $1", now_unix_us)
            .affected_rows());
    purged += static_cast<std::size_t>(
        tx.exec_params("DELETE FROM request_answers WHERE expires_at <= $1", now_unix_us)
            .affected_rows());
    return purged;
  });
}

// --- snapshots and files ---------------------------------------------------

std::optional<Snapshot> PostgresCatalog::latest_snapshot(const std::string& product) const {
  return read([&](Tx& tx) -> std::optional<Snapshot> {
    const auto product_id = find_product_id(tx, product);
    if (!product_id) return std::nullopt;
    return first_snapshot(tx.exec_params("SELECT " + std::string(kSnapshotColumns) +
                                             " FROM snapshots WHERE product_id = $1 "
                                             "ORDER BY id DESC LIMIT 1",
                                         *product_id),
                          product);
  });
}

std::optional<Snapshot> PostgresCatalog::find_snapshot(const std::string& product,
                                                       std::int64_t id) const {
  return read([&](Tx& tx) -> std::optional<Snapshot> {
    const auto product_id = find_product_id(tx, product);
    if (!product_id) return std::nullopt;
    return first_snapshot(tx.exec_params("SELECT " + std::string(kSnapshotColumns) +
                                             " FROM snapshots WHERE product_id = $1 AND id = $2",
                                         *product_id, id),
                          product);
  });
}

std::optional<Snapshot> PostgresCatalog::snapshot_as_of(const std::string& product,
                                                        std::int64_t unix_us) const {
  return read([&](Tx& tx) -> std::optional<Snapshot> {
    const auto product_id = find_product_id(tx, product);
    if (!product_id) return std::nullopt;
    return first_snapshot(
        tx.exec_params("SELECT " + std::string(kSnapshotColumns) +
                           " FROM snapshots WHERE product_id = $1 AND committed_at <= $2 "
                           "ORDER BY committed_at DESC, id DESC LIMIT 1",
                       *product_id, unix_us),
        product);
  });
}

std::vector<Snapshot> PostgresCatalog::list_snapshots(const std::string& product, std::size_t limit,
                                                      std::int64_t before_id) const {
  if (before_id < 0) throw_invalid("before_id must not be negative", "before_id");
  const auto max_limit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return read([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    const auto rows = tx.exec_params(
        "SELECT " + std::string(kSnapshotColumns) +
            " FROM snapshots WHERE product_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        product_id, before_id == 0 ? std::numeric_limits<std::int64_t>::max() : before_id,
        static_cast<std::int64_t>(std::min(limit, max_limit)));
    std::vector<Snapshot> snapshots;
    for (const auto& row : rows) snapshots.push_back(read_snapshot(row, product));
    return snapshots;
  });
}

std::vector<DataFile> PostgresCatalog::live_files(const std::string& product,
                                                  std::int64_t snapshot_id,
                                                  const std::string& table) const {
  return read([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    const std::string sql = "SELECT " + std::string(kFileColumns) +
                            " FROM data_files WHERE product_id = $1 AND added_snapshot <= $2 "
                            "AND (removed_snapshot IS NULL OR removed_snapshot > $2)";
    if (table.empty()) {
      return read_files(tx.exec_params(sql + " ORDER BY id", product_id, snapshot_id), product);
    }
    return read_files(
        tx.exec_params(sql + " AND table_name = $3 ORDER BY id", product_id, snapshot_id, table),
        product);
  });
}

std::vector<DataFile> PostgresCatalog::files_added(const std::string& product,
                                                   const std::string& table,
                                                   std::int64_t after_snapshot,
                                                   std::int64_t up_to_snapshot) const {
  return read([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    return read_files(
        tx.exec_params("SELECT " + std::string(kFileColumns) +
                           " FROM data_files WHERE product_id = $1 AND table_name = $2 "
                           "AND added_snapshot > $3 AND added_snapshot <= $4 "
                           "AND unreferenced_at IS NULL ORDER BY id",
                       product_id, table, after_snapshot, up_to_snapshot),
        product);
  });
}

// --- retention and garbage collection --------------------------------------

std::optional<Snapshot> PostgresCatalog::oldest_snapshot(const std::string& product) const {
  return read([&](Tx& tx) -> std::optional<Snapshot> {
    const auto product_id = find_product_id(tx, product);
    if (!product_id) return std::nullopt;
    return first_snapshot(
        tx.exec_params("SELECT " + std::string(kSnapshotColumns) +
                           " FROM snapshots WHERE product_id = $1 ORDER BY id LIMIT 1",
                       *product_id),
        product);
  });
}

ExpiryResult PostgresCatalog::expire_snapshots(const std::string& product,
                                               std::size_t keep_at_least,
                                               std::int64_t committed_before_unix_us,
                                               bool dry_run) {
  if (keep_at_least == 0) {
    throw_invalid("expiry must keep at least the newest snapshot", "keep_at_least");
  }
  auto plan_and_apply = [&](Tx& tx) {
    // A dry run reads; a real one holds the product lock against publishers.
    const std::int64_t product_id =
        dry_run ? require_product_id(tx, product) : lock_product(tx, product);
    ExpiryResult result;
    // The newest snapshot that count retention lets go: the (keep_at_least+1)-th newest.
    const auto beyond_count = tx.exec_params(
        "SELECT id FROM snapshots WHERE product_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2",
        product_id, static_cast<std::int64_t>(keep_at_least));
    std::optional<std::int64_t> last_expired;
    if (!beyond_count.empty()) {
      // Commit times increase with ids, so the expired ones are a prefix.
      const auto by_age = tx.exec_params(
          "SELECT MAX(id) FROM snapshots WHERE product_id = $1 AND committed_at < $2 AND id <= $3",
          product_id, committed_before_unix_us, int_at(beyond_count[0], 0));
      if (!by_age[0][0].is_null()) last_expired = int_at(by_age[0], 0);
    }
    if (last_expired) {
      result.expired =
          int_at(tx.exec_params("SELECT COUNT(*) FROM snapshots WHERE product_id = $1 AND id <= $2",
                                product_id, *last_expired)[0],
                 0);
      result.oldest_kept = *last_expired + 1;
    } else {
      result.oldest_kept = optional_int_at(
          tx.exec_params("SELECT MIN(id) FROM snapshots WHERE product_id = $1", product_id)[0], 0);
    }
    // A file retired by snapshot R is read only by snapshots before R: none
    // is kept once R <= the oldest kept snapshot.
    if (result.oldest_kept) {
      result.files_unreferenced =
          int_at(tx.exec_params("SELECT COUNT(*) FROM data_files WHERE product_id = $1 "
                                "AND removed_snapshot <= $2 AND unreferenced_at IS NULL",
                                product_id, *result.oldest_kept)[0],
                 0);
    }
    if (dry_run) return result;
    if (last_expired) {
      tx.exec_params("DELETE FROM snapshots WHERE product_id = $1 AND id <= $2", product_id,
                     *last_expired);
    }
    if (result.oldest_kept && result.files_unreferenced > 0) {
      tx.exec_params(
          "UPDATE data_files SET unreferenced_at = $3 WHERE product_id = $1 "
          "AND removed_snapshot <= $2 AND unreferenced_at IS NULL",
          product_id, *result.oldest_kept, now_unix_us());
    }
    return result;
  };
  return dry_run ? read(plan_and_apply) : write(plan_and_apply);
}

std::vector<DataFile> PostgresCatalog::collectable_files(
    const std::string& product, std::int64_t unreferenced_before_unix_us) const {
  return read([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    return read_files(
        tx.exec_params("SELECT " + std::string(kFileColumns) +
                           " FROM data_files WHERE product_id = $1 "
                           "AND unreferenced_at IS NOT NULL AND unreferenced_at <= $2 "
                           "ORDER BY id",
                       product_id, unreferenced_before_unix_us),
        product);
  });
}

std::size_t PostgresCatalog::forget_files(const std::string& product,
                                          const std::vector<std::int64_t>& file_ids) {
  if (file_ids.empty()) return 0;
  return write([&](Tx& tx) {
    const std::int64_t product_id = require_product_id(tx, product);
    std::size_t forgotten = 0;
    for (const std::int64_t id : file_ids) {
      forgotten += static_cast<std::size_t>(
          tx.exec_params("DELETE FROM data_files WHERE id = $1 AND product_id = $2 "
                         "AND unreferenced_at IS NOT NULL",
                         id, product_id)
              .affected_rows());
    }
    return forgotten;
  });
}

std::vector<std::string> PostgresCatalog::known_file_paths() const {
  return read([](Tx& tx) {
    std::vector<std::string> paths;
    for (const auto& row : tx.exec("SELECT path FROM data_files ORDER BY path COLLATE \"C\"")) {
      paths.push_back(text_at(row, 0));
    }
    return paths;
  });
}

// --- API keys and the audit log -------------------------------------------

namespace {

constexpr std::string_view kApiKeyColumns =
    "id, product, role, secret_hash, created_at, last_used_at, revoked_at";

ApiKeyRecord read_api_key(const pqxx::row& row) {
  ApiKeyRecord key;
  key.id = text_at(row, 0);
  key.product = text_at(row, 1);  // NULL (platform key) reads as ""
  key.role = text_at(row, 2);
  key.secret_hash = text_at(row, 3);
  key.created_unix_us = int_at(row, 4);
  key.last_used_unix_us = optional_int_at(row, 5);
  key.revoked_unix_us = optional_int_at(row, 6);
  return key;
}

std::optional<std::string> null_if_empty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

void PostgresCatalog::create_api_key(const ApiKeyRecord& key) {
  validate_api_key(key);
  write([&](Tx& tx) {
    if (!tx.exec_params("SELECT 1 FROM api_keys WHERE id = $1", key.id).empty()) {
      throw Error(ErrorCode::conflict, "an API key with id '" + key.id + "' already exists",
                  {{"key_id", key.id}});
    }
    // A racing creator of the same id fails on the primary key: conflict.
    tx.exec_params(
        "INSERT INTO api_keys (id, product, role, secret_hash, created_at, last_used_at, "
        "revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        key.id, null_if_empty(key.product), key.role, key.secret_hash, key.created_unix_us,
        key.last_used_unix_us, key.revoked_unix_us);
    return 0;
  });
}

std::optional<ApiKeyRecord> PostgresCatalog::find_api_key(const std::string& id) const {
  return read([&](Tx& tx) -> std::optional<ApiKeyRecord> {
    const auto rows = tx.exec_params(
        "SELECT " + std::string(kApiKeyColumns) + " FROM api_keys WHERE id = $1", id);
    if (rows.empty()) return std::nullopt;
    return read_api_key(rows[0]);
  });
}

std::vector<ApiKeyRecord> PostgresCatalog::list_api_keys(const std::string& product) const {
  return read([&](Tx& tx) {
    std::string sql = "SELECT " + std::string(kApiKeyColumns) + " FROM api_keys";
    // COLLATE "C": byte order of ids, as SQLite sorts.
    const std::string order = " ORDER BY created_at, id COLLATE \"C\"";
    const auto rows = product.empty()
                          ? tx.exec(sql + order)
                          : tx.exec_params(sql + " WHERE product = $1" + order, product);
    std::vector<ApiKeyRecord> keys;
    for (const auto& row : rows) keys.push_back(read_api_key(row));
    return keys;
  });
}

bool PostgresCatalog::revoke_api_key(const std::string& id, std::int64_t unix_us) {
  return write([&](Tx& tx) {
    if (tx.exec_params("SELECT 1 FROM api_keys WHERE id = $1 FOR UPDATE", id).empty()) {
      return false;
    }
    tx.exec_params("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id,
                   unix_us);
    return true;
  });
}

void PostgresCatalog::touch_api_key(const std::string& id, std::int64_t unix_us) {
  write([&](Tx& tx) {
    tx.exec_params(
        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND "
        "(last_used_at IS NULL OR last_used_at < $2)",
        id, unix_us);
    return 0;
  });
}

std::int64_t PostgresCatalog::append_audit(const AuditEntry& entry) {
  validate_audit_entry(entry);
  return write([&](Tx& tx) {
    const std::int64_t id = allocate_ids(tx, "audit_log", 1);
    tx.exec_params(
        "INSERT INTO audit_log (id, at, actor, action, product, target, outcome, details_json) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id, entry.at_unix_us, entry.actor, entry.action, null_if_empty(entry.product), entry.target,
        entry.outcome, entry.details_json.empty() ? "{}" : entry.details_json);
    return id;
  });
}

std::vector<AuditEntry> PostgresCatalog::list_audit(const std::string& product,
                                                    std::int64_t since_unix_us,
                                                    std::size_t limit) const {
  return read([&](Tx& tx) {
    const std::string sql =
        "SELECT id, at, actor, action, product, target, outcome, details_json FROM audit_log "
        "WHERE at >= $1";
    const auto capped = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
    const auto rows =
        product.empty() ? tx.exec_params(sql + " ORDER BY id DESC LIMIT $2", since_unix_us, capped)
                        : tx.exec_params(sql + " AND product = $3 ORDER BY id DESC LIMIT $2",
                                         since_unix_us, capped, product);
    std::vector<AuditEntry> entries;
    for (const auto& row : rows) {
      AuditEntry e;
      e.id = int_at(row, 0);
      e.at_unix_us = int_at(row, 1);
      e.actor = text_at(row, 2);
      e.action = text_at(row, 3);
      e.product = text_at(row, 4);
      e.target = text_at(row, 5);
      e.outcome = text_at(row, 6);
      e.details_json = text_at(row, 7);
      entries.push_back(std::move(e));
    }
    return entries;
  });
}

}  // namespace duckmesh::catalog
