#include "query/snapshot_binder.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "duck/sql_literal.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::query {

std::string table_view_sql(const catalog::TableInfo& table,
                           const std::vector<catalog::DataFile>& files,
                           const storage::ObjectStore& store, const BindOptions& options) {
  using schema::quote_identifier;
  auto table_schema = schema::TableSchema::from_json_text(table.schema_json);
  bool keyed = table.kind == catalog::TableKind::keyed;

  // Which columns some file has: the coordinator records a stats entry for
  // every column it writes.
  std::set<std::string> present;
  for (const auto& f : files) {
    for (const auto& s : f.stats) present.insert(s.column);
  }

  std::string select;
  for (const auto& c : table_schema.columns) {
    if (!select.empty()) select += ", ";
    if (present.count(c.name)) {
      select += "CAST(" + quote_identifier(c.name) + " AS " + c.type.sql() + ") AS " +
                quote_identifier(c.name);
    } else {
      select += "CAST(NULL AS " + c.type.sql() + ") AS " + quote_identifier(c.name);
    }
  }
  std::vector<std::pair<std::string, std::string>> system = {
      {schema::kPositionColumn, "UBIGINT"}, {schema::kIngestedAtColumn, "TIMESTAMPTZ"}};
  if (keyed) system.emplace_back(schema::kOperationColumn, "VARCHAR");
  std::string system_select;
  for (const auto& [name, type] : system) {
    system_select += ", " + std::string(files.empty() ? "CAST(NULL AS " + type + ") AS " : "") +
                     quote_identifier(name);
  }

  if (files.empty()) {
    return "SELECT " + select + (options.include_system_columns ? system_select : "") +
           " WHERE false";
  }
  std::string list = "[";
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i) list += ", ";
    list += duck::quote_literal(store.local_path(files[i].path).string());
  }
  list += "]";
  // Partition folders look like hive paths ("at=2026-11-25"); their values
  // must never replace the columns stored in the files. union_by_name costs
  // a footer read per file at bind time, so it is used only when the files
  // do not all have the same columns (the schema evolved between them).
  bool same_columns = true;
  auto columns_of = [](const catalog::DataFile& f) {
    std::set<std::string> names;
    for (const auto& s : f.stats) names.insert(s.column);
    return names;
  };
  auto first_columns = columns_of(files.front());
  for (std::size_t i = 1; i < files.size() && same_columns; ++i) {
    same_columns = columns_of(files[i]) == first_columns;
  }
  std::string source = "read_parquet(" + list + ", hive_partitioning=false" +
                       (same_columns ? std::string() : std::string(", union_by_name=true")) + ")";
  std::string visible = select + (options.include_system_columns ? system_select : "");
  if (!keyed || options.all_versions) return "SELECT " + visible + " FROM " + source;

  std::string key;
  for (const auto& k : table.primary_key) key += (key.empty() ? "" : ", ") + quote_identifier(k);
  return "SELECT " + visible + " FROM (SELECT *, row_number() OVER (PARTITION BY " + key +
         " ORDER BY " + quote_identifier(schema::kPositionColumn) + " DESC) AS _dm_rank FROM " +
         source + ") WHERE _dm_rank = 1 AND " + quote_identifier(schema::kOperationColumn) +
         " IS DISTINCT FROM 'delete'";
}

std::vector<BoundTable> bind_snapshot(duck::Connection& conn, const catalog::CatalogRepo& catalog,
                                      const storage::ObjectStore& store, const std::string& product,
                                      std::int64_t snapshot_id, const BindOptions& options) {
  auto tables = catalog.tables_at(product, snapshot_id);
  auto files = catalog.live_files(product, snapshot_id, "");
  std::map<std::string, std::vector<catalog::DataFile>> by_table;
  for (auto& f : files) by_table[f.table].push_back(std::move(f));
  std::vector<BoundTable> bound;
  for (const auto& t : tables) {
    auto table_files = std::move(by_table[t.name]);
    std::size_t pruned = 0;
    if (options.predicates) {
      if (auto it = options.predicates->find(t.name); it != options.predicates->end()) {
        auto table_schema = schema::TableSchema::from_json_text(t.schema_json);
        std::vector<std::string> numeric, text;
        for (const auto& c : table_schema.columns) {
          // Keyed tables prune on key columns only: an older version of a
          // key must never resurface because its newer version was skipped.
          if (t.kind == catalog::TableKind::keyed &&
              std::find(t.primary_key.begin(), t.primary_key.end(), c.name) ==
                  t.primary_key.end()) {
            continue;
          }
          switch (c.type.kind) {
            case schema::TypeKind::integer:
            case schema::TypeKind::bigint:
            case schema::TypeKind::double_:
            case schema::TypeKind::decimal: numeric.push_back(c.name); break;
            case schema::TypeKind::varchar: text.push_back(c.name); break;
            default: break;
          }
        }
        std::vector<catalog::DataFile> kept;
        for (auto& f : table_files) {
          if (query::file_may_match(f, it->second, numeric, text)) {
            kept.push_back(std::move(f));
          } else {
            ++pruned;
          }
        }
        table_files = std::move(kept);
      }
    }
    conn.execute("CREATE OR REPLACE TEMP VIEW " + schema::quote_identifier(t.name) + " AS " +
                 table_view_sql(t, table_files, store, options));
    BoundTable b{t.name, table_files.size(), pruned, 0};
    for (const auto& f : table_files) b.rows_in_files += f.row_count;
    bound.push_back(std::move(b));
  }
  return bound;
}

}  // namespace duckmesh::query
