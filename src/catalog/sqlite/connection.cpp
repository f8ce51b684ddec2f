#include "catalog/sqlite/connection.hpp"

#include <sqlite3.h>

#include <climits>
#include <utility>

#include "common/error.hpp"

namespace duckmesh::catalog::sqlite {

void throw_sqlite_error(sqlite3* db, int rc, std::string_view context) {
  const int primary = rc & 0xff;
  std::string message = "catalog database: " + std::string(context) + ": ";
  // sqlite3_errmsg describes the last failed call on `db`, which is the one
  // that returned `rc` as long as the caller holds the connection exclusively.
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  ErrorCode code = ErrorCode::internal;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    code = ErrorCode::unavailable;
    message += " (another connection held the catalog lock longer than the busy timeout)";
  } else if (primary == SQLITE_CONSTRAINT) {
    code = ErrorCode::conflict;
  }
  boost::json::object details;
  details["sqlite_code"] = rc;
  throw Error(code, std::move(message), std::move(details));
}

// --- Statement -------------------------------------------------------------

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
    throw Error(ErrorCode::internal, "catalog database: SQL text too long");
  }
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, "prepare '" + sql_ + "'");
  if (stmt_ == nullptr) throw Error(ErrorCode::internal, "catalog database: empty SQL statement");
}

Statement::Statement(sqlite3* db, sqlite3_stmt* prepared, std::string sql,
                     Connection* home) noexcept
    : db_(db), stmt_(prepared), sql_(std::move(sql)), home_(home) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (home_ != nullptr) {
    home_->recycle(std::move(sql_), stmt_);
    return;
  }
  // sqlite3_finalize only repeats the error of the last step, which step()
  // already reported; finalizing itself cannot fail.
  sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)),
      home_(other.home_) {}

Statement& Statement::bind_int64(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, "bind parameter of '" + sql_ + "'");
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  if (value.size() > static_cast<std::size_t>(INT_MAX)) {
    throw Error(ErrorCode::invalid_input, "catalog value longer than 2 GiB");
  }
  // A null pointer would bind SQL NULL; an empty view must bind ''.
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc =
      sqlite3_bind_text(stmt_, index, data, static_cast<int>(value.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, "bind parameter of '" + sql_ + "'");
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, "bind parameter of '" + sql_ + "'");
  return *this;
}

Statement& Statement::bind_optional_int64(int index, std::optional<std::int64_t> value) {
  return value ? bind_int64(index, *value) : bind_null(index);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_sqlite_error(db_, rc, "execute '" + sql_ + "'");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  // sqlite3_reset repeats the last step's error, already reported by step().
  sqlite3_reset(stmt_);
  const int rc = sqlite3_clear_bindings(stmt_);
  if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, "reset '" + sql_ + "'");
}

std::int64_t Statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const {
  if (column_is_null(column)) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) {
    // NULL, or out of memory while converting the value to text.
    if (sqlite3_errcode(db_) == SQLITE_NOMEM) {
      throw_sqlite_error(db_, SQLITE_NOMEM, "read column of '" + sql_ + "'");
    }
    return {};
  }
  const int size = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

bool Statement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// --- Connection ------------------------------------------------------------

Connection::Connection(const std::string& path, int busy_timeout_ms) : path_(path) {
  // NOMUTEX: SQLite's own per-connection mutex is redundant, the owner
  // serialises every use of the connection.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // On most failures SQLite still allocates a handle that carries the
    // message and must be closed.
    std::string context = "open '" + path + "'";
    if (db_ == nullptr) throw_sqlite_error(nullptr, rc, context);
    try {
      throw_sqlite_error(db_, rc, context);
    } catch (...) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw;
    }
  }
  const int timeout_rc = sqlite3_busy_timeout(db_, busy_timeout_ms);
  if (timeout_rc != SQLITE_OK) {
    try {
      throw_sqlite_error(db_, timeout_rc, "set busy timeout");
    } catch (...) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw;
    }
  }
}

Connection::~Connection() {
  for (auto& [sql, stmt] : idle_) sqlite3_finalize(stmt);
  // sqlite3_close_v2 always returns SQLITE_OK: with statements still alive it
  // defers the close until they are finalized instead of failing.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Statement Connection::prepare(std::string_view sql) {
  std::string text(sql);
  if (auto it = idle_.find(text); it != idle_.end()) {
    sqlite3_stmt* stmt = it->second;
    idle_.erase(it);
    return Statement(db_, stmt, std::move(text), this);
  }
  Statement fresh(db_, sql);
  fresh.home_ = this;
  return fresh;
}

void Connection::recycle(std::string sql, sqlite3_stmt* stmt) noexcept {
  // reset repeats the error of the last step, already reported by step().
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (idle_.size() < kMaxIdle) {
    try {
      idle_.emplace(std::move(sql), stmt);
      return;
    } catch (...) {
      // No memory to keep it: finalize instead.
    }
  }
  sqlite3_finalize(stmt);
}

void Connection::execute_script(std::string_view sql) {
  const char* cursor = sql.data();
  const char* const end = sql.data() + sql.size();
  while (cursor < end) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_, cursor, static_cast<int>(end - cursor), &raw, &tail);
    if (rc != SQLITE_OK) throw_sqlite_error(db_, rc, "prepare script statement");
    if (raw == nullptr) break;  // only whitespace and comments remained
    int step_rc = SQLITE_ROW;
    while (step_rc == SQLITE_ROW) step_rc = sqlite3_step(raw);
    // finalize repeats the step error, reported below with the statement text.
    const std::string text(cursor, static_cast<std::size_t>(tail - cursor));
    if (step_rc != SQLITE_DONE) {
      try {
        throw_sqlite_error(db_, step_rc, "execute '" + text + "'");
      } catch (...) {
        sqlite3_finalize(raw);
        throw;
      }
    }
    sqlite3_finalize(raw);
    cursor = tail;
  }
}

std::int64_t Connection::changes() const {
  return sqlite3_changes64(db_);
}

bool Connection::autocommit() const {
  return sqlite3_get_autocommit(db_) != 0;
}

// --- Transaction -----------------------------------------------------------

Transaction::Transaction(Connection& connection, Mode mode) : connection_(connection) {
  // A rollback that failed earlier (it cannot throw from a destructor) may
  // have left a transaction open; finish it before starting a new one.
  // Prepared (and so cached by the connection), not run as a script: every
  // catalog call opens one.
  if (!connection_.autocommit()) connection_.prepare("ROLLBACK").run();
  connection_.prepare(mode == Mode::write ? "BEGIN IMMEDIATE" : "BEGIN").run();
  open_ = true;
}

Transaction::~Transaction() {
  // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR,
  // SQLITE_NOMEM...); an explicit ROLLBACK would then fail, so check first.
  if (!open_ || connection_.autocommit()) return;
  try {
    connection_.prepare("ROLLBACK").run();
  } catch (const Error&) {
    // The next Transaction on this connection rolls back before it begins.
  }
}

void Transaction::commit() {
  connection_.prepare("COMMIT").run();
  open_ = false;
}

}  // namespace duckmesh::catalog::sqlite
