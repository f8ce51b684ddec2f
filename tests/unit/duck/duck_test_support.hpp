// Shared helpers for the src/duck tests: a fresh in-memory database per
// test, single-value queries, and a scratch directory.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"

namespace duckmesh::duck::testing {

class DuckTest : public ::testing::Test {
 protected:
  // The single value of a one-row, one-column query.
  Value one(const std::string& sql) {
    auto value = conn.query(sql).scalar();
    if (!value) ADD_FAILURE() << "no row from: " << sql;
    return value ? *value : Value{};
  }

  Database db{""};
  Connection conn{db};
};

// A directory under the system temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "duckmesh-duck-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
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

}  // namespace duckmesh::duck::testing
