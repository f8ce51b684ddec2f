// RowSource: rows produced by C++ code, read by SQL as a table function.
//
// A statement such as
//   COPY (SELECT * FROM <name>()) TO 'x.parquet' (FORMAT parquet)
// pulls its rows from a producer callback chunk by chunk (up to DuckDB's
// vector size, 2048 rows), written straight into DuckDB's column vectors:
// no file, no text to parse in between. The columns are given per call, so
// one registered function serves tables of any shape.
//
// The producer runs on DuckDB's threads while query() waits: on one at a
// time by default, or on up to `threads` at once. Each call is told its
// scan state's slot (0, 1, ...: distinct among the scans of one query, and
// normally below `threads`), so that it can keep per-thread state. Rows then
// come in whatever order the threads finish, and only a connection with
// `SET preserve_insertion_order = false` lets DuckDB write them in
// parallel. An exception the producer throws stops the statement; query()
// then rethrows that exception itself (the first, if several threads threw),
// not DuckDB's wrapper around its text, so a caller can tell its own errors
// from DuckDB's.
//
// Thread-safety: one query() at a time per RowSource; the RowSource must
// outlive the connection it is registered on, or at least every statement
// that names it.
#pragma once

#include <duckdb.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "duck/connection.hpp"
#include "duck/result.hpp"
#include "duck/value.hpp"

namespace duckmesh::duck {

enum class SourceType {
  boolean,
  integer,      // INTEGER (32-bit)
  bigint,       // BIGINT
  ubigint,      // UBIGINT
  double_,      // DOUBLE
  decimal,      // DECIMAL(width, scale)
  varchar,      // VARCHAR
  date,         // DATE: days since 1970-01-01
  timestamp,    // TIMESTAMP: microseconds since 1970-01-01 (wall time)
  timestamptz,  // TIMESTAMP WITH TIME ZONE: microseconds since the epoch, UTC
  uuid,         // UUID
};

struct SourceColumn {
  std::string name;
  SourceType type = SourceType::varchar;
  std::uint8_t width = 0;  // decimal
  std::uint8_t scale = 0;  // decimal
};

// Writes one chunk's values. Rows are 0 .. capacity()-1; every row the
// producer reports must have a value or set_null for every column (a column
// left unset holds whatever the vector held before). Setters do not check
// that the column has the setter's type: the producer writes what it
// declared.
class ChunkWriter {
 public:
  idx_t capacity() const { return capacity_; }
  void set_null(idx_t column, idx_t row);
  void set_bool(idx_t column, idx_t row, bool value) {
    static_cast<bool*>(data_[column])[row] = value;
  }
  void set_int32(idx_t column, idx_t row, std::int32_t value) {
    static_cast<std::int32_t*>(data_[column])[row] = value;
  }
  void set_int64(idx_t column, idx_t row, std::int64_t value) {
    static_cast<std::int64_t*>(data_[column])[row] = value;
  }
  void set_uint64(idx_t column, idx_t row, std::uint64_t value) {
    static_cast<std::uint64_t*>(data_[column])[row] = value;
  }
  void set_double(idx_t column, idx_t row, double value) {
    static_cast<double*>(data_[column])[row] = value;
  }
  // DATE as days since 1970-01-01.
  void set_date(idx_t column, idx_t row, std::int32_t days) { set_int32(column, row, days); }
  // TIMESTAMP and TIMESTAMP WITH TIME ZONE as microseconds since the epoch.
  void set_timestamp(idx_t column, idx_t row, std::int64_t micros) {
    set_int64(column, row, micros);
  }
  // DECIMAL: the value times 10^scale, stored in the integer width DuckDB
  // uses for the column's precision. REQUIRES the value fits that precision.
  void set_decimal(idx_t column, idx_t row, Int128 scaled);
  // UUID from its 128 bits as written (first hex digit most significant).
  void set_uuid(idx_t column, idx_t row, std::uint64_t high, std::uint64_t low);
  // VARCHAR: copied into the vector. REQUIRES valid UTF-8 (DuckDB does not
  // check short strings, and leaves invalid text undefined).
  void set_string(idx_t column, idx_t row, std::string_view value);
  // VARCHAR without the copy: the vector refers to `value`'s bytes.
  // REQUIRES valid UTF-8, and the bytes unchanged and alive until the
  // statement that reads this source has finished (DuckDB copies what it
  // keeps: Parquet row groups, table storage).
  void set_string_ref(idx_t column, idx_t row, std::string_view value);

 private:
  friend class RowSource;
  idx_t capacity_ = 0;
  std::vector<duckdb_vector> vectors_;
  std::vector<void*> data_;
  std::vector<std::uint64_t*> validity_;
  const std::vector<SourceColumn>* columns_ = nullptr;
};

class RowSource {
 public:
  // Fills rows 0..n-1 of the writer and returns n; 0 ends the table (for
  // the calling thread: the others go on until they return 0 too). Calls
  // with the same `slot` never run at once.
  using Producer = std::function<idx_t(ChunkWriter&, std::size_t slot)>;

  // Registers the table function `name` on `connection`'s database. Throws
  // Error(internal) when DuckDB refuses it. REQUIRES: no other function of
  // that name in the database.
  RowSource(Connection& connection, std::string name);
  ~RowSource();
  RowSource(const RowSource&) = delete;
  RowSource& operator=(const RowSource&) = delete;

  const std::string& name() const { return name_; }

  // Runs `sql` on the connection, with `name()` yielding rows of `columns`
  // from `producer` on up to `threads` threads. Returns the statement's
  // result; rethrows what the producer threw, or DuckDB's error as
  // Connection::query does.
  Result query(std::string_view sql, const std::vector<SourceColumn>& columns,
               const Producer& producer, std::size_t threads = 1);

 private:
  struct Callbacks;

  Connection& connection_;
  std::string name_;
  void* handle_ = nullptr;  // Callbacks::Handle, owned by DuckDB
  // Set for the duration of query(): what the function's callbacks read.
  const std::vector<SourceColumn>* columns_ = nullptr;
  const Producer* producer_ = nullptr;
  std::size_t threads_ = 1;
  std::atomic<std::size_t> next_slot_{0};
  std::mutex failure_mutex_;
  std::exception_ptr failure_;
};

}  // namespace duckmesh::duck
