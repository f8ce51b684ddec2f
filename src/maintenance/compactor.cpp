#include "maintenance/compactor.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "common/error.hpp"
#include "common/fault.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "duck/result.hpp"
#include "duck/sql_literal.hpp"
#include "duck/value.hpp"
#include "obs/log.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::maintenance {
namespace {

using schema::quote_identifier;

// "products/<p>/tables/<t>/data[/<column>=<value>]" for a partition_json.
std::string key_prefix(const catalog::TableInfo& table, const std::string& partition_json) {
  std::string prefix = "products/" + table.product + "/tables/" + table.name + "/data";
  boost::system::error_code ec;
  auto parsed = boost::json::parse(partition_json, ec);
  if (ec || !parsed.is_object()) return prefix;
  for (const auto& [column, value] : parsed.as_object()) {
    prefix +=
        "/" + std::string(column) + "=" +
        (value.is_string() ? storage::key_segment(value.as_string()) : std::string("__null__"));
  }
  return prefix;
}

// The table's optional sort key: options_json {"sort_key": ["col", ...]}.
std::vector<std::string> sort_key_of(const catalog::TableInfo& table) {
  std::vector<std::string> key;
  boost::system::error_code ec;
  auto options = boost::json::parse(table.options_json.empty() ? "{}" : table.options_json, ec);
  if (ec || !options.is_object()) return key;
  const auto* sort = options.as_object().if_contains("sort_key");
  if (!sort) return key;
  if (sort->is_string()) {
    key.emplace_back(sort->as_string());
  } else if (sort->is_array()) {
    for (const auto& c : sort->as_array()) {
      if (c.is_string()) key.emplace_back(c.as_string());
    }
  }
  return key;
}

struct WrittenFiles {
  storage::ObjectStore& store;
  std::vector<std::string> keys;
  // Unpublished objects are deleted at once: no snapshot can reference them.
  void discard() {
    for (const auto& key : keys) {
      try {
        store.remove(key);
      } catch (const std::exception& e) {
        log::warn("compaction could not delete an unpublished file; gc removes it later",
                  {{"key", key}, {"error", e.what()}});
      }
    }
    keys.clear();
  }
};

}  // namespace

std::string_view to_string(CompactionOutcome outcome) {
  switch (outcome) {
    case CompactionOutcome::compacted: return "compacted";
    case CompactionOutcome::nothing_to_do: return "nothing_to_do";
    case CompactionOutcome::gave_up: return "gave_up";
  }
  return "unknown";
}

struct Compactor::Group {
  std::string partition_json;
  std::vector<catalog::DataFile> files;
};

struct Compactor::Plan {
  std::vector<Group> groups;
  bool covers_table = false;  // every live file of the table is in some group
};

Compactor::Compactor(catalog::CatalogRepo& catalog, storage::ObjectStore& store,
                     CompactionOptions options)
    : catalog_(catalog), store_(store), options_(options) {
  if (options_.target_file_bytes <= 0 || options_.target_file_rows <= 0 ||
      options_.small_file_bytes <= 0 || options_.small_file_rows <= 0 ||
      options_.max_attempts < 1) {
    throw Error(ErrorCode::invalid_input,
                "compaction sizes must be positive and max_attempts at least 1");
  }
  duck::DatabaseOptions db_options;
  if (options_.duckdb_threads > 0) db_options.threads = options_.duckdb_threads;
  duckdb_ = std::make_unique<duck::Database>(":memory:", db_options);
  conn_ = std::make_unique<duck::Connection>(*duckdb_);
  conn_->execute("SET TimeZone='UTC'");
}

Compactor::~Compactor() = default;

