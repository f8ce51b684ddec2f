#include "duck/connection.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "unit/duck/duck_test_support.hpp"

namespace duckmesh::duck {
namespace {

using testing::DuckTest;
using ::testing::ElementsAre;
using testing::expect_error;
using ::testing::HasSubstr;

using ConnectionTest = DuckTest;

std::vector<duckdb_statement_type> types_of(const std::vector<StatementInfo>& infos) {
  std::vector<duckdb_statement_type> out;
  for (const auto& info : infos) out.push_back(info.type);
  return out;
}

TEST_F(ConnectionTest, ExecuteRunsEveryStatement) {
  conn.execute(
      "CREATE TABLE t(i INTEGER); INSERT INTO t VALUES (1), (2); INSERT INTO t VALUES (3)");
  EXPECT_EQ(one("SELECT count(*) FROM t"), Value{std::int64_t{3}});
}

TEST_F(ConnectionTest, QueryReturnsTheLastStatementsResult) {
  Result r = conn.query("CREATE TABLE t(i INTEGER); SELECT 7 AS seven, 'x' AS letter");
  EXPECT_EQ(r.column_names(), (std::vector<std::string>{"seven", "letter"}));
  EXPECT_EQ(r.column_type_names(), (std::vector<std::string>{"INTEGER", "VARCHAR"}));
  EXPECT_EQ(r.statement_type(), DUCKDB_STATEMENT_TYPE_SELECT);
  EXPECT_FALSE(r.is_streaming());
  auto rows = r.fetch_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0], ElementsAre(Value{std::int64_t{7}}, Value{std::string("x")}));
}

TEST_F(ConnectionTest, ReportsRowsChangedByDml) {
  conn.execute("CREATE TABLE t(i INTEGER)");
  EXPECT_EQ(conn.query("INSERT INTO t SELECT * FROM range(7)").rows_changed(), 7u);
  EXPECT_EQ(conn.query("UPDATE t SET i = i + 1 WHERE i < 3").rows_changed(), 3u);
  EXPECT_EQ(conn.query("DELETE FROM t WHERE i > 4").rows_changed(), 2u);
  EXPECT_EQ(conn.query("SELECT * FROM t").rows_changed(), 0u);
}

