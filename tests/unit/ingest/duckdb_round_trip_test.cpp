// Canonical payloads read back by real DuckDB, staged and read exactly the
// way Coordinator::write_records does it: NDJSON with the system columns
// spliced in front, read_json with the declared column types, TIMESTAMP
// columns read as VARCHAR and cast through TIMESTAMPTZ, session TimeZone UTC.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "duck/temporal.hpp"
#include "unit/ingest/ingest_test_support.hpp"

namespace duckmesh::ingest {
namespace {

using duck::Value;
using testing::make_schema;

std::string sql_string(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

class RoundTripTest : public ::testing::Test {
 protected:
  RoundTripTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "duckmesh-ingest-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    conn_.execute("SET TimeZone='UTC'");
  }
  ~RoundTripTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Stages the payloads as the coordinator does and returns every row,
  // schema columns first, then _dm_position (and _dm_op when keyed).
  std::vector<std::vector<Value>> stage(const schema::TableSchema& table,
                                        const ValidationResult& result, bool keyed = false) {
    auto path = dir_ / "staging.ndjson";
    {
      std::ofstream out(path, std::ios::binary);
      std::uint64_t position = 0;
      for (const auto& event : result.valid) {
        // Binary payloads staged as their JSON, as the coordinator stages
        // them for a table that gained a json or list column.
        const std::string json = schema::payload_json(event.payload);
        std::string_view payload = json;
        out << "{\"" << schema::kPositionColumn << "\":" << ++position << ",\""
            << schema::kIngestedAtColumn << "\":1764064800000000";
        auto body = payload.substr(1);
        if (body.find_first_not_of(" \t\r\n") != std::string_view::npos && body[0] != '}')
          out << ',';
        out << body << '\n';
      }
    }
    std::string columns = "{";
    std::string select;
    for (const auto& c : table.columns) {
      bool temporal = c.type.kind == schema::TypeKind::timestamp;
      columns += sql_string(c.name) + ": " + sql_string(temporal ? "VARCHAR" : c.type.sql()) + ", ";
      if (temporal) {
        select += "CAST(CAST(" + schema::quote_identifier(c.name) +
                  " AS TIMESTAMPTZ) AS TIMESTAMP) AS " + schema::quote_identifier(c.name) + ", ";
      } else {
        select += schema::quote_identifier(c.name) + ", ";
      }
    }
    columns += sql_string(schema::kPositionColumn) + ": 'UBIGINT', " +
               sql_string(schema::kIngestedAtColumn) + ": 'BIGINT'";
    select += schema::quote_identifier(schema::kPositionColumn);
    if (keyed) {
      columns += ", " + sql_string(schema::kOperationColumn) + ": 'VARCHAR'";
      select += ", COALESCE(" + schema::quote_identifier(schema::kOperationColumn) +
                ", 'upsert') AS " + schema::quote_identifier(schema::kOperationColumn);
    }
    columns += "}";
    return conn_
        .query("SELECT " + select + " FROM read_json(" + sql_string(path.string()) +
               ", format='newline_delimited', columns=" + columns + ") ORDER BY " +
               schema::quote_identifier(schema::kPositionColumn))
        .fetch_all();
  }

  std::filesystem::path dir_;
  duck::Database db_{""};
  duck::Connection conn_{db_};
};

duck::Decimal decimal(duck::Int128 value, int width, int scale) {
  return duck::Decimal{value, static_cast<std::uint8_t>(width), static_cast<std::uint8_t>(scale)};
}

duck::Int128 int128(std::string_view digits) {
  duck::Int128 v = 0;
  bool negative = !digits.empty() && digits[0] == '-';
  for (char c : digits.substr(negative ? 1 : 0)) v = v * 10 + (c - '0');
  return negative ? -v : v;
}

TEST_F(RoundTripTest, EveryTypeReadsBackExactly) {
  auto table = make_schema(R"J([
      {"name":"b","type":"boolean"},
      {"name":"i","type":"integer"},
      {"name":"l","type":"bigint"},
      {"name":"d","type":"double"},
      {"name":"amount","type":"decimal(20,2)"},
      {"name":"wide","type":"decimal(38,10)"},
      {"name":"s","type":"varchar"},
      {"name":"code","type":"char(3)"},
      {"name":"day","type":"date"},
      {"name":"ts","type":"timestamp"},
      {"name":"tz","type":"timestamptz"},
      {"name":"u","type":"uuid"},
      {"name":"doc","type":"json"},
      {"name":"ints","type":"integer[]"},
      {"name":"stamps","type":"timestamp[]"},
      {"name":"prices","type":"decimal(5,2)[]"},
      {"name":"status","type":"varchar","default":"new"}])J");
  std::string body =
      R"({"b":true,"i":2147483647,"l":-9223372036854775808,"d":0.1,"amount":123456789012345678.91,)"
      R"("wide":"-1234567890123456789012345678.0123456789","s":"quote \" backslash \\ tab \t \u00e9",)"
      "\"code\":\"\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\",\"day\":\"2024-02-29\","
      R"("ts":"2026-11-25T10:00:00.123456+02:00","tz":"2026-11-25 23:30:00-01:00",)"
      R"("u":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11","doc":{"k":[1,"two",null,{"n":true}]},)"
      R"("ints":[1,null,-2147483648],"stamps":["2026-01-01T01:00:00+01:00",null],"prices":[1,"-999.99"]})"
      "\n"
      R"({"i":-2147483648,"l":9223372036854775807,"d":-1.7976931348623157e308,"amount":"-0.01",)"
      R"("wide":"9999999999999999999999999999.9999999999","tz":"0001-01-01T00:00:00Z","doc":"just text",)"
      R"("ts":"9999-12-31 23:59:59.999999","status":"paid"})"
      "\n";
  auto result = validate_events(body, BodyFormat::ndjson, table, {});
  ASSERT_EQ(result.valid.size(), 2u) << (result.rejected.empty() ? "" : result.rejected[0].message);
  auto rows = stage(table, result);
  ASSERT_EQ(rows.size(), 2u);

  const auto& r = rows[0];
  EXPECT_EQ(r[0], Value{true});
  EXPECT_EQ(r[1], Value{std::int64_t{2147483647}});
  EXPECT_EQ(r[2], Value{std::numeric_limits<std::int64_t>::min()});
  EXPECT_EQ(r[3], Value{0.1});
  EXPECT_EQ(r[4], Value{decimal(int128("12345678901234567891"), 20, 2)});
  EXPECT_EQ(r[5], Value{decimal(int128("-12345678901234567890123456780123456789"), 38, 10)});
  EXPECT_EQ(r[6], Value{std::string("quote \" backslash \\ tab \t \xC3\xA9")});
  EXPECT_EQ(r[7], Value{std::string("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC")});
  EXPECT_EQ(r[8], Value{duck::make_date(2024, 2, 29)});
  EXPECT_EQ(r[9], Value{duck::make_timestamp(2026, 11, 25, 8, 0, 0, 123456)});
  EXPECT_EQ(r[10], Value{duck::TimestampTz{duck::make_timestamp(2026, 11, 26, 0, 30, 0).micros}});
  EXPECT_EQ(r[11], Value{std::string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")});
  EXPECT_EQ(r[12], Value{std::string(R"({"k":[1,"two",null,{"n":true}]})")});
  duck::List ints{{Value{std::int64_t{1}}, Value{}, Value{std::int64_t{-2147483648}}}};
  EXPECT_EQ(r[13], Value{ints});
  duck::List stamps{{Value{duck::make_timestamp(2026, 1, 1, 0, 0, 0)}, Value{}}};
  EXPECT_EQ(r[14], Value{stamps});
  duck::List prices{{Value{decimal(100, 5, 2)}, Value{decimal(-99999, 5, 2)}}};
  EXPECT_EQ(r[15], Value{prices});
  EXPECT_EQ(r[16], Value{std::string("new")});  // the default

  const auto& q = rows[1];
  EXPECT_TRUE(duck::is_null(q[0]));
  EXPECT_EQ(q[1], Value{std::int64_t{-2147483648}});
  EXPECT_EQ(q[2], Value{std::numeric_limits<std::int64_t>::max()});
  EXPECT_EQ(q[3], Value{-1.7976931348623157e308});
  EXPECT_EQ(q[4], Value{decimal(-1, 20, 2)});
  EXPECT_EQ(q[5], Value{decimal(int128("99999999999999999999999999999999999999"), 38, 10)});
  EXPECT_TRUE(duck::is_null(q[6]));
  EXPECT_EQ(q[9], Value{duck::make_timestamp(9999, 12, 31, 23, 59, 59, 999999)});
  EXPECT_EQ(q[10], Value{duck::TimestampTz{duck::make_timestamp(1, 1, 1, 0, 0, 0).micros}});
  // A JSON string value stays a JSON string: the document is the value.
  EXPECT_EQ(q[12], Value{std::string("\"just text\"")});
  EXPECT_TRUE(duck::is_null(q[13]));
  EXPECT_EQ(q[16], Value{std::string("paid")});
}

TEST_F(RoundTripTest, KeyedOperations) {
  auto table = make_schema(R"([{"name":"id","type":"bigint","nullable":false},
                               {"name":"name","type":"varchar","nullable":false}])");
  ValidatorOptions options;
  options.keyed = true;
  options.primary_key = {"id"};
  auto result = validate_events(
      R"([{"id":1,"name":"a"},{"_op":"delete","id":2},{"_op":"upsert","id":3,"name":"c"}])",
      BodyFormat::json, table, options);
  ASSERT_EQ(result.valid.size(), 3u);
  auto rows = stage(table, result, true);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][3], Value{std::string("upsert")});
  EXPECT_EQ(rows[1][0], Value{std::int64_t{2}});
  EXPECT_TRUE(duck::is_null(rows[1][1]));
  EXPECT_EQ(rows[1][3], Value{std::string("delete")});
  EXPECT_EQ(rows[2][3], Value{std::string("upsert")});
}

TEST_F(RoundTripTest, DecimalsAsJsonNumbersWouldLoseDigits) {
  // Why decimals travel as strings: the same digits as a JSON number pass
  // through a double in read_json and come back changed.
  auto path = dir_ / "numbers.ndjson";
  std::ofstream(path) << "{\"a\":123456789012345678.91,\"b\":\"123456789012345678.91\"}\n";
  auto rows =
      conn_
          .query(
              "SELECT a, b FROM read_json(" + sql_string(path.string()) +
              ", format='newline_delimited', columns={'a': 'DECIMAL(20,2)', 'b': 'DECIMAL(20,2)'})")
          .fetch_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], Value{decimal(int128("12345678901234567891"), 20, 2)});
  EXPECT_NE(rows[0][0], rows[0][1]);
}

}  // namespace
}  // namespace duckmesh::ingest
