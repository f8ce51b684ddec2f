// Rules for the names of products and tables, shared by every CatalogRepo
// backend.
//
// Product names travel in URLs, object-store keys and file paths; table names
// are bound as SQL identifiers in DuckDB. Both are restricted to characters
// that need no quoting or escaping anywhere they go:
//   product: 1..63 of [a-z0-9_-], starting with [a-z0-9]
//   table:   1..128 of [A-Za-z0-9_], starting with [A-Za-z_]
#pragma once

#include <cstddef>
#include <string_view>

namespace duckmesh::catalog {

inline constexpr std::size_t kMaxProductNameLength = 63;
inline constexpr std::size_t kMaxTableNameLength = 128;

bool is_valid_product_name(std::string_view name);
bool is_valid_table_name(std::string_view name);

// Throw duckmesh::Error invalid_input stating the rule when the name breaks it.
void require_valid_product_name(std::string_view name);
void require_valid_table_name(std::string_view name);

}  // namespace duckmesh::catalog
