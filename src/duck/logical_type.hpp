// DuckDB logical types: ownership, names, and the shape a reader needs.
//
// logical_type_name() spells a type the way DuckDB's typeof() does:
// "BIGINT", "DECIMAL(20,2)", "TIMESTAMP WITH TIME ZONE", "INTEGER[]",
// "INTEGER[3]", "STRUCT(a INTEGER, \"name\" VARCHAR)", "MAP(VARCHAR, BIGINT)",
// "ENUM('a', 'b')", and an alias such as "JSON" where the type has one.
//
// Thread-safety: LogicalType is an owning handle used by one thread at a
// time; the free functions are thread-safe.
#pragma once

#include <duckdb.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duckmesh::duck {

// Owns a duckdb_logical_type and destroys it.
class LogicalType {
 public:
  LogicalType() = default;
  // Takes ownership; `type` may be nullptr (an empty handle).
  explicit LogicalType(duckdb_logical_type type) noexcept : type_(type) {}
  ~LogicalType();
  LogicalType(LogicalType&& other) noexcept : type_(other.type_) { other.type_ = nullptr; }
  LogicalType& operator=(LogicalType&& other) noexcept;
  LogicalType(const LogicalType&) = delete;
  LogicalType& operator=(const LogicalType&) = delete;

  duckdb_logical_type get() const noexcept { return type_; }
  explicit operator bool() const noexcept { return type_ != nullptr; }

 private:
  duckdb_logical_type type_ = nullptr;
};

// DuckDB's spelling of `type`. REQUIRES: type != nullptr.
std::string logical_type_name(duckdb_logical_type type);

// The name of a type id alone ("BIGINT", "TIMESTAMP WITH TIME ZONE"); for
// parameterised types (DECIMAL, LIST, ...) only the bare keyword.
std::string type_id_name(duckdb_type id);

// DuckDB's name of a statement type ("SELECT", "COPY", "CREATE", ...).
std::string_view statement_type_name(duckdb_statement_type type);

namespace detail {

// Everything a chunk reader needs to know about a column's type, read once
// per result instead of once per chunk.
struct TypeInfo {
  duckdb_type id = DUCKDB_TYPE_INVALID;
  std::string name;
  // DECIMAL: width, scale, and the integer type holding the scaled value.
  // ENUM: `storage` is the integer type holding the dictionary index.
  std::uint8_t decimal_width = 0;
  std::uint8_t decimal_scale = 0;
  duckdb_type storage = DUCKDB_TYPE_INVALID;
  // ARRAY: the fixed element count.
  idx_t array_size = 0;
  std::vector<std::string> enum_values;
  // STRUCT field names, parallel to `children`.
  std::vector<std::string> field_names;
  // LIST, ARRAY: the element type. MAP: the entry STRUCT(key, value), which
  // is how DuckDB lays a map out in memory. STRUCT: one per field.
  std::vector<TypeInfo> children;
};

// REQUIRES: type != nullptr. Throws Error(internal) if DuckDB fails to
// describe a nested part of it.
TypeInfo describe_type(duckdb_logical_type type);

}  // namespace detail
}  // namespace duckmesh::duck
