#include "query/encoders.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "query/executor.hpp"
#include "query_test_support.hpp"

namespace duckmesh::query {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using testing::expect_error;

class EncodingTest : public ::testing::Test {
 protected:
  testing::ProductDirs dirs;
  Sandbox sandbox{{dirs.p1()}, dirs.scratch()};

  std::string encode(const std::string& sql, Format format, QueryOptions options = {}) {
    options.format = format;
    StringSink sink;
    outcome = run_query(sandbox, sql, options, sink);
    return sink.data;
  }

  QueryOutcome outcome;
};

// ---- Exact text ----

TEST_F(EncodingTest, JsonValuesKeepTheirExactTypes) {
  const std::string body = encode(
      "SELECT 9007199254740992::BIGINT AS a, 9007199254740993::BIGINT AS b, "
      "-9007199254740993::BIGINT AS c, 1.50::DECIMAL(4,2) AS d, 'NaN'::DOUBLE AS e, "
      "'Infinity'::DOUBLE AS f, '-Infinity'::DOUBLE AS g, TIMESTAMPTZ '2026-11-25 10:00:00+00' AS "
      "h, "
      "DATE '2026-11-25' AS i, [1, 2]::INTEGER[] AS j, {'k': 'v'} AS l, NULL AS m, 0.1::DOUBLE AS "
      "n, "
      "1.1::FLOAT AS o, '00000000-0000-0000-0000-000000000001'::UUID AS p, INTERVAL 90 MINUTE AS "
      "q, "
      "170141183460469231731687303715884105727::HUGEINT AS r, 5::HUGEINT AS s, "
      "18446744073709551615::UBIGINT AS t, TIMESTAMP '2026-11-25 10:00:00.123456' AS u, "
      "TIMESTAMP_NS '2026-11-25 10:00:00.1234567' AS v, MAP {'x': 1} AS w, "
      "'a\"b\\c' || chr(10) || chr(1) AS x, -0.05::DECIMAL(10,2) AS y, '\\xAA'::BLOB AS z, "
      "true AS bo, 'infinity'::DATE AS di, TIME '10:00:00.5' AS ti, 42::UHUGEINT AS uh, "
      "[[1], NULL, []]::INTEGER[][] AS nested, {'a': {'b': [NULL]}} AS deep",
      Format::json);
  // The rows exactly as sent.
  const std::size_t rows_at = body.find("\"rows\":");
  const std::size_t rows_end = body.find(",\"row_count\":");
  ASSERT_NE(rows_at, std::string::npos) << body;
  EXPECT_EQ(body.substr(rows_at + 7, rows_end - rows_at - 7),
            R"([[9007199254740992,"9007199254740993","-9007199254740993","1.50","NaN","Infinity",)"
            R"("-Infinity","2026-11-25T10:00:00Z","2026-11-25",[1,2],{"k":"v"},null,0.1,1.1,)"
            R"("00000000-0000-0000-0000-000000000001","01:30:00",)"
            R"("170141183460469231731687303715884105727",5,"18446744073709551615",)"
            R"("2026-11-25T10:00:00.123456Z","2026-11-25T10:00:00.123456700Z",{"x":1},)"
            R"("a\"b\\c\n\u0001","-0.05","\\xAA",true,"infinity","10:00:00.5",42,[[1],null,[]],)"
            R"({"a":{"b":[null]}}]])");
  EXPECT_NO_THROW(json::parse(body));
}

TEST_F(EncodingTest, NdjsonIsOneObjectPerRow) {
  EXPECT_EQ(encode("SELECT range AS i, 'r' || range AS s, NULL::INTEGER AS n FROM range(2)",
                   Format::ndjson),
            "{\"i\":0,\"s\":\"r0\",\"n\":null}\n{\"i\":1,\"s\":\"r1\",\"n\":null}\n");
  EXPECT_EQ(encode("SELECT 1 AS \"we\"\"ird\" WHERE false", Format::ndjson), "");
}

TEST_F(EncodingTest, CsvFollowsRfc4180) {
  EXPECT_EQ(
      encode("SELECT * FROM (VALUES (1, 'plain', 1.5::DOUBLE), (2, 'a,b', NULL), "
             "(3, 'say \"hi\"', 0.25), (4, 'two' || chr(10) || 'lines', NULL), (5, '', 2), "
             "(6, NULL, 3), (7, ' padded ', 4)) t(\"id\", \"text, with comma\", x) ORDER BY id",
             Format::csv),
      "id,\"text, with comma\",x\r\n"
      "1,plain,1.5\r\n"
      "2,\"a,b\",\r\n"
      "3,\"say \"\"hi\"\"\",0.25\r\n"
      "4,\"two\nlines\",\r\n"
      "5,\"\",2\r\n"
      "6,,3\r\n"
      "7,\" padded \",4\r\n");
}

