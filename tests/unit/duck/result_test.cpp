#include "duck/result.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "duck/keywords.hpp"
#include "duck/temporal.hpp"
#include "unit/duck/duck_test_support.hpp"

namespace duckmesh::duck {
namespace {

using testing::DuckTest;
using testing::expect_error;
using ::testing::HasSubstr;

class ResultTest : public DuckTest {
 protected:
  void SetUp() override { conn.execute("SET TimeZone = 'UTC'"); }

  // The first chunk of `sql`, which must have rows.
  DataChunk first_chunk(Result& r) {
    auto chunk = r.next_chunk();
    if (!chunk) throw std::runtime_error("query returned no rows");
    return std::move(*chunk);
  }
};

// Every expression is read back three ways and compared with DuckDB itself:
// the type name against typeof(), to_text() against CAST(x AS VARCHAR).
TEST_F(ResultTest, TypeNamesAndTextMatchDuckDB) {
  const std::vector<std::string> expressions = {
      "true",
      "42::TINYINT",
      "-42::SMALLINT",
      "2147483647::INTEGER",
      "(-9223372036854775808)::BIGINT",
      "255::UTINYINT",
      "65535::USMALLINT",
      "4294967295::UINTEGER",
      "18446744073709551615::UBIGINT",
      "170141183460469231731687303715884105727::HUGEINT",
      "340282366920938463463374607431768211455::UHUGEINT",
      "1.1::FLOAT",
      "3.4e38::FLOAT",
      "16777216.0::FLOAT",
      "1.0::DOUBLE",
      "0.1::DOUBLE",
      "1e15::DOUBLE",
      "1e16::DOUBLE",
      "0.0001::DOUBLE",
      "0.00001::DOUBLE",
      "-1.5e-300::DOUBLE",
      "123456789012345680000.0::DOUBLE",
      "'nan'::DOUBLE",
      "'-inf'::DOUBLE",
      "2::DOUBLE / 3",
      "1.5::DECIMAL(4,2)",
      "-0.05::DECIMAL(9,2)",
      "123456789.123::DECIMAL(18,3)",
      "DECIMAL(20,2) '123456789012345678.91'",
      "'-12345678901234567890.123456789012345678'::DECIMAL(38,18)",
      "'hello'",
      "'a string longer than twelve bytes'",
      "'{\"a\": 1}'::JSON",
      "'\\xAA\\x41\\x5C\\x27\\x00 z'::BLOB",
      "DATE '2024-05-01'",
      "DATE '-0043-03-15'",
      "DATE 'infinity'",
      "TIME '10:00:00.120'",
      "TIME '24:00:00'",
      "TIMETZ '10:00:00+05:30'",
      "TIMETZ '10:00:00.5-08'",
      "TIMESTAMP '2024-05-01 10:00:00.5'",
      "TIMESTAMP '1960-05-01 10:00:00.000001'",
      "TIMESTAMP '-0043-03-15 10:00:00'",
      "TIMESTAMP '-infinity'",
      "TIMESTAMP_S '2024-05-01 10:00:00'",
      "TIMESTAMP_MS '1900-01-01 00:00:00.001'",
      "TIMESTAMP_NS '2024-05-01 10:00:00.123456789'",
      "TIMESTAMP_NS '1960-05-01 10:00:00.000000001'",
      "TIMESTAMPTZ '2024-05-01 10:00:00.25+02'",
      "TIMESTAMPTZ 'infinity'",
      "INTERVAL '1 year 2 months 3 days 04:05:06.5'",
      "INTERVAL '-14 months'",
      "INTERVAL '0 seconds'",
      "INTERVAL '-04:05:06'",
      "'6a7b8c9d-0000-4000-8000-000000000001'::UUID",
      "'00000000-0000-0000-0000-000000000000'::UUID",
      "'b'::ENUM('a', 'b', 'it''s')",
      "[1, 2, NULL]",
      "[]::INTEGER[]",
      "[[1, 2], [3], NULL, []]",
      "[1, 2]::INTEGER[2]",
      "['a', 'b c', 'd,e', 'it''s', '', NULL, ' lead', 'x\"y', '[q]', 'NULL', 'a:b', 'a=b', "
      "'a\\b']",
      "[DATE '2024-01-01', DATE '-0043-03-15']",
      "[TIMESTAMP '2024-01-01 10:00:00', NULL]",
      "[TIMESTAMPTZ '2024-01-01 00:00:00+00']",
      "[INTERVAL '1 day', INTERVAL '1 hour']",
      "[1.5::DOUBLE, 2.0]",
      "['\\xAA'::BLOB]",
      "{'a': 1, 'b': 'x y', 'c': [1, 2]}",
      "{'name': 1, 'Select': 2, 'a b': 3, 'A1': 4, 'x\"y': 5}",
      "{'a': {'b': NULL::INTEGER}, 'k': 'it''s'}",
      "[{'a': 'x,y'}, NULL]",
      "MAP {'k': 1, 'k2': 2}",
      "MAP {'k a': 'v,1'}",
      "MAP {1: [1, 2]}",
      "{'x': MAP {'a': 1}}",
      "[[1]]::INTEGER[1][]",
  };
  for (const std::string& expr : expressions) {
    SCOPED_TRACE(expr);
    try {
      Result r =
          conn.query("SELECT x, CAST(x AS VARCHAR), typeof(x) FROM (SELECT " + expr + " AS x)");
      DataChunk chunk = first_chunk(r);
      EXPECT_EQ(r.column_type_name(0), chunk.get_string(2, 0));
      EXPECT_EQ(chunk.column(0).type_name(), r.column_type_name(0));
      EXPECT_EQ(chunk.to_text(0, 0), chunk.get_string(1, 0));
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST_F(ResultTest, StructFieldKeywordsMatchTheLibrary) {
  // The embedded keyword list must agree with the running DuckDB.
  Result r = conn.query("SELECT keyword_name FROM duckdb_keywords() ORDER BY keyword_name");
  std::vector<std::string> live;
  while (auto chunk = r.next_chunk()) {
    for (idx_t i = 0; i < chunk->size(); ++i) live.push_back(chunk->get_string(0, i));
  }
  std::vector<std::string> embedded(duckdb_keywords().begin(), duckdb_keywords().end());
  EXPECT_EQ(embedded, live);
}

TEST_F(ResultTest, ReadsEveryScalarTypeWithTypedAccessors) {
  Result r = conn.query(
      "SELECT true, -7::INTEGER, -9223372036854775807::BIGINT, 18446744073709551615::UBIGINT, "
      "0.25::DOUBLE, 'short', 'a string past twelve bytes', DATE '2024-05-01', "
      "TIMESTAMP '2024-05-01 10:00:00.123456', TIMESTAMPTZ '2024-05-01 12:00:00.123456+02', "
      "TIMESTAMP_NS '1969-12-31 23:59:59.999999999', '\\x00\\xFF'::BLOB, 'b'::ENUM('a', 'b')");
  DataChunk c = first_chunk(r);
  ASSERT_EQ(c.size(), 1u);
  ASSERT_EQ(c.column_count(), 13u);
  EXPECT_TRUE(c.get_bool(0, 0));
  EXPECT_EQ(c.get_int32(1, 0), -7);
  EXPECT_EQ(c.get_int64(1, 0), -7);
  EXPECT_EQ(c.get_int64(2, 0), -9223372036854775807LL);
  EXPECT_EQ(c.get_uint64(3, 0), std::numeric_limits<std::uint64_t>::max());
  EXPECT_DOUBLE_EQ(c.get_double(4, 0), 0.25);
  EXPECT_EQ(c.get_string(5, 0), "short");
  EXPECT_EQ(c.get_string_view(6, 0), "a string past twelve bytes");
  EXPECT_EQ(c.get_date(7, 0), make_date(2024, 5, 1));
  EXPECT_EQ(c.get_timestamp(8, 0), make_timestamp(2024, 5, 1, 10, 0, 0, 123456));
  EXPECT_EQ(c.get_timestamp(9, 0), make_timestamp(2024, 5, 1, 10, 0, 0, 123456));
  EXPECT_EQ(c.get_value(9, 0),
            Value{TimestampTz{make_timestamp(2024, 5, 1, 10, 0, 0, 123456).micros}});
  EXPECT_EQ(c.get_timestamp(10, 0), Timestamp{-1});  // truncated toward -infinity
  EXPECT_EQ(c.get_string(11, 0), std::string("\x00\xFF", 2));
  EXPECT_EQ(c.get_value(11, 0), Value{Blob{std::string("\x00\xFF", 2)}});
  EXPECT_EQ(c.get_string(12, 0), "b");
  EXPECT_EQ(c.get_value(12, 0), Value{std::string("b")});
}

TEST_F(ResultTest, AccessorsRefuseTheWrongTypeNullsAndBadIndexes) {
  Result r = conn.query("SELECT 'text', NULL::INTEGER, 300::INTEGER, -1::INTEGER");
  DataChunk c = first_chunk(r);
  EXPECT_EQ(expect_error([&] { c.get_int64(0, 0); }).code(), ErrorCode::internal);
  EXPECT_THAT(std::string(expect_error([&] { c.get_int64(0, 0); }).message()),
              HasSubstr("VARCHAR value cannot be read as BIGINT"));
  EXPECT_THAT(std::string(expect_error([&] { c.get_int32(1, 0); }).message()), HasSubstr("NULL"));
  EXPECT_EQ(expect_error([&] { c.get_bool(2, 0); }).code(), ErrorCode::internal);
  EXPECT_EQ(expect_error([&] { c.get_uint64(3, 0); }).code(), ErrorCode::internal);
  EXPECT_EQ(expect_error([&] { c.get_int32(0, 1); }).code(), ErrorCode::internal);
  EXPECT_EQ(expect_error([&] { c.column(4); }).code(), ErrorCode::internal);
  EXPECT_EQ(c.get_int64(2, 0), 300);
  EXPECT_EQ(expect_error([&] { r.column_name(9); }).code(), ErrorCode::internal);
}

TEST_F(ResultTest, NullsOfEveryTypeReadAsNull) {
  const std::vector<std::string> types = {"BOOLEAN",
                                          "TINYINT",
                                          "SMALLINT",
                                          "INTEGER",
                                          "BIGINT",
                                          "UBIGINT",
                                          "HUGEINT",
                                          "FLOAT",
                                          "DOUBLE",
                                          "DECIMAL(20,2)",
                                          "VARCHAR",
                                          "BLOB",
                                          "DATE",
                                          "TIME",
                                          "TIMESTAMP",
                                          "TIMESTAMPTZ",
                                          "TIMESTAMP_NS",
                                          "INTERVAL",
                                          "UUID",
                                          "INTEGER[]",
                                          "STRUCT(a INTEGER)",
                                          "MAP(VARCHAR, INTEGER)",
                                          "INTEGER[2]"};
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < types.size(); ++i) sql += (i ? ", NULL::" : "NULL::") + types[i];
  Result r = conn.query(sql);
  DataChunk c = first_chunk(r);
  for (idx_t col = 0; col < c.column_count(); ++col) {
    SCOPED_TRACE(types[col]);
    EXPECT_TRUE(c.is_null(col, 0));
    EXPECT_TRUE(is_null(c.get_value(col, 0)));
    EXPECT_EQ(c.to_text(col, 0), "NULL");
  }
  EXPECT_EQ(expect_error([&] { c.get_decimal(9, 0); }).code(), ErrorCode::internal);
  EXPECT_EQ(expect_error([&] { c.get_timestamp(15, 0); }).code(), ErrorCode::internal);
}

TEST_F(ResultTest, ReadsDecimalsOfEveryStorageWidth) {
  Result r = conn.query(
      "SELECT -12.34::DECIMAL(4,2), 1234567.89::DECIMAL(9,2), 1234567890123456.78::DECIMAL(18,2), "
      "DECIMAL(20,2) '123456789012345678.91', "
      "'-99999999999999999999999999999999999999'::DECIMAL(38,0)");
  DataChunk c = first_chunk(r);
  EXPECT_EQ(c.get_decimal(0, 0), (Decimal{-1234, 4, 2}));
  EXPECT_EQ(c.get_decimal(1, 0), (Decimal{123456789, 9, 2}));
  EXPECT_EQ(c.get_decimal(2, 0), (Decimal{123456789012345678, 18, 2}));
  Decimal big = c.get_decimal(3, 0);
  EXPECT_EQ(big, (Decimal{static_cast<Int128>(12345678901234567891ULL), 20, 2}));
  EXPECT_EQ(big.to_string(), "123456789012345678.91");
  EXPECT_EQ(c.get_decimal(4, 0).to_string(), "-99999999999999999999999999999999999999");
  EXPECT_DOUBLE_EQ(c.get_double(0, 0), -12.34);
  EXPECT_EQ(r.column_type_name(3), "DECIMAL(20,2)");
}

TEST_F(ResultTest, ReadsListsThroughOffsetsIntoTheChildVector) {
  Result r = conn.query("SELECT * FROM (VALUES ([1, NULL, 3]), ([]), (NULL), ([40])) t(l)");
  EXPECT_EQ(r.column_type_name(0), "INTEGER[]");
  DataChunk c = first_chunk(r);
  ASSERT_EQ(c.size(), 4u);
  VectorReader elements = c.column(0).list_child();
  EXPECT_EQ(elements.type_name(), "INTEGER");

  ListEntry first = c.get_list(0, 0);
  ASSERT_EQ(first.length, 3u);
  EXPECT_EQ(elements.get_int32(first.offset), 1);
  EXPECT_TRUE(elements.is_null(first.offset + 1));
  EXPECT_EQ(elements.get_int32(first.offset + 2), 3);
  EXPECT_EQ(c.get_list(0, 1).length, 0u);
  EXPECT_TRUE(c.is_null(0, 2));
  ListEntry last = c.get_list(0, 3);
  ASSERT_EQ(last.length, 1u);
  EXPECT_EQ(elements.get_int64(last.offset), 40);

  EXPECT_EQ(c.get_value(0, 0), (Value{List{{std::int64_t{1}, std::monostate{}, std::int64_t{3}}}}));
  EXPECT_EQ(c.get_value(0, 1), Value{List{}});
  EXPECT_TRUE(is_null(c.get_value(0, 2)));
}

TEST_F(ResultTest, ReadsNestedStructsMapsAndArrays) {
  Result r = conn.query(
      "SELECT {'id': 7, 'tags': ['a', 'b'], 'at': TIMESTAMPTZ '2024-05-01 10:00:00+00'} AS s, "
      "MAP {'k': 1.5::DOUBLE} AS m, [1, 2, 3]::BIGINT[3] AS a");
  DataChunk c = first_chunk(r);

  VectorReader s = c.column(0);
  ASSERT_EQ(s.field_count(), 3u);
  EXPECT_EQ(s.field_name(1), "tags");
  EXPECT_EQ(s.field(0).get_int32(0), 7);
  const Value expected_struct = Struct{{
      {"id", std::int64_t{7}},
      {"tags", List{{std::string("a"), std::string("b")}}},
      {"at", TimestampTz{make_timestamp(2024, 5, 1, 10, 0, 0).micros}},
  }};
  EXPECT_EQ(c.get_value(0, 0), expected_struct);

  EXPECT_EQ(c.get_value(1, 0),
            (Value{List{{Struct{{{"key", std::string("k")}, {"value", 1.5}}}}}}));
  ListEntry entry = c.get_list(1, 0);
  EXPECT_EQ(c.column(1).list_child().field(0).get_string(entry.offset), "k");

  EXPECT_EQ(r.column_type_name(2), "BIGINT[3]");
  ListEntry array_entry = c.get_list(2, 0);
  EXPECT_EQ(array_entry, (ListEntry{0, 3}));
  EXPECT_EQ(c.column(2).list_child().get_int64(2), 3);
  EXPECT_EQ(c.get_value(2, 0), (Value{List{{std::int64_t{1}, std::int64_t{2}, std::int64_t{3}}}}));
}

TEST_F(ResultTest, UnsupportedTypesNameThemselves) {
  Result r = conn.query("SELECT union_value(a := 1) AS u, 42");
  DataChunk c = first_chunk(r);
  EXPECT_EQ(r.column_type_name(0), "UNION(a INTEGER)");
  Error e = expect_error([&] { c.get_value(0, 0); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("UNION(a INTEGER)"));
  EXPECT_EQ(c.get_value(1, 0), Value{std::int64_t{42}});
}

TEST_F(ResultTest, MaterializedResultsComeInVectorSizedChunks) {
  Result r = conn.query("SELECT i, i::VARCHAR AS s FROM range(100000) t(i)");
  idx_t chunks = 0;
  std::int64_t rows = 0;
  std::int64_t sum = 0;
  while (auto chunk = r.next_chunk()) {
    ++chunks;
    EXPECT_LE(chunk->size(), 2048u);
    for (idx_t i = 0; i < chunk->size(); ++i) {
      const std::int64_t v = chunk->get_int64(0, i);
      ASSERT_EQ(chunk->get_string(1, i), std::to_string(v));
      sum += v;
    }
    rows += static_cast<std::int64_t>(chunk->size());
  }
  EXPECT_EQ(rows, 100000);
  EXPECT_EQ(sum, 100000LL * 99999 / 2);
  EXPECT_GE(chunks, 49u);
  EXPECT_FALSE(r.next_chunk().has_value());
}

TEST_F(ResultTest, StreamingResultsDeliverManyChunks) {
  Result r = conn.query_streaming("SELECT i, 'row ' || i AS label FROM range(100000) t(i)");
  EXPECT_TRUE(r.is_streaming());
  EXPECT_EQ(r.column_names(), (std::vector<std::string>{"i", "label"}));
  idx_t chunks = 0;
  std::int64_t rows = 0;
  std::int64_t sum = 0;
  while (auto chunk = r.next_chunk()) {
    ++chunks;
    for (idx_t i = 0; i < chunk->size(); ++i) {
      const std::int64_t v = chunk->get_int64(0, i);
      ASSERT_EQ(chunk->get_string(1, i), "row " + std::to_string(v));
      sum += v;
    }
    rows += static_cast<std::int64_t>(chunk->size());
  }
  EXPECT_EQ(rows, 100000);
  EXPECT_EQ(sum, 100000LL * 99999 / 2);
  EXPECT_GE(chunks, 49u);
}

TEST_F(ResultTest, StreamingErrorsSurfaceFromNextChunk) {
  // One thread: with several, DuckDB may report a sibling task's
  // interruption ("INTERRUPT Error: Interrupted!") instead of the error that
  // caused it, whichever task the stream meets first.
  conn.execute("SET threads = 1");
  Result r = conn.query_streaming(
      "SELECT CASE WHEN i < 5000000 THEN i ELSE error('late failure') END AS x "
      "FROM range(10000000) t(i)");
  std::int64_t rows = 0;
  Error e = expect_error([&] {
    while (auto chunk = r.next_chunk()) rows += static_cast<std::int64_t>(chunk->size());
  });
  EXPECT_GT(rows, 0);
  EXPECT_LT(rows, 10000000);
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("late failure"));
}

TEST_F(ResultTest, AnotherStatementEndsAStream) {
  Result r = conn.query_streaming("SELECT i FROM range(1000000) t(i)");
  ASSERT_TRUE(r.next_chunk().has_value());
  EXPECT_EQ(one("SELECT 1"), Value{std::int64_t{1}});
  Error e = expect_error([&] {
    while (r.next_chunk()) {
    }
  });
  EXPECT_FALSE(std::string(e.message()).empty());
}

TEST_F(ResultTest, StreamingRequiresExactlyOneStatement) {
  EXPECT_EQ(expect_error([&] { conn.query_streaming("SELECT 1; SELECT 2"); }).code(),
            ErrorCode::invalid_input);
}

TEST_F(ResultTest, ScalarAndFetchAll) {
  EXPECT_EQ(one("SELECT 'x'"), Value{std::string("x")});
  EXPECT_FALSE(conn.query("SELECT 1 WHERE false").scalar().has_value());
  auto null_value = conn.query("SELECT NULL").scalar();
  ASSERT_TRUE(null_value.has_value());
  EXPECT_TRUE(is_null(*null_value));

  auto rows = conn.query("SELECT i, i * 2 FROM range(3) t(i) ORDER BY i").fetch_all();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2][1], Value{std::int64_t{4}});
}

TEST_F(ResultTest, ConstantColumnsReadOnEveryRow) {
  Result r = conn.query("SELECT 'same' AS s, 5 AS n, i FROM range(3000) t(i)");
  std::int64_t rows = 0;
  while (auto chunk = r.next_chunk()) {
    for (idx_t i = 0; i < chunk->size(); ++i) {
      ASSERT_EQ(chunk->get_string(0, i), "same");
      ASSERT_EQ(chunk->get_int32(1, i), 5);
    }
    rows += static_cast<std::int64_t>(chunk->size());
  }
  EXPECT_EQ(rows, 3000);
}

TEST_F(ResultTest, MovedResultKeepsItsRows) {
  Result a = conn.query("SELECT 9");
  Result b(std::move(a));
  EXPECT_EQ(*b.scalar(), Value{std::int64_t{9}});
  // Reading the moved-from object is what this test checks.
  // NOLINTNEXTLINE(clang-analyzer-cplusplus.Move)
  EXPECT_EQ(expect_error([&] { a.next_chunk(); }).code(), ErrorCode::internal);
}

}  // namespace
}  // namespace duckmesh::duck
