// Reading what a snapshot holds, as text, for the tests that drive an
// app::Node (commit coordinator, maintenance).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/node.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "query/snapshot_binder.hpp"

namespace duckmesh::testing {

// Every row of `sql` on `conn`, each value as text ("NULL" for nulls).
inline std::vector<std::vector<std::string>> rows_of(duck::Connection& conn,
                                                     const std::string& sql) {
  auto result = conn.query(sql);
  std::vector<std::vector<std::string>> rows;
  while (auto chunk = result.next_chunk()) {
    for (std::size_t r = 0; r < chunk->size(); ++r) {
      std::vector<std::string> row;
      for (std::size_t c = 0; c < chunk->column_count(); ++c) {
        row.push_back(chunk->is_null(c, r) ? "NULL" : chunk->to_text(c, r));
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

// Rows of `sql` over `product` at `snapshot` (latest when 0), through the
// views the snapshot binder makes; system columns visible when `system`.
inline std::vector<std::vector<std::string>> snapshot_rows(app::Node& node,
                                                           const std::string& product,
                                                           const std::string& sql,
                                                           std::int64_t snapshot = 0,
                                                           bool system = false) {
  if (snapshot == 0) snapshot = node.catalog().latest_snapshot(product)->id;
  duck::Database db(":memory:", {});
  duck::Connection conn(db);
  conn.execute("SET TimeZone='UTC'");
  query::bind_snapshot(conn, node.catalog(), node.store(), product, snapshot, {system});
  return rows_of(conn, sql);
}

}  // namespace duckmesh::testing