TEST_F(EncodingTest, CsvWritesNestedValuesAsJson) {
  EXPECT_EQ(encode("SELECT [1, NULL]::INTEGER[] AS l, {'a': 'x'} AS s, TIMESTAMPTZ '2026-11-25 "
                   "10:00:00+00' AS t, 12345678901234567890::UBIGINT AS u",
                   Format::csv),
            "l,s,t,u\r\n\"[1,null]\",\"{\"\"a\"\":\"\"x\"\"}\",2026-11-25T10:00:00Z,"
            "12345678901234567890\r\n");
}

TEST_F(EncodingTest, UnsupportedTypesNameTheType) {
  StringSink sink;
  Error e = expect_error(
      [&] { run_query(sandbox, "SELECT union_value(k := 1) AS u", QueryOptions{}, sink); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_NE(std::string(e.what()).find("UNION"), std::string::npos) << e.what();
}

// ---- Parquet ----

TEST_F(EncodingTest, ParquetIsWrittenByDuckDBAndRemoved) {
  QueryOptions options;
  options.params = json::array{3};
  const std::string bytes =
      encode("SELECT range AS i, 'r' || range AS s FROM range(10) WHERE range < $1",
             Format::parquet, options);
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(0, 4), "PAR1");
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "PAR1");
  EXPECT_EQ(outcome.row_count, 3u);
  EXPECT_FALSE(outcome.truncated);
  ASSERT_EQ(outcome.columns.size(), 2u);
  EXPECT_EQ(outcome.columns[1], (ColumnInfo{"s", "VARCHAR"}));
  EXPECT_TRUE(fs::is_empty(sandbox.private_dir()));

  testing::ScratchDir out;
  testing::write_file(out.path() / "r.parquet", bytes);
  duck::Database db("");
  duck::Connection conn(db);
  auto rows =
      conn.query("SELECT i, s FROM read_parquet('" + (out.path() / "r.parquet").string() + "')")
          .fetch_all();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(duck::value_text(rows[2][1]), "r2");
}

TEST_F(EncodingTest, ParquetRespectsMaxRows) {
  QueryOptions options;
  options.max_rows = 5;
  const std::string bytes =
      encode("SELECT range AS i FROM range(100) ORDER BY i DESC", Format::parquet, options);
  EXPECT_TRUE(outcome.truncated);
  EXPECT_EQ(outcome.row_count, 5u);
  EXPECT_TRUE(fs::is_empty(sandbox.private_dir()));
  testing::ScratchDir out;
  testing::write_file(out.path() / "r.parquet", bytes);
  duck::Database db("");
  duck::Connection conn(db);
  EXPECT_EQ(duck::value_text(*conn.query("SELECT list(i)::VARCHAR FROM read_parquet('" +
                                         (out.path() / "r.parquet").string() + "')")
                                  .scalar()),
            "[99, 98, 97, 96, 95]");

  options.max_rows = 100;
  encode("SELECT range AS i FROM range(100)", Format::parquet, options);
  EXPECT_FALSE(outcome.truncated);
  EXPECT_EQ(outcome.row_count, 100u);
}

