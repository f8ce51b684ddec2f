#include "query/statement_check.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "query_test_support.hpp"

namespace duckmesh::query {
namespace {

using testing::expect_error;

// One row per statement: the SQL and the outcome. `code` empty = allowed.
// `mentions` is a word the error message must contain (the refused type).
struct Case {
  std::string sql;
  std::optional<ErrorCode> code;
  std::string mentions;
};

std::ostream& operator<<(std::ostream& out, const Case& c) {
  return out << c.sql;
}

class StatementCheck : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    db = std::make_unique<duck::Database>("");
    conn = std::make_unique<duck::Connection>(*db);
    // Targets for the writing statements, so that DuckDB could prepare them.
    conn->execute("CREATE TABLE t (a INTEGER); CREATE SEQUENCE s");
  }
  static void TearDownTestSuite() {
    conn.reset();
    db.reset();
  }
  static inline std::unique_ptr<duck::Database> db;
  static inline std::unique_ptr<duck::Connection> conn;
};

TEST_P(StatementCheck, AllowsOnlyOneReadingStatement) {
  const Case& c = GetParam();
  if (!c.code) {
    EXPECT_NO_THROW(check_read_only(*conn, c.sql));
    return;
  }
  Error e = expect_error([&] { check_read_only(*conn, c.sql); });
  EXPECT_EQ(e.code(), *c.code) << e.what();
  if (!c.mentions.empty()) {
    EXPECT_NE(std::string(e.what()).find(c.mentions), std::string::npos) << e.what();
  }
  if (c.code == ErrorCode::forbidden) {
    // Every refusal says what is allowed.
    EXPECT_NE(std::string(e.what()).find("SELECT"), std::string::npos) << e.what();
  }
}

constexpr auto kForbidden = ErrorCode::forbidden;
constexpr auto kInvalid = ErrorCode::invalid_input;

INSTANTIATE_TEST_SUITE_P(
    Allowed, StatementCheck,
    ::testing::Values(
        Case{"SELECT 1", {}, ""}, Case{"select 1 AS a", {}, ""},
        Case{"WITH x AS (SELECT 1 AS a) SELECT * FROM x", {}, ""}, Case{"FROM range(3)", {}, ""},
        Case{"FROM t SELECT a", {}, ""}, Case{"VALUES (1), (2)", {}, ""}, Case{"TABLE t", {}, ""},
        Case{"(SELECT 1) UNION ALL (SELECT 2)", {}, ""}, Case{"DESCRIBE t", {}, ""},
        Case{"DESCRIBE SELECT 1 AS a", {}, ""}, Case{"DESC t", {}, ""}, Case{"SUMMARIZE t", {}, ""},
        Case{"SUMMARIZE SELECT 1 AS a", {}, ""}, Case{"SHOW TABLES", {}, ""},
        Case{"SHOW t", {}, ""}, Case{"PRAGMA version", {}, ""}, Case{"PRAGMA show_tables", {}, ""},
        Case{"EXPLAIN SELECT 1", {}, ""}, Case{"EXPLAIN ANALYZE SELECT count(*) FROM t", {}, ""},
        Case{"EXPLAIN (FORMAT json) SELECT 1", {}, ""}, Case{"EXPLAIN (SELECT 1)", {}, ""},
        Case{"PIVOT (SELECT 1 AS a, 2 AS b) ON a IN (1) USING sum(b)", {}, ""},
        Case{"SELECT 1;", {}, ""}, Case{"SELECT 1;;  ", {}, ""},
        Case{"SELECT 1 -- a comment; with a semicolon", {}, ""},
        Case{"/* leading; comment */ SELECT 1", {}, ""},
        Case{"SELECT 1 /* /* nested; */ still comment; */", {}, ""},
        Case{"SELECT 'a;b' AS x", {}, ""}, Case{"SELECT 'it''s; fine' AS x", {}, ""},
        Case{"SELECT 'a\\' AS x", {}, ""},    // a backslash is a plain character
        Case{"SELECT E'\\';' AS x", {}, ""},  // E-string: \' is a quote
        Case{"SELECT $$a;b$$ AS x", {}, ""}, Case{"SELECT $q$a;'b$q$ AS x", {}, ""},
        Case{"SELECT 1 AS \"x;y\"", {}, ""}, Case{"SELECT 'enable_logging()' AS x", {}, ""},
        Case{"SELECT 1 AS enable_logging", {}, ""}, Case{"SELECT a AS query FROM t", {}, ""},
        Case{"SELECT $1::INTEGER AS a", {}, ""}, Case{"SELECT $name AS a", {}, ""}));

