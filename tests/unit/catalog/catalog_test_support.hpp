// Shared fixtures of the catalog tests: a temporary directory removed on
// destruction, a clock the test moves by hand, and small builders.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "catalog/catalog_repo.hpp"
#include "catalog/sqlite/sqlite_catalog.hpp"

namespace duckmesh::catalog::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dm-catalog-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A clock that only moves when the test says so.
class ManualClock {
 public:
  explicit ManualClock(std::int64_t start)
      : now_(std::make_shared<std::atomic<std::int64_t>>(start)) {}
  std::int64_t now() const { return now_->load(); }
  void set(std::int64_t unix_us) { now_->store(unix_us); }
  void advance(std::int64_t us) { now_->fetch_add(us); }
  std::function<std::int64_t()> function() const {
    return [now = now_] { return now->load(); };
  }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> now_;
};

inline TableDef append_table(const std::string& name,
                             const std::string& schema = R"({"columns":[]})") {
  TableDef def;
  def.name = name;
  def.kind = TableKind::append;
  def.schema_json = schema;
  return def;
}

inline NewFile new_file(const std::string& table, const std::string& path, std::int64_t rows = 10) {
  NewFile file;
  file.table = table;
  file.path = path;
  file.row_count = rows;
  file.bytes = rows * 100;
  return file;
}

inline Publication add_files(const std::string& product, std::vector<NewFile> files) {
  Publication publication;
  publication.product = product;
  publication.added = std::move(files);
  return publication;
}

inline Publication remove_files(const std::string& product, std::vector<std::int64_t> ids) {
  Publication publication;
  publication.product = product;
  publication.operation = Operation::compact;
  publication.removed_file_ids = std::move(ids);
  return publication;
}

}  // namespace duckmesh::catalog::testing
