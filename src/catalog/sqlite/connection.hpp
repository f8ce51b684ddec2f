// Minimal RAII wrapper over the SQLite C API for the embedded catalog.
//
// Connection owns one sqlite3 handle, Statement one prepared statement,
// Transaction one BEGIN ... COMMIT that rolls back unless committed. A
// statement from Connection::prepare goes back to its connection when
// destroyed (reset, bindings cleared) and serves the next prepare of the
// same SQL text: the catalog runs a few dozen distinct statements, and
// compiling them again for every request cost more than running them. Every
// sqlite3 return code is checked; a failure throws duckmesh::Error:
//   SQLITE_BUSY / SQLITE_LOCKED (another connection held the lock longer than
//   the busy timeout)                          -> unavailable
//   SQLITE_CONSTRAINT (a uniqueness race lost) -> conflict
//   anything else                              -> internal
// Values are always bound to parameters, never spliced into SQL text.
//
// Thread safety: none. A Connection and its Statements must be used by one
// thread at a time; SqliteCatalog serialises access with a mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace duckmesh::catalog::sqlite {

// Throws the duckmesh::Error for return code `rc` of a call on `db` (may be
// null when the handle could not be created); `context` says what was tried.
[[noreturn]] void throw_sqlite_error(sqlite3* db, int rc, std::string_view context);

class Connection;

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1, as in SQLite.
  Statement& bind_int64(int index, std::int64_t value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_null(int index);
  Statement& bind_optional_int64(int index, std::optional<std::int64_t> value);

  // Advances: true when a row is available, false when the statement is done.
  bool step();
  // Steps to completion; for statements whose rows, if any, are not wanted.
  void run();
  // Rewinds for another execution with new bindings.
  void reset();

  // Columns are numbered from 0. A NULL reads as 0 / "" unless optional.
  std::int64_t column_int64(int column) const;
  std::optional<std::int64_t> column_optional_int64(int column) const;
  std::string column_text(int column) const;
  bool column_is_null(int column) const;

 private:
  friend class Connection;
  // A statement `home` prepared before (or just now), returned to it when
  // this one is destroyed.
  Statement(sqlite3* db, sqlite3_stmt* prepared, std::string sql, Connection* home) noexcept;

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;            // for error messages, and the cache's key
  Connection* home_ = nullptr;  // where it goes back to; null: finalized
};

class Connection {
 public:
  // Opens (creating if absent) the database file at `path` in read-write mode
  // and sets the busy timeout: a lock wait longer than `busy_timeout_ms`
  // fails with SQLITE_BUSY.
  Connection(const std::string& path, int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A prepared statement: one this connection prepared before and that is
  // not in use, or a new one.
  Statement prepare(std::string_view sql);
  // Runs one or more parameterless statements (schema scripts, pragmas),
  // discarding any rows they return.
  void execute_script(std::string_view sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t changes() const;
  // False while a transaction is open.
  bool autocommit() const;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  friend class Statement;
  // Takes back a statement of this connection: reset and kept for reuse,
  // or finalized when kMaxIdle are kept already.
  void recycle(std::string sql, sqlite3_stmt* stmt) noexcept;

  static constexpr std::size_t kMaxIdle = 256;
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_multimap<std::string, sqlite3_stmt*> idle_;  // prepared, not in use
};

class Transaction {
 public:
  enum class Mode {
    // BEGIN: snapshot isolation for reads; takes no write lock.
    read,
    // BEGIN IMMEDIATE: takes the write lock at once (waiting up to the busy
    // timeout), so a transaction never fails half-way for lack of it.
    write,
  };

  Transaction(Connection& connection, Mode mode);
  // Rolls back unless commit() succeeded.
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Connection& connection_;
  bool open_ = false;
};

}  // namespace duckmesh::catalog::sqlite