INSTANTIATE_TEST_SUITE_P(
    RefusedTypes, StatementCheck,
    ::testing::Values(
        Case{"COPY t TO '/tmp/duckmesh-never.csv'", kForbidden, "COPY"},
        Case{"COPY (SELECT 1) TO '/tmp/duckmesh-never.csv'", kForbidden, "COPY"},
        Case{"EXPORT DATABASE '/tmp/duckmesh-never'", kForbidden, "EXPORT"},
        Case{"IMPORT DATABASE '/tmp/duckmesh-never'", kForbidden, "IMPORT"},
        Case{"ATTACH ':memory:' AS other", kForbidden, "ATTACH"},
        Case{"DETACH other", kForbidden, "DETACH"}, Case{"INSTALL httpfs", kForbidden, "INSTALL"},
        Case{"LOAD httpfs", kForbidden, "LOAD"}, Case{"FORCE INSTALL httpfs", kForbidden, "FORCE"},
        Case{"SET threads = 1", kForbidden, "SET"}, Case{"RESET threads", kForbidden, "RESET"},
        Case{"USE memory", kForbidden, "USE"}, Case{"SET VARIABLE x = 1", kForbidden, "SET"},
        // PRAGMAs that change state: DuckDB makes them SET or PRAGMA statements.
        Case{"PRAGMA threads = 1", kForbidden, "SET"},
        Case{"PRAGMA enable_profiling", kForbidden, "PRAGMA"},
        Case{"PRAGMA disable_optimizer", kForbidden, "PRAGMA"},
        Case{"CREATE TABLE u (a INTEGER)", kForbidden, "CREATE"},
        Case{"CREATE TEMP VIEW v AS SELECT 1", kForbidden, "CREATE"},
        Case{"CREATE MACRO m(x) AS x + 1", kForbidden, "CREATE"},
        Case{"INSERT INTO t VALUES (1)", kForbidden, "INSERT"},
        Case{"WITH x AS (SELECT 1 AS a) INSERT INTO t SELECT a FROM x", kForbidden, "INSERT"},
        Case{"UPDATE t SET a = 1", kForbidden, "UPDATE"},
        Case{"DELETE FROM t", kForbidden, "DELETE"}, Case{"TRUNCATE t", kForbidden, "TRUNCATE"},
        Case{"DROP TABLE t", kForbidden, "DROP"},
        Case{"ALTER TABLE t ADD COLUMN b INTEGER", kForbidden, "ALTER"},
        Case{"CALL pragma_version()", kForbidden, "CALL"},
        Case{"CHECKPOINT", kForbidden, "CHECKPOINT"}, Case{"FORCE CHECKPOINT", kForbidden, "FORCE"},
        Case{"VACUUM", kForbidden, "VACUUM"}, Case{"ANALYZE", kForbidden, "ANALYZE"},
        Case{"BEGIN TRANSACTION", kForbidden, "BEGIN"}, Case{"COMMIT", kForbidden, "COMMIT"},
        Case{"ROLLBACK", kForbidden, "ROLLBACK"},
        Case{"PREPARE p AS SELECT 1", kForbidden, "PREPARE"},
        Case{"EXECUTE p", kForbidden, "EXECUTE"}, Case{"DEALLOCATE p", kForbidden, "DEALLOCATE"},
        Case{"COMMENT ON TABLE t IS 'x'", kForbidden, "COMMENT"},
        // EXPLAIN ANALYZE runs what it explains.
        Case{"EXPLAIN COPY (SELECT 1) TO '/tmp/duckmesh-never.csv'", kForbidden, "COPY"},
        Case{"EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/duckmesh-never.csv'", kForbidden, "COPY"},
        Case{"EXPLAIN (ANALYZE, FORMAT json) INSERT INTO t VALUES (1)", kForbidden, "INSERT"},
        Case{"EXPLAIN ANALYZE WITH x AS (SELECT 1 AS a) INSERT INTO t SELECT a FROM x", kForbidden,
             "INSERT"},
        Case{"EXPLAIN EXPLAIN SELECT 1", kForbidden, "EXPLAIN"},
        // State-changing or SQL-running functions inside a SELECT.
        Case{"SELECT * FROM enable_logging()", kForbidden, "enable_logging"},
        Case{"SELECT * FROM \"ENABLE_LOGGING\" /* spaced */ ()", kForbidden, "enable_logging"},
        Case{"SELECT * FROM system.main.enable_logging()", kForbidden, "enable_logging"},
        Case{"SELECT E'\\'', 1 FROM enable_logging()", kForbidden, "enable_logging"},
        Case{"SELECT * FROM query('SELECT 1')", kForbidden, "query"},
        Case{"SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
             kForbidden, "json_execute_serialized_sql"},
        Case{"SELECT * FROM enable_profiling()", kForbidden, "enable_profiling"},
        Case{"SELECT * FROM enable_peg_parser()", kForbidden, "enable_peg_parser"},
        Case{"SELECT * FROM checkpoint()", kForbidden, "checkpoint"},
        Case{"SELECT * FROM arrow_scan(0, 0, 0)", kForbidden, "arrow_scan"},
        Case{"SELECT write_log('x')", kForbidden, "write_log"},
        Case{"PRAGMA import_database('/tmp/duckmesh-never')", kForbidden, "import_database"}));

