// The CatalogRepo backends the conformance tests run against, behind one
// seam: a CatalogStore is one empty catalog (an SQLite file in a temporary
// directory, or a fresh database on the test process's PostgreSQL server)
// that a test may open several CatalogRepo instances on, as several
// coordinators sharing a catalog would.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "catalog/catalog_repo.hpp"
#include "catalog/postgres/postgres_catalog.hpp"
#include "catalog/sqlite/connection.hpp"
#include "catalog/sqlite/sqlite_catalog.hpp"
#include "catalog_test_support.hpp"
#include "support/postgres_server.hpp"

namespace duckmesh::catalog::testing {

enum class Backend { sqlite, postgres };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "sqlite" : "postgres";
}

// How a test opens a catalog; unset fields keep the backend's defaults.
struct OpenSettings {
  std::function<std::int64_t()> clock;
  std::int64_t idempotency_window_us = std::int64_t{7} * 24 * 3600 * 1'000'000;
};

class CatalogStore {
 public:
  explicit CatalogStore(Backend backend) : backend_(backend) {
    if (backend_ == Backend::postgres) {
      url_ = duckmesh::testing::shared_postgres().create_database("catalog");
    }
  }

  Backend backend() const { return backend_; }

  std::unique_ptr<CatalogRepo> open(const OpenSettings& settings = {}) const {
    if (backend_ == Backend::sqlite) {
      SqliteCatalogOptions options;
      options.path = path_;
      options.busy_timeout_ms = 30'000;  // contention, not a deadline, is under test
      options.clock = settings.clock;
      options.idempotency_window_us = settings.idempotency_window_us;
      return std::make_unique<SqliteCatalog>(options);
    }
    return std::make_unique<PostgresCatalog>(postgres_options(settings));
  }

  PostgresCatalogOptions postgres_options(const OpenSettings& settings = {}) const {
    PostgresCatalogOptions options;
    options.url = url_;
    options.clock = settings.clock;
    options.idempotency_window_us = settings.idempotency_window_us;
    return options;
  }

  // Rows of a catalog table, read behind the catalog's back.
  std::int64_t count_rows(const std::string& table) const {
    if (backend_ == Backend::sqlite) {
      sqlite::Connection raw(path_, 1000);
      auto query = raw.prepare("SELECT COUNT(*) FROM " + table);
      EXPECT_TRUE(query.step());
      return query.column_int64(0);
    }
    return std::stoll(
        duckmesh::testing::PostgresServer::query(url_, "SELECT COUNT(*) FROM " + table));
  }

  const std::string& url() const { return url_; }

 private:
  Backend backend_;
  TempDir dir_;
  std::string path_ = dir_.file("catalog.db");
  std::string url_;
};

}  // namespace duckmesh::catalog::testing
