// DuckDB's SQL keywords, needed to print type names the way DuckDB does:
// a STRUCT field called `name` or `value` is written "name" (quoted) because
// it is a keyword. Pure data, thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace duckmesh::duck {

// All keywords of the pinned DuckDB, lower case, sorted.
std::span<const std::string_view> duckdb_keywords();

// True when `word` (any case) is one of them.
bool is_duckdb_keyword(std::string_view word);

}  // namespace duckmesh::duck
