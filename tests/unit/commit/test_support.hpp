// Publishing events and reading a snapshot back, for the tests that drive the
// commit coordinator through an app::Node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/node.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "query/snapshot_binder.hpp"

namespace duckmesh::commit::test_support {

// Publishes one record per payload to `product`.`table`; keys[i], when
// given, is payload i's idempotency key. Returns the positions.
inline std::vector<bus::Position> publish(app::Node& node, const std::string& product,
                                          const std::string& table,
                                          const std::vector<std::string>& payloads,
                                          const std::vector<std::string>& keys = {}) {
  std::vector<bus::Record> records;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    bus::Record r;
    r.product = product;
    r.table = table;
    r.payload = payloads[i];
    if (i < keys.size()) r.idempotency_key = keys[i];
    records.push_back(std::move(r));
  }
  return node.bus().publish(std::move(records));
}

// Rows of `sql` over `product` at `snapshot` (latest when 0), as text
// ("NULL" for nulls); system columns visible when `system`.
inline std::vector<std::vector<std::string>> query(app::Node& node, const std::string& product,
                                                   const std::string& sql,
                                                   std::int64_t snapshot = 0, bool system = false) {
  if (snapshot == 0) snapshot = node.catalog().latest_snapshot(product)->id;
  duck::Database db(":memory:", {});
  duck::Connection conn(db);
  conn.execute("SET TimeZone='UTC'");
  query::bind_snapshot(conn, node.catalog(), node.store(), product, snapshot, {system});
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

}  // namespace duckmesh::commit::test_support
