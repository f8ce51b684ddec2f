// Fast row-wise loading into one table.
//
// Values are appended column by column; end_row() completes a row. DuckDB
// buffers rows and writes them on flush(), close(), when its buffer fills,
// and when the Appender is destroyed. Values are cast to the column types
// by DuckDB; a failed cast or a constraint violation throws from the
// append, end_row(), flush() or close() that hits it, with DuckDB's text.
//
// After a failed flush DuckDB discards the buffered rows and the appender
// accepts nothing more. Destroying an Appender flushes what is buffered and
// drops any error from that flush: call close() to learn about it, and
// append inside an explicit transaction when a failure must leave no rows.
//
// Lifetime and thread-safety: used by one thread at a time (the one using
// its Connection); must be destroyed before that Connection.
#pragma once

#include <duckdb.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "duck/connection.hpp"
#include "duck/prepared_statement.hpp"
#include "duck/value.hpp"

namespace duckmesh::duck {

class Appender {
 public:
  // Appends to `schema`.`table`; an empty schema means the default one.
  // Throws Error with DuckDB's text when the table does not exist.
  Appender(Connection& connection, std::string_view schema, std::string_view table);
  ~Appender();
  Appender(Appender&& other) noexcept;
  Appender& operator=(Appender&& other) noexcept;
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  // Columns of a row.
  idx_t column_count() const;

  // Every method below throws Error(internal) once close() has succeeded.

  Appender& append(std::nullptr_t);
  template <detail::BindableInteger T>
  Appender& append(T value) {
    if constexpr (std::same_as<T, bool>) {
      return append_bool(value);
    } else if constexpr (std::is_signed_v<T>) {
      if constexpr (sizeof(T) <= 4) {
        return append_int32(value);
      } else {
        return append_int64(value);
      }
    } else if constexpr (sizeof(T) <= 4) {
      return append_uint32(value);
    } else {
      return append_uint64(value);
    }
  }
  template <std::floating_point T>
  Appender& append(T value) {
    return append_double(static_cast<double>(value));
  }
  Appender& append(std::string_view text);
  Appender& append(const std::string& text) { return append(std::string_view(text)); }
  Appender& append(const char* text) { return append(std::string_view(text)); }
  Appender& append(Date value);
  Appender& append(Timestamp value);
  Appender& append(TimestampTz value);
  Appender& append(const Decimal& value);
  Appender& append(HugeInt value);
  Appender& append(const Blob& value);
  Appender& append_blob(const void* data, std::size_t size);
  // Any scalar Value; throws Error(invalid_input) for List and Struct.
  Appender& append(const Value& value);
  // The column's DEFAULT (NULL when it has none).
  Appender& append_default();

  // Completes the current row. Throws when the row has too few values.
  void end_row();

  // append(v) for each value, then end_row().
  template <class... Values>
  void append_row(Values&&... values) {
    (append(std::forward<Values>(values)), ...);
    end_row();
  }

  // Writes buffered rows to the table.
  void flush();
  // Flushes and closes; later calls throw. Idempotent.
  void close();

 private:
  Appender& append_bool(bool value);
  Appender& append_int32(std::int32_t value);
  Appender& append_int64(std::int64_t value);
  Appender& append_uint32(std::uint32_t value);
  Appender& append_uint64(std::uint64_t value);
  Appender& append_double(double value);
  // Appends a duckdb_value and destroys it.
  Appender& append_owned_value(duckdb_value value, std::string_view what);
  void check(duckdb_state state, std::string_view action);
  duckdb_appender get() const;

  duckdb_appender appender_ = nullptr;
  std::string table_;
  bool closed_ = false;
};

}  // namespace duckmesh::duck