TEST_F(ConnectionTest, BadSqlThrowsWithDuckDBsMessage) {
  Error e = expect_error([&] { conn.query("SELEC 1"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()),
              HasSubstr("Parser Error: syntax error at or near \"SELEC\""));
  EXPECT_EQ(e.details().at("duckdb_error_type").as_string(), "Parser");

  e = expect_error([&] { conn.execute("SELECT * FROM missing_table"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("Catalog Error"));
  EXPECT_THAT(std::string(e.message()), HasSubstr("missing_table"));

  e = expect_error([&] { conn.query("SELECT 1 / 0::INTEGER + 'x'::INTEGER"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("Conversion Error"));
}

TEST_F(ConnectionTest, ConstraintViolationsAreConflicts) {
  conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)");
  Error e = expect_error([&] { conn.execute("INSERT INTO t VALUES (1)"); });
  EXPECT_EQ(e.code(), ErrorCode::conflict);
  EXPECT_THAT(std::string(e.message()), HasSubstr("Constraint Error"));
}

TEST_F(ConnectionTest, SandboxRefusalsAreForbidden) {
  conn.execute("SET enable_external_access = false");
  Error e = expect_error([&] { conn.query("SELECT * FROM read_csv('/etc/passwd')"); });
  EXPECT_EQ(e.code(), ErrorCode::forbidden);
  EXPECT_THAT(std::string(e.message()), HasSubstr("Permission Error"));
  EXPECT_EQ(e.details().at("duckdb_error_type").as_string(), "Permission");

  // Preparing binds the file name, so classification already refuses it.
  e = expect_error([&] { conn.extract_statements("SELECT * FROM read_csv('/etc/passwd')"); });
  EXPECT_EQ(e.code(), ErrorCode::forbidden);
  EXPECT_THAT(std::string(e.message()), HasSubstr("Permission Error"));
}

TEST_F(ConnectionTest, SqlWithANulByteIsRejected) {
  Error e = expect_error([&] { conn.query(std::string_view("SELECT 1;\0DROP TABLE t", 22)); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("NUL"));
}

TEST_F(ConnectionTest, ExtractStatementsClassifiesEachStatement) {
  auto infos = conn.extract_statements("SELECT 1; CREATE TABLE t(i INTEGER)");
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].type, DUCKDB_STATEMENT_TYPE_SELECT);
  EXPECT_EQ(infos[0].type_name(), "SELECT");
  EXPECT_EQ(infos[1].type, DUCKDB_STATEMENT_TYPE_CREATE);
  EXPECT_EQ(infos[1].type_name(), "CREATE");

  EXPECT_THAT(types_of(conn.extract_statements(
                  "WITH x AS (SELECT 1) SELECT * FROM x; FROM range(3); DESCRIBE SELECT 1; "
                  "EXPLAIN SELECT 1; SET threads = 1; COPY (SELECT 1) TO '/tmp/never.csv'; "
                  "CHECKPOINT; PRAGMA version")),
              ElementsAre(DUCKDB_STATEMENT_TYPE_SELECT, DUCKDB_STATEMENT_TYPE_SELECT,
                          DUCKDB_STATEMENT_TYPE_SELECT, DUCKDB_STATEMENT_TYPE_EXPLAIN,
                          DUCKDB_STATEMENT_TYPE_SET, DUCKDB_STATEMENT_TYPE_COPY,
                          DUCKDB_STATEMENT_TYPE_CALL, DUCKDB_STATEMENT_TYPE_SELECT));
}

TEST_F(ConnectionTest, ExtractStatementsRunsNothing) {
  conn.extract_statements("CREATE TABLE never_created(i INTEGER); SET threads = 1");
  EXPECT_EQ(
      one("SELECT count(*) FROM information_schema.tables WHERE table_name = 'never_created'"),
      Value{std::int64_t{0}});
  EXPECT_NE(one("SELECT current_setting('threads')"), Value{std::int64_t{1}});
}

TEST_F(ConnectionTest, ExtractStatementsCountsParameters) {
  auto infos = conn.extract_statements("SELECT $1, $2; SELECT 1");
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].parameter_count, 2u);
  EXPECT_EQ(infos[1].parameter_count, 0u);
}

TEST_F(ConnectionTest, ExtractStatementsReportsFailedPreparesWithoutCrashing) {
  // The INSERT fails to prepare (no such table); asking DuckDB for its type
  // would abort the process.
  Error e =
      expect_error([&] { conn.extract_statements("SELECT 1; INSERT INTO missing VALUES (1)"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("statement 2"));
  EXPECT_THAT(std::string(e.message()), HasSubstr("Catalog Error"));
  EXPECT_THAT(std::string(e.message()), HasSubstr("missing"));

  e = expect_error([&] { conn.extract_statements("SELECT 1; SELEC 2"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("Parser Error"));

  // The connection is still usable.
  EXPECT_EQ(one("SELECT 5"), Value{std::int64_t{5}});
}

TEST_F(ConnectionTest, ExtractStatementsOfNothingIsEmpty) {
  EXPECT_TRUE(conn.extract_statements("").empty());
  EXPECT_TRUE(conn.extract_statements("  -- only a comment\n").empty());
}

TEST_F(ConnectionTest, PrepareFailureThrowsAndDoesNotCrash) {
  Error e = expect_error([&] { conn.prepare("SELECT * FROM nowhere WHERE x = ?"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("nowhere"));
  e = expect_error([&] { conn.prepare("SELECT 1; SELECT 2"); });
  EXPECT_THAT(std::string(e.message()), HasSubstr("multiple statements"));
  EXPECT_EQ(one("SELECT 6"), Value{std::int64_t{6}});
}

TEST_F(ConnectionTest, InterruptStopsALongQueryFromAnotherThread) {
  std::atomic<bool> finished{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // An interrupt is dropped if it lands before the statement starts, so
    // keep asking until the statement has returned.
    while (!finished.load()) {
      conn.interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const auto start = std::chrono::steady_clock::now();
  Error e = expect_error([&] { conn.query("SELECT count(*) FROM range(10000000000)"); });
  finished = true;
  canceller.join();
  EXPECT_EQ(e.code(), ErrorCode::timeout);
  EXPECT_THAT(std::string(e.message()), HasSubstr("Interrupted"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  // The connection survives the interrupt.
  EXPECT_EQ(one("SELECT 42"), Value{std::int64_t{42}});
}

TEST_F(ConnectionTest, InterruptStopsAStreamingQueryBetweenChunks) {
  Result r = conn.query_streaming("SELECT i FROM range(10000000000) t(i)");
  ASSERT_TRUE(r.next_chunk().has_value());
  conn.interrupt();
  Error e = expect_error([&] {
    // Chunks DuckDB buffered before the interrupt may still arrive.
    for (int i = 0; i < 100000 && r.next_chunk(); ++i) {
    }
  });
  EXPECT_EQ(e.code(), ErrorCode::timeout);
  EXPECT_EQ(one("SELECT 3"), Value{std::int64_t{3}});
}

TEST_F(ConnectionTest, InterruptWithNothingRunningDoesNotAffectTheNextQuery) {
  conn.interrupt();
  EXPECT_EQ(one("SELECT count(*) FROM range(100000)"), Value{std::int64_t{100000}});
}

TEST_F(ConnectionTest, QueryProgressIsVisibleFromAnotherThread) {
  // DuckDB tracks progress only with the progress bar on (printing off for
  // a service), and table scans report it where table functions do not.
  conn.execute(
      "SET enable_progress_bar = true; SET enable_progress_bar_print = false; "
      "SET progress_bar_time = 0; CREATE TABLE big AS SELECT i FROM range(10000000) t(i)");
  EXPECT_EQ(conn.query_progress(), -1);
  std::atomic<bool> finished{false};
  std::atomic<double> best{-1};
  std::thread watcher([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!finished.load() && std::chrono::steady_clock::now() < deadline) {
      double p = conn.query_progress();
      if (p > best.load()) best = p;
      if (p > 0) conn.interrupt();  // seen enough; end the statement early
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    while (!finished.load()) {
      conn.interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  try {
    conn.query("SELECT count(DISTINCT i % 1000003 * i) FROM big");
  } catch (const Error&) {
  }
  finished = true;
  watcher.join();
  EXPECT_GT(best.load(), 0.0);
  EXPECT_LE(best.load(), 100.0);
}

TEST_F(ConnectionTest, MovedConnectionKeepsWorking) {
  Connection moved(std::move(conn));
  EXPECT_EQ(moved.handle() != nullptr, true);
  EXPECT_EQ(*moved.query("SELECT 1").scalar(), Value{std::int64_t{1}});
  EXPECT_EQ(expect_error([&] { conn.query("SELECT 1"); }).code(), ErrorCode::internal);
}

}  // namespace
}  // namespace duckmesh::duck
