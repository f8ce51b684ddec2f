#include "duck/connection.hpp"

#include <memory>
#include <optional>
#include <utility>

#include "common/error.hpp"
#include "duck/duckdb_error.hpp"

namespace duckmesh::duck {
namespace {

// Owns a duckdb_extracted_statements.
class Extracted {
 public:
  Extracted() = default;
  ~Extracted() { duckdb_destroy_extracted(&extracted_); }
  Extracted(const Extracted&) = delete;
  Extracted& operator=(const Extracted&) = delete;

  duckdb_extracted_statements* out() { return &extracted_; }
  duckdb_extracted_statements get() const { return extracted_; }

 private:
  duckdb_extracted_statements extracted_ = nullptr;
};

// Runs duckdb_prepare-like calls that always hand back a statement which
// must be destroyed, and throws with the prepare error on failure.
std::shared_ptr<detail::StatementHandle> adopt_prepared(duckdb_state state,
                                                        duckdb_prepared_statement statement,
                                                        std::string_view context) {
  auto handle = std::make_shared<detail::StatementHandle>(statement);
  if (state == DuckDBError) {
    // Never ask a failed statement for its type or parameters: DuckDB
    // aborts the process on that (see DUCKDB-NOTES.md).
    const char* error = statement != nullptr ? duckdb_prepare_error(statement) : nullptr;
    std::string text = error != nullptr ? error : "";
    handle.reset();
    detail::throw_duckdb_error(context, text.c_str(), DUCKDB_ERROR_INVALID,
                               ErrorCode::invalid_input);
  }
  return handle;
}

}  // namespace

Connection::Connection(Database& database) {
  if (database.handle() == nullptr) {
    throw Error(ErrorCode::internal, "cannot connect to a closed or moved-from Database");
  }
  if (duckdb_connect(database.handle(), &connection_) == DuckDBError) {
    connection_ = nullptr;
    throw Error(ErrorCode::internal, "DuckDB refused to open a connection");
  }
}

Connection::~Connection() {
  if (connection_ != nullptr) duckdb_disconnect(&connection_);
}

Connection::Connection(Connection&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (connection_ != nullptr) duckdb_disconnect(&connection_);
    connection_ = std::exchange(other.connection_, nullptr);
  }
  return *this;
}

void Connection::execute(std::string_view sql) {
  query(sql);
}

Result Connection::query(std::string_view sql) {
  if (connection_ == nullptr) throw Error(ErrorCode::internal, "use of a moved-from Connection");
  std::string c_sql = detail::c_string(sql, "SQL");
  // Statement by statement through prepared statements, so the calling
  // thread sleeps instead of spinning while DuckDB's threads work (see
  // PreparedStatement::execute); each is prepared only once the ones before
  // it ran (it may name a table they create). The result is the last
  // statement's, as duckdb_query's.
  Extracted extracted;
  const idx_t count = duckdb_extract_statements(connection_, c_sql.c_str(), extracted.out());
  if (count > 0) {
    std::optional<Result> last;
    for (idx_t i = 0; i < count; ++i) {
      duckdb_prepared_statement statement = nullptr;
      duckdb_state state =
          duckdb_prepare_extracted_statement(connection_, extracted.get(), i, &statement);
      last.reset();
      last.emplace(PreparedStatement(adopt_prepared(state, statement, "query failed")).execute());
    }
    return std::move(*last);
  }
  // Nothing to run, or SQL that does not parse: duckdb_query says which.
  duckdb_result result;
  // duckdb_query fills `result` even on failure, and it must be destroyed.
  if (duckdb_query(connection_, c_sql.c_str(), &result) == DuckDBError) {
    std::string error = duckdb_result_error(&result) != nullptr ? duckdb_result_error(&result) : "";
    duckdb_error_type type = duckdb_result_error_type(&result);
    duckdb_destroy_result(&result);
    detail::throw_duckdb_error("query failed", error.c_str(), type, ErrorCode::invalid_input);
  }
  return Result(result, nullptr);
}

Result Connection::query_streaming(std::string_view sql) {
  return prepare(sql).execute_streaming();
}

PreparedStatement Connection::prepare(std::string_view sql) {
  if (connection_ == nullptr) throw Error(ErrorCode::internal, "use of a moved-from Connection");
  std::string c_sql = detail::c_string(sql, "SQL");
  duckdb_prepared_statement statement = nullptr;
  duckdb_state state = duckdb_prepare(connection_, c_sql.c_str(), &statement);
  return PreparedStatement(adopt_prepared(state, statement, "cannot prepare statement"));
}

std::vector<StatementInfo> Connection::extract_statements(std::string_view sql) {
  if (connection_ == nullptr) throw Error(ErrorCode::internal, "use of a moved-from Connection");
  std::string c_sql = detail::c_string(sql, "SQL");
  Extracted extracted;
  const idx_t count = duckdb_extract_statements(connection_, c_sql.c_str(), extracted.out());
  std::vector<StatementInfo> statements;
  if (count == 0) {
    // Zero statements is either a parse error or SQL with nothing in it.
    const char* error =
        extracted.get() != nullptr ? duckdb_extract_statements_error(extracted.get()) : nullptr;
    if (error != nullptr && error[0] != '\0') {
      detail::throw_duckdb_error("cannot parse SQL", error, DUCKDB_ERROR_INVALID,
                                 ErrorCode::invalid_input);
    }
    return statements;
  }
  statements.reserve(count);
  for (idx_t i = 0; i < count; ++i) {
    duckdb_prepared_statement statement = nullptr;
    duckdb_state state =
        duckdb_prepare_extracted_statement(connection_, extracted.get(), i, &statement);
    auto handle =
        adopt_prepared(state, statement, "cannot prepare statement " + std::to_string(i + 1));
    statements.push_back(StatementInfo{duckdb_prepared_statement_type(handle->get()),
                                       duckdb_nparams(handle->get())});
  }
  return statements;
}

void Connection::interrupt() noexcept {
  if (connection_ != nullptr) duckdb_interrupt(connection_);
}

double Connection::query_progress() const noexcept {
  if (connection_ == nullptr) return -1;
  return duckdb_query_progress(connection_).percentage;
}

}  // namespace duckmesh::duck
