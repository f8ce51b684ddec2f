// One DuckDB database instance (in memory or a file).
//
// Thread-safety: a Database may be shared by any number of threads; each
// thread works through its own Connection. A Database must outlive every
// Connection made from it.
#pragma once

#include <duckdb.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace duckmesh::duck {

// DuckDB's version string, e.g. "v1.5.6".
std::string library_version();

// Start-up settings applied with duckdb_set_config before the database opens.
struct DatabaseOptions {
  // Worker threads; DuckDB's default (one per core) when unset.
  std::optional<int> threads;
  // e.g. "2GB"; DuckDB's default (80% of RAM) when empty.
  std::string memory_limit;
  // Where operators spill; DuckDB's default when empty.
  std::string temp_directory;
  // Extensions may never be downloaded here, and loading one implicitly
  // would widen what a query can reach; both stay off unless set.
  bool allow_extensions_autoload = false;
  // Any other DuckDB option by name, applied last (so it can override the
  // fields above), e.g. {"default_order", "desc"}.
  std::vector<std::pair<std::string, std::string>> extra;
};

class Database {
 public:
  // Opens the database at `path`; "" or ":memory:" opens a private in-memory
  // database. Throws Error(invalid_input) when DuckDB rejects an option
  // (unknown name or bad value) and an Error carrying DuckDB's text when the
  // open fails (internal for I/O problems such as a missing directory).
  explicit Database(const std::string& path, const DatabaseOptions& options = {});
  ~Database();

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The C handle, for the classes of this module.
  duckdb_database handle() const noexcept { return db_; }

 private:
  duckdb_database db_ = nullptr;
};

}  // namespace duckmesh::duck