TEST_F(EncodingTest, ParquetNeedsAStatementThatCanBeASubquery) {
  for (const std::string sql : {"EXPLAIN SELECT 1", "PRAGMA version"}) {
    StringSink sink;
    QueryOptions options;
    options.format = Format::parquet;
    Error e = expect_error([&] { run_query(sandbox, sql, options, sink); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_input) << sql << ": " << e.what();
    EXPECT_TRUE(sink.data.empty());
  }
  // A trailing comment or semicolon does not break the subquery.
  encode("SELECT 1 AS a; -- done", Format::parquet);
  EXPECT_EQ(outcome.row_count, 1u);
}

// ---- Round trips through DuckDB ----

// Typed columns of the reference table; `nested` columns travel as JSON.
// `parquet_type`, when set, is the type DuckDB's Parquet writer turns the
// column into (Parquet has no 128-bit integer: HUGEINT becomes DOUBLE).
struct Column {
  std::string name;
  std::string type;
  bool nested = false;
  std::string parquet_type = {};
};

const std::vector<Column> kColumns = {
    {"i", "INTEGER"},
    {"big", "BIGINT"},
    {"dec", "DECIMAL(38,10)"},
    {"ts", "TIMESTAMP WITH TIME ZONE"},
    {"plain_ts", "TIMESTAMP"},
    {"d", "DATE"},
    {"list", "INTEGER[]", true},
    {"s", "VARCHAR"},
    {"dbl", "DOUBLE"},
    {"flag", "BOOLEAN"},
    {"st", "STRUCT(a INTEGER, b VARCHAR)", true},
    {"h", "HUGEINT", false, "DOUBLE"},
    {"u", "UUID"},
    {"iv", "INTERVAL"},
};

// Values as DuckDB literals (cast to the column types), NULL as NULL.
const char* const kRows[] = {
    "(0, '9223372036854775807', '1234567890123456789012345678.1234567890', "
    "'2026-11-25 10:00:00+00', '2026-11-25 10:00:00', '2026-11-25', '[1, 2, NULL]', 'plain', "
    "'1.5', 'true', '{''a'': 1, ''b'': ''x''}', '170141183460469231731687303715884105727', "
    "'00000000-0000-0000-0000-000000000001', '1 year 2 months 3 days 04:05:06.5')",
    "(1, '-9223372036854775808', '-0.0000000001', '1970-01-01 00:00:00.000001+00', "
    "'1969-12-31 23:59:59.999999', '0001-01-01', '[]', 'with \"quotes\", and, commas', '-0.0', "
    "'false', '{''a'': NULL, ''b'': ''y\"q''}', '-170141183460469231731687303715884105728', "
    "'ffffffff-ffff-ffff-ffff-ffffffffffff', '1 day')",
    "(2, '9007199254740993', '0', '1900-02-28 23:59:59.5+00', '2262-04-11 23:47:16.854775', "
    "'9999-12-31', NULL, 'line' || chr(10) || 'break' || chr(13) || chr(10) || 'crlf', '1e300', "
    "NULL, NULL, '9007199254740993', NULL, NULL)",
    "(3, '42', '9999999999999999999999999999.9999999999', '2262-04-11 23:47:16+00', NULL, "
    "'1970-01-01', '[2147483647, -2147483648]', 'unicode ✓ äöü 日本 🦆', '0.1', 'true', "
    "'{''a'': -1, ''b'': ''''}', '42', NULL, '00:00:00')",
    "(4, NULL, NULL, NULL, NULL, NULL, '[NULL]', '', 'NaN', 'false', "
    "'{''a'': 0, ''b'': '' lead and trail ''}', NULL, NULL, NULL)",
    "(5, '0', '1.5', '2000-02-29 12:00:00+00', '2000-02-29 12:00:00', '2000-02-29', NULL, "
    "' leading space', 'Infinity', NULL, NULL, '0', NULL, NULL)",
    "(6, '-1', '-1', NULL, NULL, NULL, NULL, NULL, '-Infinity', NULL, NULL, '-1', NULL, NULL)",
    "(7, '1', '0.0000000001', NULL, NULL, NULL, NULL, 'tab' || chr(9) || 'back\\slash ''single''', "
    "'4.9e-324', NULL, NULL, NULL, NULL, NULL)",
};

std::string reference_query() {
  std::string select;
  std::string names;
  for (const auto& c : kColumns) {
    if (!select.empty()) select += ", ";
    if (!names.empty()) names += ", ";
    select += "CAST(" + c.name + " AS " + c.type + ") AS " + c.name;
    names += c.name;
  }
  std::string values;
  for (const char* row : kRows) values += std::string(values.empty() ? "" : ", ") + row;
  return "SELECT " + select + " FROM (VALUES " + values + ") t(" + names + ") ORDER BY i";
}

// The SELECT that reads `file` back as the reference table, per format.
std::string read_back_query(Format format, const fs::path& file) {
  const std::string path = "'" + file.string() + "'";
  std::string select;
  for (std::size_t k = 0; k < kColumns.size(); ++k) {
    const Column& c = kColumns[k];
    if (!select.empty()) select += ", ";
    std::string source;
    switch (format) {
      case Format::json:
        source = "row" + std::string(c.nested ? "->" : "->>") + std::to_string(k);
        break;
      case Format::ndjson:
        source = "json" + std::string(c.nested ? "->" : "->>") + "'" + c.name + "'";
        break;
      case Format::csv: source = c.nested ? c.name + "::JSON" : c.name; break;
      case Format::parquet: source = c.name; break;
      // DuckDB has no Arrow IPC reader here; arrow_test.cpp reads that format.
      case Format::arrow: break;
    }
    const bool lossy = format == Format::parquet && !c.parquet_type.empty();
    select += "CAST(" + source + " AS " + (lossy ? c.parquet_type : c.type) + ") AS " + c.name;
  }
  switch (format) {
    case Format::json:
      return "SELECT " + select +
             " FROM (SELECT unnest(from_json(content::JSON->'rows', '[\"JSON\"]')) AS row "
             "FROM read_text(" +
             path + "))";
    case Format::ndjson: return "SELECT " + select + " FROM read_ndjson_objects(" + path + ")";
    case Format::csv:
      return "SELECT " + select + " FROM read_csv(" + path +
             ", header = true, all_varchar = true, allow_quoted_nulls = false, delim = ',', "
             "quote = '\"', escape = '\"')";
    case Format::parquet: return "SELECT " + select + " FROM read_parquet(" + path + ")";
    case Format::arrow: break;
  }
  return {};
}

class RoundTrip : public EncodingTest, public ::testing::WithParamInterface<Format> {};

TEST_P(RoundTrip, DuckDBReadsBackTheSameValues) {
  const Format format = GetParam();
  const std::string bytes = encode(reference_query(), format);
  ASSERT_EQ(outcome.row_count, std::size(kRows));
  ASSERT_EQ(outcome.columns.size(), kColumns.size());
  for (std::size_t k = 0; k < kColumns.size(); ++k) {
    EXPECT_EQ(outcome.columns[k].name, kColumns[k].name);
    EXPECT_EQ(outcome.columns[k].type, kColumns[k].type);
  }

  testing::ScratchDir out;
  const fs::path file = out.path() / ("result." + std::string(to_string(format)));
  testing::write_file(file, bytes);
  // A fresh DuckDB, independent of the sandbox that wrote the result.
  duck::Database db("");
  duck::Connection conn(db);
  std::string replace;
  for (const auto& c : kColumns) {
    if (format != Format::parquet || c.parquet_type.empty()) continue;
    replace += std::string(replace.empty() ? "" : ", ") + "CAST(" + c.name + " AS " +
               c.parquet_type + ") AS " + c.name;
  }
  conn.execute("CREATE TABLE original AS SELECT *" +
               (replace.empty() ? "" : " REPLACE (" + replace + ")") + " FROM (" +
               reference_query() + ")");
  conn.execute("CREATE TABLE back AS " + read_back_query(format, file));
  auto count = [&](const std::string& sql) { return duck::value_text(*conn.query(sql).scalar()); };
  EXPECT_EQ(count("SELECT count(*) FROM back"), std::to_string(std::size(kRows)));
  const std::string missing =
      count("SELECT count(*) FROM (SELECT * FROM original EXCEPT ALL SELECT * FROM back)");
  const std::string extra =
      count("SELECT count(*) FROM (SELECT * FROM back EXCEPT ALL SELECT * FROM original)");
  EXPECT_EQ(missing, "0") << "as sent:\n" << bytes.substr(0, 3000);
  EXPECT_EQ(extra, "0");
  // Per column, to say which one differs when the comparison fails.
  for (const auto& c : kColumns) {
    EXPECT_EQ(count("SELECT count(*) FROM original o JOIN back b USING (i) WHERE o." + c.name +
                    " IS DISTINCT FROM b." + c.name),
              "0")
        << "column " << c.name << ": "
        << count("SELECT string_agg(o." + c.name + "::VARCHAR || ' -> ' || coalesce(b." + c.name +
                 "::VARCHAR, 'NULL'), ' | ') FROM original o JOIN back b USING (i) WHERE o." +
                 c.name + " IS DISTINCT FROM b." + c.name);
  }
  EXPECT_EQ(count("SELECT list(i)::VARCHAR FROM back"), "[0, 1, 2, 3, 4, 5, 6, 7]");
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTrip,
                         ::testing::Values(Format::json, Format::ndjson, Format::csv,
                                           Format::parquet),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param));
                         });

// ---- OutputBuffer ----

TEST(OutputBuffer, FlushesInBlocksAndHolds) {
  StringSink sink;
  OutputBuffer out(sink, 10);
  out.buffer() += "12345";
  out.maybe_flush();
  EXPECT_EQ(sink.writes, 0u);
  out.buffer() += "67890ab";
  out.maybe_flush();
  EXPECT_EQ(sink.data, "1234567890ab");
  out.hold(true);
  out.buffer() += std::string(100, 'x');
  out.maybe_flush();
  out.flush();
  EXPECT_EQ(sink.writes, 1u);
  out.hold(false);
  out.flush();
  EXPECT_EQ(sink.writes, 2u);
  EXPECT_EQ(out.bytes_written(), 112u);
}

}  // namespace
}  // namespace duckmesh::query
