// Typed, bounds-checked reading of one chunk of a query result.
//
// A DataChunk holds up to DuckDB's vector size (2048) rows, column by
// column. VectorReader reads one column, or the element/field vector of a
// nested column: for a LIST column `c`, `chunk.column(c).list_child()` is
// the vector of all elements, and get_list(row) says which slice of it
// belongs to `row`.
//
// Accessor contract: every get_* checks the row against size() and throws
// Error(internal) for an out-of-range row, for a NULL value (check is_null
// first), and for a column type the accessor cannot read. Integer getters
// read any integer column whose value fits the requested type.
//
// Lifetime and thread-safety: a DataChunk is used by one thread at a time
// and must not outlive the Result it came from. A VectorReader, and any
// std::string_view it returns, is valid while its DataChunk is alive.
#pragma once

#include <duckdb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duck/value.hpp"

namespace duckmesh::duck {

namespace detail {
struct TypeInfo;
struct VectorNode;
}  // namespace detail

// The slice of a child vector holding one LIST/MAP/ARRAY value.
struct ListEntry {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;

  friend bool operator==(const ListEntry&, const ListEntry&) = default;
};

class VectorReader {
 public:
  duckdb_type type_id() const;
  // DuckDB's name of the type ("DECIMAL(20,2)", "INTEGER[]", "JSON").
  const std::string& type_name() const;
  // Rows readable through this reader.
  idx_t size() const;

  bool is_null(idx_t row) const;
  bool get_bool(idx_t row) const;
  std::int32_t get_int32(idx_t row) const;
  std::int64_t get_int64(idx_t row) const;
  std::uint64_t get_uint64(idx_t row) const;
  // FLOAT, DOUBLE, DECIMAL (rounded) and integer columns.
  double get_double(idx_t row) const;
  // VARCHAR and BLOB bytes, ENUM labels. The view points into the chunk.
  std::string_view get_string_view(idx_t row) const;
  std::string get_string(idx_t row) const { return std::string(get_string_view(row)); }
  Date get_date(idx_t row) const;
  // TIMESTAMP, TIMESTAMP WITH TIME ZONE (UTC), TIMESTAMP_S/_MS, and
  // TIMESTAMP_NS truncated toward -infinity to microseconds.
  Timestamp get_timestamp(idx_t row) const;
  Decimal get_decimal(idx_t row) const;
  // HUGEINT or any narrower integer column.
  HugeInt get_hugeint(idx_t row) const;

  // LIST and MAP: the row's slice of list_child(). ARRAY: the fixed slice
  // [row * array_size, +array_size).
  ListEntry get_list(idx_t row) const;
  // LIST, ARRAY: the element vector. MAP: a STRUCT(key, value) vector.
  VectorReader list_child() const;

  // STRUCT fields.
  idx_t field_count() const;
  const std::string& field_name(idx_t field) const;
  VectorReader field(idx_t field) const;

  // Any supported type, NULL included; see Value for the mapping. Throws
  // Error(invalid_input) for types the reader does not support (UNION, BIT,
  // BIGNUM, TIME_NS), naming the type, so that a query author can cast.
  Value get_value(idx_t row) const;
  // The value as DuckDB's `CAST(x AS VARCHAR)` prints it, except that
  // TIMESTAMP WITH TIME ZONE is always shown in UTC ("+00") whatever the
  // session TimeZone. A NULL prints as "NULL". Same type support as
  // get_value.
  std::string to_text(idx_t row) const;

 private:
  friend class DataChunk;
  explicit VectorReader(const detail::VectorNode* node) : node_(node) {}

  const detail::VectorNode* node_;
};

class DataChunk {
 public:
  ~DataChunk();
  DataChunk(DataChunk&& other) noexcept;
  DataChunk& operator=(DataChunk&& other) noexcept;
  DataChunk(const DataChunk&) = delete;
  DataChunk& operator=(const DataChunk&) = delete;

  // Rows in this chunk.
  idx_t size() const;
  idx_t column_count() const;
  // Throws Error(internal) when col >= column_count().
  VectorReader column(idx_t col) const;

  bool is_null(idx_t col, idx_t row) const { return column(col).is_null(row); }
  bool get_bool(idx_t col, idx_t row) const { return column(col).get_bool(row); }
  std::int32_t get_int32(idx_t col, idx_t row) const { return column(col).get_int32(row); }
  std::int64_t get_int64(idx_t col, idx_t row) const { return column(col).get_int64(row); }
  std::uint64_t get_uint64(idx_t col, idx_t row) const { return column(col).get_uint64(row); }
  double get_double(idx_t col, idx_t row) const { return column(col).get_double(row); }
  std::string_view get_string_view(idx_t col, idx_t row) const {
    return column(col).get_string_view(row);
  }
  std::string get_string(idx_t col, idx_t row) const { return column(col).get_string(row); }
  Date get_date(idx_t col, idx_t row) const { return column(col).get_date(row); }
  Timestamp get_timestamp(idx_t col, idx_t row) const { return column(col).get_timestamp(row); }
  Decimal get_decimal(idx_t col, idx_t row) const { return column(col).get_decimal(row); }
  HugeInt get_hugeint(idx_t col, idx_t row) const { return column(col).get_hugeint(row); }
  ListEntry get_list(idx_t col, idx_t row) const { return column(col).get_list(row); }
  Value get_value(idx_t col, idx_t row) const { return column(col).get_value(row); }
  std::string to_text(idx_t col, idx_t row) const { return column(col).to_text(row); }

 private:
  friend class Result;
  struct State;
  // Takes ownership of `chunk`. `types` describes its columns and is shared
  // with the Result.
  DataChunk(duckdb_data_chunk chunk, std::shared_ptr<const std::vector<detail::TypeInfo>> types);

  std::unique_ptr<State> state_;
};

}  // namespace duckmesh::duck
