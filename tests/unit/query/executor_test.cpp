#include "query/executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <thread>

#include "query_test_support.hpp"

namespace duckmesh::query {
namespace {

namespace json = boost::json;
using testing::expect_error;
using Clock = std::chrono::steady_clock;

class ExecutorTest : public ::testing::Test {
 protected:
  testing::ProductDirs dirs;
  Sandbox sandbox{{dirs.p1()}, dirs.scratch()};

  json::value run(const std::string& sql, QueryOptions options = {}) {
    StringSink sink;
    outcome = run_query(sandbox, sql, options, sink);
    return json::parse(sink.data);
  }

  Error fails(const std::string& sql, QueryOptions options = {}) {
    StringSink sink;
    Error e = expect_error([&] { run_query(sandbox, sql, options, sink); });
    written = sink.data;
    return e;
  }

  static QueryOptions with_params(json::value params) {
    QueryOptions options;
    options.params = std::move(params);
    return options;
  }

  QueryOutcome outcome;
  std::string written;
};

// ---- Envelope ----

TEST_F(ExecutorTest, JsonEnvelopeHasColumnsRowsAndCallerFields) {
  QueryOptions options;
  options.add_fields = [](json::object& fields) {
    fields["snapshot_id"] = 7;
    fields["product"] = "orders";
  };
  StringSink sink;
  outcome = run_query(sandbox, "SELECT 1 AS a, 'x' AS b", options, sink);
  // Members in this order, caller fields last.
  const std::string prefix =
      R"({"columns":[{"name":"a","type":"INTEGER"},{"name":"b","type":"VARCHAR"}],"rows":[[1,"x"]],"row_count":1,"truncated":false,"elapsed_ms":)";
  ASSERT_EQ(sink.data.substr(0, prefix.size()), prefix) << sink.data;
  json::value body = json::parse(sink.data);
  EXPECT_EQ(body.at("snapshot_id").as_int64(), 7);
  EXPECT_EQ(body.at("product").as_string(), "orders");
  EXPECT_GE(body.at("elapsed_ms").to_number<double>(), 0.0);
  EXPECT_TRUE(sink.data.ends_with(R"("snapshot_id":7,"product":"orders"})")) << sink.data;
  ASSERT_EQ(outcome.columns.size(), 2u);
  EXPECT_EQ(outcome.columns[0], (ColumnInfo{"a", "INTEGER"}));
  EXPECT_EQ(outcome.row_count, 1u);
}

TEST_F(ExecutorTest, CallerFieldsMayNotReplaceEnvelopeMembers) {
  QueryOptions options;
  options.add_fields = [](json::object& fields) { fields["rows"] = 1; };
  EXPECT_EQ(fails("SELECT 1", options).code(), ErrorCode::internal);
  EXPECT_TRUE(written.empty());
}

TEST_F(ExecutorTest, EmptyResultStillHasColumns) {
  json::value body = run("SELECT 1 AS a WHERE false");
  EXPECT_EQ(json::serialize(body.at("columns")), R"([{"name":"a","type":"INTEGER"}])");
  EXPECT_TRUE(body.at("rows").as_array().empty());
  EXPECT_EQ(body.at("row_count").as_int64(), 0);
}

TEST_F(ExecutorTest, ExplainRunsAsJson) {
  json::value body = run("EXPLAIN SELECT 1");
  EXPECT_EQ(body.at("columns").at(0).at("name").as_string(), "explain_key");
  EXPECT_EQ(body.at("row_count").as_int64(), 1);
}

TEST_F(ExecutorTest, SqlErrorsAreInvalidInput) {
  Error e = fails("SELECT no_such_column FROM range(1)");
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_NE(std::string(e.what()).find("no_such_column"), std::string::npos) << e.what();
  e = fails("SELECT CAST('x' AS INTEGER)");
  EXPECT_EQ(e.code(), ErrorCode::invalid_input) << e.what();
  EXPECT_TRUE(written.empty());
}

TEST_F(ExecutorTest, FormatNames) {
  EXPECT_EQ(format_from_string("json"), Format::json);
  EXPECT_EQ(format_from_string("ndjson"), Format::ndjson);
  EXPECT_EQ(format_from_string("csv"), Format::csv);
  EXPECT_EQ(format_from_string("parquet"), Format::parquet);
  Error e = expect_error([] { format_from_string("xml"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_NE(std::string(e.what()).find("json, ndjson, csv, parquet"), std::string::npos);
  for (Format f : {Format::json, Format::ndjson, Format::csv, Format::parquet}) {
    EXPECT_EQ(format_from_string(to_string(f)), f);
  }
}

// ---- Parameters ----

TEST_F(ExecutorTest, PositionalParameters) {
  json::value body =
      run("SELECT $1::INTEGER + 1 AS a, $2 AS b, $1 AS again", with_params(json::array{41, "x"}));
  EXPECT_EQ(json::serialize(body.at("rows")), R"([[42,"x",41]])");
  body = run("SELECT ? AS a, ? AS b", with_params(json::array{true, nullptr}));
  EXPECT_EQ(json::serialize(body.at("rows")), R"([[true,null]])");
}

TEST_F(ExecutorTest, NamedParameters) {
  json::value body = run("SELECT $name AS n, $n2 + 1 AS m, $ratio * 2 AS r",
                         with_params(json::object{{"name", "a"}, {"n2", 1}, {"ratio", 0.25}}));
  const json::array& row = body.at("rows").at(0).as_array();
  EXPECT_EQ(row.at(0).as_string(), "a");
  EXPECT_EQ(row.at(1).as_int64(), 2);
  EXPECT_EQ(row.at(2).as_double(), 0.5);
}

TEST_F(ExecutorTest, ParametersKeepTheirJsonTypes) {
  json::value params = json::array{std::uint64_t{18446744073709551615ULL},
                                   std::int64_t{-9223372036854775807LL}, 1.5, "text", false};
  json::value body =
      run("SELECT typeof($1) AS t1, $1::UBIGINT AS v1, typeof($2) AS t2, typeof($3) AS t3, "
          "typeof($4) AS t4, typeof($5) AS t5",
          with_params(params));
  EXPECT_EQ(json::serialize(body.at("rows")),
            R"([["UBIGINT","18446744073709551615","BIGINT","DOUBLE","VARCHAR","BOOLEAN"]])");
}

TEST_F(ExecutorTest, InjectionAttemptIsAPlainValue) {
  sandbox.connection().execute("CREATE TEMP TABLE x AS SELECT 1 AS a");
  const std::string attack = "'; DROP TABLE x; --";
  json::value body = run("SELECT $1 AS v, count(*) AS n FROM x", with_params(json::array{attack}));
  EXPECT_EQ(body.at("rows").at(0).at(0).as_string(), attack);
  EXPECT_EQ(run("SELECT count(*) FROM x").at("rows").at(0).at(0).as_int64(), 1);
  // As a named parameter too.
  body = run("SELECT $v AS v", with_params(json::object{{"v", attack}}));
  EXPECT_EQ(body.at("rows").at(0).at(0).as_string(), attack);
}

TEST_F(ExecutorTest, ParameterMismatchesNameTheParameter) {
  struct Mismatch {
    std::string sql;
    json::value params;
    std::string parameter;
  };
  const std::vector<Mismatch> mismatches = {
      {"SELECT $1 AS a, $2 AS b", json::array{1}, "$2"},
      {"SELECT $1 AS a, $2 AS b", json::array{1, 2, 3}, "$3"},
      {"SELECT $1 AS a", nullptr, "$1"},
      {"SELECT 1 AS a", json::array{1}, "$1"},
      {"SELECT $1 AS a", json::object{{"1", 1}}, "$1"},
      {"SELECT $name AS a", json::array{1}, "$name"},
      {"SELECT $name AS a", json::object{{"other", 1}}, "$name"},
      {"SELECT $name AS a", json::object{{"name", 1}, {"extra", 2}}, "$extra"},
      {"SELECT $1 AS a", json::array{json::array{1, 2}}, "$1"},
      {"SELECT $1 AS a", json::array{json::object{{"k", 1}}}, "$1"},
  };
  for (const auto& m : mismatches) {
    Error e = fails(m.sql, with_params(m.params));
    EXPECT_EQ(e.code(), ErrorCode::invalid_input) << m.sql << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(m.parameter), std::string::npos)
        << m.sql << ": " << e.what();
    EXPECT_EQ(e.details().contains("parameter") ? e.details().at("parameter").as_string() : "",
              m.parameter)
        << m.sql;
    EXPECT_TRUE(written.empty());
  }
  Error e = fails("SELECT $1 AS a", with_params("scalar"));
  EXPECT_EQ(e.code(), ErrorCode::invalid_input) << e.what();
}

TEST_F(ExecutorTest, ParameterCastFailureIsInvalidInput) {
  Error e = fails("SELECT $1::INTEGER AS a", with_params(json::array{"not a number"}));
  EXPECT_EQ(e.code(), ErrorCode::invalid_input) << e.what();
}

// ---- Row limit ----

TEST_F(ExecutorTest, TruncatesAtMaxRows) {
  QueryOptions options;
  options.max_rows = 5;
  json::value body = run("SELECT range AS i FROM range(10)", options);
  EXPECT_EQ(body.at("row_count").as_int64(), 5);
  EXPECT_TRUE(body.at("truncated").as_bool());
  EXPECT_EQ(json::serialize(body.at("rows")), "[[0],[1],[2],[3],[4]]");
  EXPECT_TRUE(outcome.truncated);
  EXPECT_EQ(outcome.row_count, 5u);
}

TEST_F(ExecutorTest, ExactlyMaxRowsIsNotTruncated) {
  QueryOptions options;
  options.max_rows = 10;
  json::value body = run("SELECT range AS i FROM range(10)", options);
  EXPECT_EQ(body.at("row_count").as_int64(), 10);
  EXPECT_FALSE(body.at("truncated").as_bool());
  // At a chunk boundary (DuckDB's chunks hold 2048 rows) the probe needs
  // the next chunk.
  options.max_rows = 2048;
  EXPECT_FALSE(run("SELECT range AS i FROM range(2048)", options).at("truncated").as_bool());
  EXPECT_TRUE(run("SELECT range AS i FROM range(2049)", options).at("truncated").as_bool());
  EXPECT_EQ(outcome.row_count, 2048u);
  options.max_rows = 0;
  body = run("SELECT range AS i FROM range(1)", options);
  EXPECT_TRUE(body.at("truncated").as_bool());
  EXPECT_TRUE(body.at("rows").as_array().empty());
}

TEST_F(ExecutorTest, ErrorOnTruncateWritesNothing) {
  QueryOptions options;
  options.max_rows = 5;
  options.error_on_truncate = true;
  // Wide rows: the body passes 64 KiB, which would be flushed otherwise.
  Error e = fails("SELECT repeat('x', 100000) AS s FROM range(6)", options);
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_NE(std::string(e.what()).find("exceeds max_rows"), std::string::npos) << e.what();
  EXPECT_EQ(e.details().at("max_rows").to_number<std::int64_t>(), 5);
  EXPECT_TRUE(written.empty());
  for (Format format : {Format::ndjson, Format::csv, Format::parquet}) {
    options.format = format;
    EXPECT_EQ(fails("SELECT range AS i FROM range(6)", options).code(), ErrorCode::invalid_input);
    EXPECT_TRUE(written.empty()) << to_string(format);
  }
  options.format = Format::json;
  EXPECT_EQ(run("SELECT range AS i FROM range(5)", options).at("row_count").as_int64(), 5);
}

// ---- Time limit ----

TEST_F(ExecutorTest, TimeoutStopsALongQueryAndTheSandboxStaysUsable) {
  QueryOptions options;
  options.timeout = std::chrono::milliseconds(300);
  for (Format format : {Format::json, Format::parquet}) {
    options.format = format;
    const auto start = Clock::now();
    Error e = fails("SELECT count(*) FROM range(10000000000)", options);
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    EXPECT_EQ(e.code(), ErrorCode::timeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("300 ms"), std::string::npos) << e.what();
    EXPECT_GE(took, 300);
    EXPECT_LT(took, 300 + 200) << to_string(format);
    EXPECT_EQ(run("SELECT 42 AS x").at("rows").at(0).at(0).as_int64(), 42);
  }
}

// DuckDB may stop a query itself (a parallel task failed and the others were
// interrupted): before the time limit that is no timeout.
TEST_F(ExecutorTest, AnInterruptionBeforeTheTimeLimitIsNoTimeout) {
  QueryOptions options;
  options.timeout = std::chrono::seconds(60);
  std::atomic<bool> done{false};
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    while (!done) {
      sandbox.interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const auto start = Clock::now();
  Error e = fails("SELECT count(*) FROM range(10000000000)", options);
  done = true;
  interrupter.join();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(e.code(), ErrorCode::unprocessable) << e.what();
  EXPECT_NE(std::string(e.what()).find("run it again"), std::string::npos) << e.what();
  EXPECT_EQ(run("SELECT 42 AS x").at("rows").at(0).at(0).as_int64(), 42);
}

// A sink as slow as a slow client: the deadline passes while rows stream.
class SlowSink : public ResultSink {
 public:
  void write(std::string_view bytes) override {
    bytes_ += bytes.size();
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  std::size_t bytes_ = 0;
};

TEST_F(ExecutorTest, TimeoutStopsAStreamingResult) {
  QueryOptions options;
  options.timeout = std::chrono::milliseconds(200);
  options.max_rows = 100'000'000;
  options.format = Format::ndjson;
  SlowSink sink;
  const auto start = Clock::now();
  Error e = expect_error([&] {
    run_query(sandbox, "SELECT range AS i, md5(range::VARCHAR) AS h FROM range(100000000)", options,
              sink);
  });
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  EXPECT_EQ(e.code(), ErrorCode::timeout) << e.what();
  EXPECT_GT(sink.bytes_, 0u);
  EXPECT_LT(took, 200 + 200);
  EXPECT_EQ(run("SELECT 42 AS x").at("rows").at(0).at(0).as_int64(), 42);
}

TEST_F(ExecutorTest, TimeoutMustBePositive) {
  QueryOptions options;
  options.timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(fails("SELECT 1", options).code(), ErrorCode::invalid_input);
}

// ---- Streaming ----

// Counts what arrives without keeping it.
class CountingSink : public ResultSink {
 public:
  void write(std::string_view bytes) override {
    ++writes;
    total += bytes.size();
    largest = std::max(largest, bytes.size());
    if (first_line.empty()) first_line = std::string(bytes.substr(0, bytes.find('\n')));
  }
  std::size_t writes = 0;
  std::size_t total = 0;
  std::size_t largest = 0;
  std::string first_line;
};

TEST_F(ExecutorTest, MillionRowsStreamInBoundedBlocks) {
  QueryOptions options;
  options.max_rows = 2'000'000;
  for (Format format : {Format::json, Format::ndjson, Format::csv}) {
    options.format = format;
    CountingSink sink;
    outcome = run_query(sandbox, "SELECT range AS id, 'row-' || range AS s FROM range(1000000)",
                        options, sink);
    EXPECT_EQ(outcome.row_count, 1'000'000u);
    EXPECT_FALSE(outcome.truncated);
    // ~20 MB in blocks of about 64 KiB: hundreds of writes, none large.
    EXPECT_GT(sink.total, 15'000'000u) << to_string(format);
    EXPECT_GT(sink.writes, sink.total / (80 * 1024)) << to_string(format);
    EXPECT_LT(sink.largest, 80u * 1024) << to_string(format);
  }
}

}  // namespace
}  // namespace duckmesh::query