INSTANTIATE_TEST_SUITE_P(
    Malformed, StatementCheck,
    ::testing::Values(Case{"", kInvalid, "empty"}, Case{"   ", kInvalid, "empty"},
                      Case{";", kInvalid, "empty"}, Case{"-- only a comment", kInvalid, "empty"},
                      Case{"SELECT 1; SELECT 2", kForbidden, "one statement per query"},
                      Case{"SELECT 1; DROP TABLE t", kForbidden, "one statement per query"},
                      Case{"SELECT 'unterminated", kInvalid, "unterminated"},
                      Case{"SELECT 1 /* unterminated", kInvalid, "unterminated"},
                      Case{"SELEC 1", kInvalid, "syntax error"},
                      Case{"SELECT FROM WHERE", kInvalid, "Parser Error"},
                      Case{"SELECT * FROM missing_table", kInvalid, "missing_table"},
                      Case{"EXPLAIN", kInvalid, "EXPLAIN"},
                      Case{"PIVOT (SELECT 1 AS a, 2 AS b) ON a USING sum(b)", kInvalid,
                           "multiple statements"}));

TEST(StatementCheckBody, BodyEndsAtTheLastToken) {
  duck::Database db("");
  duck::Connection conn(db);
  EXPECT_EQ(prepare_read_only(conn, "SELECT 1 AS a; -- done\n").body, "SELECT 1 AS a");
  EXPECT_EQ(prepare_read_only(conn, "SELECT 'x;' AS a /* c */ ;;").body, "SELECT 'x;' AS a");
  EXPECT_EQ(prepare_read_only(conn, "EXPLAIN SELECT 1").type, DUCKDB_STATEMENT_TYPE_EXPLAIN);
  EXPECT_EQ(prepare_read_only(conn, "SELECT $1 AS a").prepared.parameter_count(), 1u);
}

TEST(StatementCheckBody, RefusedStatementsAreNeverPrepared) {
  // EXPORT DATABASE creates its directory while being prepared; the gate
  // refuses it by its keyword first, and EXPLAIN's target likewise.
  testing::ScratchDir dir;
  duck::Database db("");
  duck::Connection conn(db);
  for (const std::string& sql : {"EXPORT DATABASE '" + (dir.path() / "a").string() + "'",
                                 "EXPLAIN EXPORT DATABASE '" + (dir.path() / "b").string() + "'"}) {
    Error e = expect_error([&] { check_read_only(conn, sql); });
    EXPECT_EQ(e.code(), ErrorCode::forbidden) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace duckmesh::query
