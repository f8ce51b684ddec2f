// SQLite-only concurrency: SQLite's write lock and its busy timeout.
#include <gtest/gtest.h>

#include "catalog/sqlite/connection.hpp"
#include "catalog/sqlite/sqlite_catalog.hpp"
#include "catalog_test_support.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog {
namespace {

using testing::TempDir;

TEST(SqliteCatalogConcurrency, ALockHeldBeyondTheBusyTimeoutIsUnavailable) {
  TempDir dir;
  const std::string path = dir.file("c.db");
  SqliteCatalogOptions options;
  options.path = path;
  options.busy_timeout_ms = 50;
  SqliteCatalog catalog(options);
  catalog.create_product({"sales", "", ""});

  sqlite::Connection other(path, 0);
  {
    sqlite::Transaction holding(other, sqlite::Transaction::Mode::write);
    Publication publication;
    publication.product = "sales";
    try {
      catalog.publish({publication}, {{1, 1}});
      FAIL() << "published while another connection held the write lock";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
    }
    try {
      catalog.create_product({"ads", "", ""});
      FAIL() << "created a product while another connection held the write lock";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
    }
    // Readers are not blocked by a writer.
    EXPECT_EQ(catalog.watermark(), 0u);
    EXPECT_TRUE(catalog.find_product("sales").has_value());
  }
  Publication publication;
  publication.product = "sales";
  EXPECT_EQ(catalog.publish({publication}, {{1, 1}})[0].id, 1);
  EXPECT_EQ(catalog.watermark(), 1u);
}

}  // namespace
}  // namespace duckmesh::catalog
