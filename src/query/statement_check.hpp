// The read-only gate of the query plane: which SQL a product's consumers
// may run.
//
// A query is exactly one statement that only reads: DuckDB classifies it
// as SELECT (which covers WITH, FROM-first, VALUES, DESCRIBE, SUMMARIZE,
// SHOW, PIVOT and query-style pragmas such as `PRAGMA version`), or it is
// an EXPLAIN of such a statement. Everything else is refused with
// Error(forbidden) naming what was refused and what is allowed.
//
// The sandbox (query/sandbox.hpp) confines file access to a directory
// allow-list, but that list also admits writes (COPY ... TO, EXPORT,
// ATTACH of a new file), and a few SELECT-shaped calls change state or
// write (enable_logging(...) writes log files, query('...') runs SQL out
// of a string). So the gate checks, in this order, each before DuckDB sees
// the statement:
//   1. the text holds one statement (none: invalid_input; several:
//      forbidden), found by a scanner that follows DuckDB's lexical rules
//      for strings, quoted identifiers, dollar quotes and nested comments;
//   2. no call of a function that changes state, writes, or runs SQL text
//      (see kRefusedFunctions in the .cpp) appears anywhere in it;
//   3. the statement starts with a keyword of a reading statement, so that
//      statements with effects while being prepared (EXPORT DATABASE creates
//      its directory then) are refused without preparing them;
//   4. DuckDB prepares it and says SELECT; for EXPLAIN, the explained
//      statement passes 3 and 4 on its own first (EXPLAIN ANALYZE runs it).
// A statement DuckDB cannot prepare fails with the wrapper's Error
// (invalid_input for syntax, binder and catalog errors, forbidden when the
// sandbox refuses a file).
//
// Thread-safety: the functions use the given Connection, so one thread at
// a time per Connection.
#pragma once

#include <duckdb.h>

#include <string>
#include <string_view>

#include "duck/connection.hpp"
#include "duck/prepared_statement.hpp"

namespace duckmesh::query {

// Throws Error unless `sql` is one read-only statement (see above).
void check_read_only(duck::Connection& conn, std::string_view sql);

// A statement that passed the gate, prepared on the Connection it was
// checked with (it must not outlive that Connection).
struct CheckedStatement {
  duck::PreparedStatement prepared;
  // DUCKDB_STATEMENT_TYPE_SELECT or DUCKDB_STATEMENT_TYPE_EXPLAIN.
  duckdb_statement_type type = DUCKDB_STATEMENT_TYPE_INVALID;
  // The statement's text up to its last token: no trailing semicolon or
  // comment, so that it can be embedded in a larger statement as
  // "(\n" + body + "\n)".
  std::string body;
};

// The checks of check_read_only, keeping the prepared statement so that
// the caller does not prepare it a second time.
CheckedStatement prepare_read_only(duck::Connection& conn, std::string_view sql);

}  // namespace duckmesh::query
