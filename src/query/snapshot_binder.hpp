// SnapshotBinder: makes a product's tables, as of one snapshot, queryable by
// name in a DuckDB connection.
//
// Each table live at the snapshot becomes a temporary view over exactly the
// data files live at that snapshot, typed by the schema in force then:
// columns no file has yet read as typed NULLs; a table without files is an
// empty, typed relation; a keyed table reads as the latest version of each
// key with deletes applied. System columns (_dm_*) are hidden unless asked.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog_repo.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "query/pruning.hpp"
#include "storage/object_store.hpp"

namespace duckmesh::query {

struct BindOptions {
  bool include_system_columns = false;
  // Keyed tables: every version as written (deletes included) instead of
  // the latest version per key.
  bool all_versions = false;
  // Predicates by table name (see pruning.hpp); files they rule out are left
  // out of the table's view.
  const std::map<std::string, std::vector<Predicate>>* predicates = nullptr;
};

struct BoundTable {
  std::string name;
  std::size_t files = 0;         // files the view reads
  std::size_t files_pruned = 0;  // live files left out by statistics
  std::int64_t rows_in_files = 0;
};

// The SQL of the view for one table (exposed for tests and EXPLAIN).
std::string table_view_sql(const catalog::TableInfo& table,
                           const std::vector<catalog::DataFile>& files,
                           const storage::ObjectStore& store, const BindOptions& options);

std::vector<BoundTable> bind_snapshot(duck::Connection& conn, const catalog::CatalogRepo& catalog,
                                      const storage::ObjectStore& store, const std::string& product,
                                      std::int64_t snapshot_id, const BindOptions& options = {});

}  // namespace duckmesh::query
