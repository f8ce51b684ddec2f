// Publishing events and reading a snapshot back, for the tests that drive the
// commit coordinator through an app::Node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/node.hpp"
#include "support/snapshot_rows.hpp"

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
  return duckmesh::testing::snapshot_rows(node, product, sql, snapshot, system);
}

}  // namespace duckmesh::commit::test_support
