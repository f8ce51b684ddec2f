// The result of one statement: column metadata and rows, chunk by chunk.
//
// Two kinds, same interface:
//  * materialized (Connection::query, PreparedStatement::execute): DuckDB
//    computed every row before returning; the Result owns them.
//  * streaming (Connection::query_streaming,
//    PreparedStatement::execute_streaming): DuckDB computes rows as
//    next_chunk() asks for them, so memory stays bounded for large results.
//    Execution errors (and interrupts) can then surface from next_chunk().
//    Running any other statement on the same Connection ends the stream:
//    the next next_chunk() throws.
//
// Lifetime and thread-safety: a Result is used by one thread at a time and
// must be destroyed before the Connection that produced it. Chunks must not
// outlive their Result.
#pragma once

#include <duckdb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duck/data_chunk.hpp"
#include "duck/logical_type.hpp"
#include "duck/value.hpp"

namespace duckmesh::duck {

class Result {
 public:
  ~Result();
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  idx_t column_count() const { return names_.size(); }
  const std::vector<std::string>& column_names() const { return names_; }
  // DuckDB's type names ("BIGINT", "DECIMAL(20,2)", "INTEGER[]").
  const std::vector<std::string>& column_type_names() const { return type_names_; }
  // Both throw Error(internal) when col >= column_count().
  const std::string& column_name(idx_t col) const;
  const std::string& column_type_name(idx_t col) const;
  duckdb_type column_type_id(idx_t col) const;

  duckdb_statement_type statement_type() const { return statement_type_; }
  bool is_streaming() const { return streaming_; }
  // Rows inserted, updated or deleted by a DML statement; 0 for others.
  std::uint64_t rows_changed() const { return rows_changed_; }

  // The next non-empty chunk, or nullopt once all rows were read. Throws an
  // Error with DuckDB's text when execution fails while streaming (timeout
  // when the statement was interrupted).
  std::optional<DataChunk> next_chunk();

  // Reads all remaining rows as values, row by row. For tests and results
  // known to be small; a large result belongs in next_chunk().
  std::vector<std::vector<Value>> fetch_all();

  // The first column of the first remaining row, for single-value queries
  // ("SELECT count(*) ..."); nullopt when there are no rows. A SQL NULL is
  // a Value holding std::monostate. Throws Error(internal) if the result has
  // no columns.
  std::optional<Value> scalar();

 private:
  friend class Connection;
  friend class PreparedStatement;

  // Takes ownership of a successful `result`. `keep_alive` is held for the
  // Result's lifetime (a streaming result keeps its prepared statement).
  Result(duckdb_result result, std::shared_ptr<void> keep_alive);
  void release() noexcept;

  duckdb_result result_{};
  bool owned_ = false;
  bool exhausted_ = false;
  bool streaming_ = false;
  duckdb_statement_type statement_type_ = DUCKDB_STATEMENT_TYPE_INVALID;
  std::uint64_t rows_changed_ = 0;
  std::vector<std::string> names_;
  std::vector<std::string> type_names_;
  std::shared_ptr<const std::vector<detail::TypeInfo>> types_;
  std::shared_ptr<void> keep_alive_;
};

}  // namespace duckmesh::duck
