// Fuzzes the read-only gate of the query plane (query/statement_check.hpp)
// inside a real sandbox, the way the query service uses it: the statement
// scanner, the refused-function search, the first-keyword check and
// DuckDB's own preparation.
//
// Properties checked beyond "no crash": the gate only ever answers with a
// duckmesh::Error, and a statement it lets through is one DuckDB classifies
// as SELECT or EXPLAIN with a non-empty body.
#include <duckdb.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "query/sandbox.hpp"
#include "query/statement_check.hpp"

namespace {

using duckmesh::Error;
namespace fs = std::filesystem;
namespace query = duckmesh::query;

[[noreturn]] void finding(const char* what, std::string_view sql) {
  std::fprintf(stderr, "property violated: %s\nstatement: %.*s\n", what,
               static_cast<int>(sql.size()), sql.data());
  std::abort();
}

fs::path make_dir(const char* name) {
  std::string pattern = (fs::temp_directory_path() / name).string() + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

query::Sandbox& sandbox() {
  static const fs::path readable = make_dir("duckmesh-fuzz-data");
  static const fs::path scratch = make_dir("duckmesh-fuzz-scratch");
  static const std::unique_ptr<query::Sandbox> instance = [] {
    query::SandboxLimits limits;
    limits.memory_limit = "256MB";
    limits.threads = 1;
    limits.max_temp_directory_size = "64MB";
    auto s = std::make_unique<query::Sandbox>(std::vector<fs::path>{readable}, scratch, limits);
    // Something for statements to name: a temporary view, as the query
    // service binds a product's tables.
    try {
      s->connection().execute(
          "CREATE OR REPLACE TEMP VIEW orders AS SELECT * FROM (VALUES (1::BIGINT, 2.5::DOUBLE, "
          "TIMESTAMP '2026-01-01 00:00:00')) AS v(id, amount, ts)");
    } catch (const Error& e) {
      std::fprintf(stderr, "cannot prepare the sandbox: %s\n", e.what());
      std::abort();
    }
    return s;
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto& conn = sandbox().connection();
  try {
    auto checked = query::prepare_read_only(conn, sql);
    if (checked.type != DUCKDB_STATEMENT_TYPE_SELECT &&
        checked.type != DUCKDB_STATEMENT_TYPE_EXPLAIN) {
      finding("gate let through a statement that is neither SELECT nor EXPLAIN", sql);
    }
    if (checked.body.empty()) finding("gate let through a statement with an empty body", sql);
  } catch (const Error&) {
    // A clear refusal.
  }
  return 0;
}
