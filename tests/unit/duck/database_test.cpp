#include "duck/database.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "duck/connection.hpp"
#include "unit/duck/duck_test_support.hpp"

namespace duckmesh::duck {
namespace {

using testing::expect_error;
using ::testing::HasSubstr;
using testing::ScratchDir;

Value setting(Connection& conn, const std::string& name) {
  return *conn.query("SELECT current_setting('" + name + "')").scalar();
}

TEST(Database, ReportsTheLinkedLibraryVersion) {
  EXPECT_THAT(library_version(), ::testing::StartsWith("v1."));
}

TEST(Database, AppliesOptionsAtOpen) {
  ScratchDir scratch;
  DatabaseOptions options;
  options.threads = 1;
  options.memory_limit = "512MiB";
  options.temp_directory = (scratch.path() / "spill").string();
  options.extra = {{"default_null_order", "nulls_first"}};
  Database db(":memory:", options);
  Connection conn(db);
  EXPECT_EQ(setting(conn, "threads"), Value{std::int64_t{1}});
  EXPECT_EQ(setting(conn, "memory_limit"), Value{std::string("512.0 MiB")});
  EXPECT_EQ(setting(conn, "temp_directory"), Value{options.temp_directory});
  EXPECT_EQ(setting(conn, "default_null_order"), Value{std::string("NULLS_FIRST")});
}

TEST(Database, KeepsExtensionAutoloadingOffByDefault) {
  Database db("");
  Connection conn(db);
  EXPECT_EQ(setting(conn, "autoload_known_extensions"), Value{false});
  EXPECT_EQ(setting(conn, "autoinstall_known_extensions"), Value{false});

  DatabaseOptions allowed;
  allowed.allow_extensions_autoload = true;
  Database open_db("", allowed);
  Connection open_conn(open_db);
  EXPECT_EQ(setting(open_conn, "autoload_known_extensions"), Value{true});
}

TEST(Database, RejectsUnknownOptionsAndBadValues) {
  DatabaseOptions unknown;
  unknown.extra = {{"no_such_option", "1"}};
  Error e = expect_error([&] { Database db("", unknown); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("no_such_option"));

  DatabaseOptions bad_value;
  bad_value.memory_limit = "lots";
  e = expect_error([&] { Database db("", bad_value); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("memory_limit"));
}

TEST(Database, ReportsOpenFailuresWithDuckDBText) {
  Error e = expect_error([] { Database db("/nonexistent-dir/for/sure/x.duckdb"); });
  EXPECT_EQ(e.code(), ErrorCode::internal);
  EXPECT_THAT(std::string(e.message()), HasSubstr("IO Error"));
  EXPECT_THAT(std::string(e.message()), HasSubstr("/nonexistent-dir/for/sure/x.duckdb"));
}

TEST(Database, FileDatabasesPersistAcrossOpens) {
  ScratchDir scratch;
  const std::string path = (scratch.path() / "persist.duckdb").string();
  {
    Database db(path);
    Connection conn(db);
    conn.execute("CREATE TABLE t(i INTEGER); INSERT INTO t VALUES (1), (2), (3)");
  }
  Database db(path);
  Connection conn(db);
  EXPECT_EQ(*conn.query("SELECT sum(i) FROM t").scalar(), Value{HugeInt{6}});
}

TEST(Database, MovesOwnership) {
  Database a("");
  Database b(std::move(a));
  // Reading the moved-from object is what this test checks.
  EXPECT_EQ(a.handle(), nullptr);  // NOLINT(clang-analyzer-cplusplus.Move)
  Connection conn(b);
  EXPECT_EQ(*conn.query("SELECT 42").scalar(), Value{std::int64_t{42}});
  EXPECT_EQ(expect_error([&] { Connection c(a); }).code(), ErrorCode::internal);
}

}  // namespace
}  // namespace duckmesh::duck
