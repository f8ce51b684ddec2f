// Shared helpers for the query-plane tests: scratch directories, a product
// directory with Parquet files, a sandbox over it, and error capture.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "query/sandbox.hpp"

namespace duckmesh::query::testing {

namespace fs = std::filesystem;

// A directory under the system temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "duckmesh-query-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs `f`, which must throw duckmesh::Error, and returns the error.
template <class F>
Error expect_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a duckmesh::Error";
  return Error(ErrorCode::internal, "no error was thrown");
}

// Runs SQL in a private, unrestricted DuckDB (to write fixtures and to
// read results back independently of the code under test).
inline void run_plain(const std::string& sql) {
  duck::Database db("");
  duck::Connection conn(db);
  conn.execute(sql);
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Two products side by side (root/products/p1 and p2, one Parquet file
// each) and a scratch directory, as the service lays them out.
class ProductDirs {
 public:
  ProductDirs() {
    fs::create_directories(p1());
    fs::create_directories(p2());
    run_plain("COPY (SELECT range AS id, range % 10 AS k, 'v' || range AS s FROM range(100)) TO '" +
              (p1() / "a.parquet").string() + "' (FORMAT parquet)");
    run_plain("COPY (SELECT range AS secret FROM range(5)) TO '" + (p2() / "b.parquet").string() +
              "' (FORMAT parquet)");
  }

  const fs::path& root() const { return dir_.path(); }
  fs::path p1() const { return root() / "products" / "p1"; }
  fs::path p2() const { return root() / "products" / "p2"; }
  fs::path scratch() const { return root() / "scratch"; }

 private:
  ScratchDir dir_;
};

// Replaces each {name} in `text` by its value.
inline std::string substitute(std::string text,
                              const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [name, value] : values) {
    const std::string key = "{" + name + "}";
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
      text.replace(at, key.size(), value);
      at += value.size();
    }
  }
  return text;
}

}  // namespace duckmesh::query::testing
