// A connection to a Database: where statements run.
//
// Every failure throws a duckmesh::Error whose message carries DuckDB's own
// text (see duck/duckdb_error.hpp for how kinds map to codes; a statement
// stopped by interrupt() gives ErrorCode::timeout).
//
// Thread-safety: a Connection runs one statement at a time and is used by
// one thread at a time, except interrupt() and query_progress(), which any
// thread may call while a statement runs (that is what they are for). The
// Connection must outlive its PreparedStatements, Results and Appenders,
// must not be moved while another thread may call interrupt(), and its
// Database must outlive it.
#pragma once

#include <duckdb.h>

#include <string_view>
#include <vector>

#include "duck/database.hpp"
#include "duck/logical_type.hpp"
#include "duck/prepared_statement.hpp"
#include "duck/result.hpp"

namespace duckmesh::duck {

// One statement of a SQL text, as DuckDB classifies it once prepared.
struct StatementInfo {
  duckdb_statement_type type = DUCKDB_STATEMENT_TYPE_INVALID;
  // Parameters ($1, ?, $name) the statement takes.
  idx_t parameter_count = 0;

  std::string_view type_name() const { return statement_type_name(type); }
};

class Connection {
 public:
  // Throws Error(internal) when DuckDB refuses the connection.
  explicit Connection(Database& database);
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more ';'-separated statements and discards their results.
  void execute(std::string_view sql);

  // Runs one or more statements; returns the materialized result of the
  // last one. Each runs as a prepared statement (the calling thread sleeps
  // while DuckDB's threads work, see PreparedStatement::execute).
  Result query(std::string_view sql);

  // Runs exactly one statement and streams its result (see Result). Use for
  // results too large to hold in memory.
  Result query_streaming(std::string_view sql);

  // Prepares exactly one statement. Throws Error (invalid_input for SQL a
  // user can fix: syntax, unknown table, several statements...) with
  // DuckDB's text.
  PreparedStatement prepare(std::string_view sql);

  // Splits `sql` into statements and prepares each one to learn its type,
  // without running anything. Preparing binds names, so a statement that
  // refers to a missing table, or that a sandbox forbids (e.g. reading a
  // file outside allowed_directories), fails here: the first such failure
  // throws an Error with DuckDB's text (invalid_input for syntax, binder
  // and catalog errors; forbidden for permission errors). Empty or
  // comment-only SQL gives an empty vector.
  std::vector<StatementInfo> extract_statements(std::string_view sql);

  // Asks the statement running on this connection to stop; it then fails
  // with ErrorCode::timeout. Callable from any thread. Has no effect when
  // nothing runs: DuckDB clears the request when the next statement starts,
  // so a caller enforcing a deadline repeats the call until the statement
  // has returned.
  void interrupt() noexcept;

  // Progress of the running statement in percent (0..100), or -1 when DuckDB
  // has no estimate. Callable from any thread. DuckDB only tracks progress
  // with `SET enable_progress_bar = true` (add `enable_progress_bar_print =
  // false` in a service, and `progress_bar_time = 0` to start at once), and
  // only scans of tables and files report it; table functions such as
  // range() leave it at 0.
  double query_progress() const noexcept;

  // The C handle, for the classes of this module.
  duckdb_connection handle() const noexcept { return connection_; }

 private:
  duckdb_connection connection_ = nullptr;
};

}  // namespace duckmesh::duck
