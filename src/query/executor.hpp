// Running one consumer query in a Sandbox and streaming its result.
//
// run_query() is the whole path of a query: the read-only gate
// (query/statement_check.hpp), parameter binding, streaming execution,
// encoding (query/encoders.hpp) into a ResultSink, the row limit and the
// time limit. Values from the caller never become SQL text: parameters are
// bound to DuckDB's prepared statement.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "query/encoders.hpp"
#include "query/sandbox.hpp"

namespace duckmesh::query {

struct QueryOptions {
  // null (no parameters), an array for positional parameters ($1, $2, ?:
  // element i binds $(i+1)), or an object for named ones ($name). Values
  // may be strings, integers, numbers, booleans or null; DuckDB casts them
  // to the type the statement expects.
  boost::json::value params;
  // Rows returned at most. More rows make the result `truncated`, or fail
  // with Error(invalid_input) when error_on_truncate is set.
  std::size_t max_rows = 10000;
  bool error_on_truncate = false;
  // Wall-clock limit of the whole query, preparing included; must be > 0.
  std::chrono::milliseconds timeout{30000};
  Format format = Format::json;
  // JSON only: called once, before any byte is written, to add members to
  // the envelope (snapshot_id, ...); they follow elapsed_ms. A member named
  // like an envelope field (columns, rows, row_count, truncated,
  // elapsed_ms) is refused with Error(internal).
  std::function<void(boost::json::object&)> add_fields;
};

struct QueryOutcome {
  std::vector<ColumnInfo> columns;
  std::size_t row_count = 0;
  bool truncated = false;
  double elapsed_ms = 0;
};

// Runs `sql` in `sandbox` and writes the encoded result to `sink`.
//
// Formats: json, ndjson, csv and arrow (IPC stream) encode rows chunk by chunk as DuckDB
// produces them; parquet has DuckDB write the (row-limited) result to a
// file in the sandbox's private directory, streams that file and deletes
// it. Parquet needs a statement that can sit in a subquery: EXPLAIN and
// query pragmas are refused with Error(invalid_input). Parquet has no
// 128-bit integer, so DuckDB writes HUGEINT and UHUGEINT columns (what
// sum() of BIGINT returns) as DOUBLE, exact up to 2^53 (cast to
// DECIMAL(38,0) or VARCHAR in the query to keep them exact), and it
// refuses negative INTERVALs with an IO error.
//
// Errors (duckmesh::Error): what check_read_only throws; invalid_input for
// parameters that do not match the statement (naming the parameter) and
// for SQL errors; timeout when the query ran past options.timeout (the
// sandbox stays usable); invalid_input when error_on_truncate is set and
// the result has more than max_rows rows; whatever sink.write() throws.
//
// Output on failure: errors found before execution starts (the gate,
// parameters, planning) and errors of the first chunk reach the caller
// before any byte is written. Output is buffered in blocks of 64 KiB, so a
// result smaller than that is written whole or not at all; with
// error_on_truncate nothing is written until the row limit is known to
// hold (memory is then bounded by max_rows rows). Otherwise a failure
// after the first block leaves the sink with a partial body: the HTTP
// layer must then abort the response instead of completing it.
//
// Thread-safety: one query at a time per Sandbox; run_query calls
// sandbox.interrupt() from a watchdog thread of its own.
QueryOutcome run_query(Sandbox& sandbox, std::string_view sql, const QueryOptions& options,
                       ResultSink& sink);

}  // namespace duckmesh::query