std::optional<Compactor::Plan> Compactor::plan(const catalog::TableInfo& table,
                                               const catalog::Snapshot& at) {
  auto files = catalog_.live_files(table.product, at.id, table.name);
  std::map<std::string, std::vector<catalog::DataFile>> by_partition;
  for (auto& f : files) by_partition[f.partition_json].push_back(std::move(f));

  Plan plan;
  std::size_t planned = 0;
  for (auto& [partition, part_files] : by_partition) {
    std::sort(part_files.begin(), part_files.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    Group current{partition, {}};
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
    auto close = [&] {
      if (current.files.size() >= 2) {
        planned += current.files.size();
        plan.groups.push_back(std::move(current));
      }
      current = Group{partition, {}};
      rows = 0;
      bytes = 0;
    };
    for (auto& f : part_files) {
      if (f.bytes >= options_.small_file_bytes || f.row_count >= options_.small_file_rows) continue;
      if (!current.files.empty() && (rows + f.row_count > options_.target_file_rows ||
                                     bytes + f.bytes > options_.target_file_bytes)) {
        close();
      }
      rows += f.row_count;
      bytes += f.bytes;
      current.files.push_back(std::move(f));
    }
    close();
  }
  if (plan.groups.empty()) return std::nullopt;
  plan.covers_table = planned == files.size();
  return plan;
}

catalog::NewFile Compactor::write_group(const catalog::TableInfo& table, const Group& group,
                                        bool drop_deletes, std::uint64_t watermark) {
  auto table_schema = schema::TableSchema::from_json_text(table.schema_json);
  const bool keyed = table.kind == catalog::TableKind::keyed;

  std::set<std::string> present;
  bool same_columns = true;
  std::set<std::string> first_columns;
  for (std::size_t i = 0; i < group.files.size(); ++i) {
    std::set<std::string> columns;
    for (const auto& s : group.files[i].stats) columns.insert(s.column);
    if (i == 0) first_columns = columns;
    same_columns = same_columns && columns == first_columns;
    present.insert(columns.begin(), columns.end());
  }

  std::string list = "[";
  for (std::size_t i = 0; i < group.files.size(); ++i) {
    if (i) list += ", ";
    list += duck::quote_literal(store_.local_path(group.files[i].path).string());
  }
  list += "]";
  std::string source = "read_parquet(" + list + ", hive_partitioning=false" +
                       (same_columns ? std::string() : std::string(", union_by_name=true")) + ")";

  const std::string position = quote_identifier(schema::kPositionColumn);
  std::string rows = "SELECT * FROM " + source;
  if (keyed) {
    std::string key;
    for (const auto& k : table.primary_key) key += (key.empty() ? "" : ", ") + quote_identifier(k);
    rows = "SELECT * EXCLUDE (_dm_rank) FROM (SELECT *, row_number() OVER (PARTITION BY " + key +
           " ORDER BY " + position + " DESC) AS _dm_rank FROM " + source + ") WHERE _dm_rank = 1";
    if (drop_deletes) {
      rows += " AND NOT (COALESCE(" + quote_identifier(schema::kOperationColumn) +
              " = 'delete', false) AND " + position + " <= " + std::to_string(watermark) + ")";
    }
  }
  std::string order;
  for (const auto& c : sort_key_of(table)) {
    if (present.count(c)) order += quote_identifier(c) + ", ";
  }
  order += position;

  auto scratch = store_.scratch_dir();
  std::filesystem::create_directories(scratch);
  // Unique across processes and across compactors of one process.
  std::string name = storage::unique_key("compact", ".parquet");
  std::replace(name.begin(), name.end(), '/', '-');
  auto local = scratch / name;
  struct Cleanup {
    std::filesystem::path path;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } cleanup{local};
  conn_->execute("COPY (" + rows + " ORDER BY " + order + ") TO " +
                 duck::quote_literal(local.string()) +
                 " (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE " +
                 std::to_string(options_.row_group_size) + ")");

  // Statistics from the written file, as the coordinator records them:
  // min/max/null count of every scalar column, presence of the others.
  std::vector<std::string> stat_columns;
  for (const auto& c : table_schema.columns) {
    if (!present.count(c.name)) continue;
    if (c.type.kind != schema::TypeKind::list && c.type.kind != schema::TypeKind::json) {
      stat_columns.push_back(c.name);
    }
  }
  stat_columns.push_back(schema::kPositionColumn);
  std::string stats_sql = "SELECT count(*)";
  for (const auto& c : stat_columns) {
    auto q = quote_identifier(c);
    stats_sql += ", min(" + q + ")::VARCHAR, max(" + q + ")::VARCHAR, count(*) - count(" + q + ")";
  }
  stats_sql += " FROM read_parquet(" + duck::quote_literal(local.string()) + ")";
  auto stats_row = conn_->query(stats_sql).fetch_all().at(0);

  catalog::NewFile file;
  file.table = table.name;
  file.partition_json = group.partition_json;
  file.row_count = duck::to_int64(stats_row[0]);
  if (file.row_count == 0) return file;  // everything folded away: nothing to write
  for (std::size_t i = 0; i < stat_columns.size(); ++i) {
    catalog::ColumnStats s;
    s.column = stat_columns[i];
    s.min = duck::text_or_null(stats_row[1 + i * 3]);
    s.max = duck::text_or_null(stats_row[2 + i * 3]);
    s.null_count = duck::to_int64(stats_row[3 + i * 3]);
    file.stats.push_back(std::move(s));
  }
  for (const auto& c : table_schema.columns) {
    if (present.count(c.name) &&
        std::find(stat_columns.begin(), stat_columns.end(), c.name) == stat_columns.end()) {
      file.stats.push_back({c.name, std::nullopt, std::nullopt, 0});
    }
  }
  file.bytes = static_cast<std::int64_t>(std::filesystem::file_size(local));
  file.path = storage::unique_key(key_prefix(table, group.partition_json), ".parquet");
  store_.put_file(file.path, local);
  return file;
}

TableCompaction Compactor::compact_table(const std::string& product, const std::string& table) {
  TableCompaction result;
  result.product = product;
  result.table = table;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    result.attempts = attempt;
    auto info = catalog_.find_table(product, table);
    if (!info) {
      throw Error(ErrorCode::not_found,
                  "product '" + product + "' has no live table named '" + table + "'",
                  {{"product", product}, {"table", table}});
    }
    auto at = catalog_.latest_snapshot(product);
    if (!at) return result;
    auto planned = plan(*info, *at);
    if (!planned) {
      result.outcome = CompactionOutcome::nothing_to_do;
      return result;
    }
    // One group holding every live file: no other file can hold an older
    // version of a key whose delete marker is dropped (a key can sit in
    // several partitions when its partition column changed).
    const bool drop_deletes = planned->covers_table && planned->groups.size() == 1;

    catalog::Publication publication;
    publication.product = product;
    publication.operation = catalog::Operation::compact;
    WrittenFiles written{store_, {}};
    std::int64_t rows_before = 0, rows_after = 0, bytes_before = 0, bytes_after = 0;
    try {
      for (const auto& group : planned->groups) {
        auto file = write_group(*info, group, drop_deletes, at->watermark);
        for (const auto& f : group.files) {
          publication.removed_file_ids.push_back(f.id);
          rows_before += f.row_count;
          bytes_before += f.bytes;
        }
        if (file.path.empty()) continue;
        written.keys.push_back(file.path);
        rows_after += file.row_count;
        bytes_after += file.bytes;
        publication.added.push_back(std::move(file));
      }
      fault::maybe_crash("compact_before_publish");
      if (options_.before_publish) options_.before_publish();
      boost::json::object figures{{"files_removed", publication.removed_file_ids.size()},
                                  {"files_added", publication.added.size()},
                                  {"rows_before", rows_before},
                                  {"rows_after", rows_after}};
      boost::json::object tables;
      tables[table] = std::move(figures);
      boost::json::object summary{{"action", "compact"},
                                  {"files", publication.added.size()},
                                  {"tables", std::move(tables)}};
      publication.summary_json = boost::json::serialize(summary);
      auto snapshots = catalog_.publish({publication}, {});
      result.outcome = CompactionOutcome::compacted;
      result.snapshot_id = snapshots.at(0).id;
      result.files_removed = static_cast<std::int64_t>(publication.removed_file_ids.size());
      result.files_added = static_cast<std::int64_t>(publication.added.size());
      result.rows_before = rows_before;
      result.rows_after = rows_after;
      result.bytes_before = bytes_before;
      result.bytes_after = bytes_after;
      result.message.clear();
      return result;
    } catch (const Error& e) {
      written.discard();
      if (e.code() == ErrorCode::conflict) {
        // Another writer retired a file of the plan: plan again from the
        // newer snapshot.
        result.message = std::string(e.message());
        continue;
      }
      if (e.code() == ErrorCode::not_found) {  // the table was dropped meanwhile
        result.outcome = CompactionOutcome::gave_up;
        result.message = std::string(e.message());
        return result;
      }
      throw;
    } catch (...) {
      written.discard();
      throw;
    }
  }
  result.outcome = CompactionOutcome::gave_up;
  return result;
}

std::vector<TableCompaction> Compactor::compact_all(const std::string& product) {
  std::vector<std::string> products;
  if (!product.empty()) {
    products.push_back(product);
  } else {
    for (const auto& p : catalog_.list_products()) products.push_back(p.name);
  }
  std::vector<TableCompaction> results;
  for (const auto& p : products) {
    for (const auto& t : catalog_.list_tables(p)) {
      try {
        results.push_back(compact_table(p, t.name));
      } catch (const std::exception& e) {
        TableCompaction failed;
        failed.product = p;
        failed.table = t.name;
        failed.outcome = CompactionOutcome::gave_up;
        failed.message = e.what();
        results.push_back(std::move(failed));
      }
    }
  }
  return results;
}

}  // namespace duckmesh::maintenance
