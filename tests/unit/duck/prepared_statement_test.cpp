#include "duck/prepared_statement.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "duck/temporal.hpp"
#include "unit/duck/duck_test_support.hpp"

namespace duckmesh::duck {
namespace {

using testing::DuckTest;
using testing::expect_error;
using ::testing::HasSubstr;

class PreparedStatementTest : public DuckTest {
 protected:
  // Binds `value` to `SELECT ?` (or `sql`) and returns the value and the
  // type DuckDB gave the result column.
  template <class T>
  std::pair<Value, std::string> round_trip(T&& value, const std::string& sql = "SELECT ?") {
    PreparedStatement ps = conn.prepare(sql);
    EXPECT_EQ(ps.parameter_count(), 1u);
    ps.bind(1, std::forward<T>(value));
    Result r = ps.execute();
    std::string type = r.column_type_name(0);
    auto v = r.scalar();
    EXPECT_TRUE(v.has_value());
    return {v ? *v : Value{}, type};
  }
};

TEST_F(PreparedStatementTest, BindsNull) {
  auto [v, type] = round_trip(nullptr, "SELECT ?::INTEGER");
  EXPECT_TRUE(is_null(v));
  EXPECT_EQ(type, "INTEGER");
}

TEST_F(PreparedStatementTest, BindsBooleans) {
  EXPECT_EQ(round_trip(true), (std::pair<Value, std::string>{true, "BOOLEAN"}));
  EXPECT_EQ(round_trip(false).first, Value{false});
}

TEST_F(PreparedStatementTest, BindsIntegersOfEveryWidth) {
  EXPECT_EQ(round_trip(std::int32_t{-7}),
            (std::pair<Value, std::string>{std::int64_t{-7}, "INTEGER"}));
  EXPECT_EQ(round_trip(std::numeric_limits<std::int64_t>::min()),
            (std::pair<Value, std::string>{std::numeric_limits<std::int64_t>::min(), "BIGINT"}));
  EXPECT_EQ(round_trip(std::numeric_limits<std::int64_t>::max()).first,
            Value{std::numeric_limits<std::int64_t>::max()});
  EXPECT_EQ(round_trip(std::numeric_limits<std::uint64_t>::max()),
            (std::pair<Value, std::string>{std::numeric_limits<std::uint64_t>::max(), "UBIGINT"}));
  EXPECT_EQ(round_trip(std::uint32_t{4000000000u}),
            (std::pair<Value, std::string>{std::uint64_t{4000000000u}, "UINTEGER"}));
  EXPECT_EQ(round_trip(static_cast<short>(-3)).second, "INTEGER");
  EXPECT_EQ(round_trip(5LL).second, "BIGINT");
}

TEST_F(PreparedStatementTest, BindsDoubles) {
  EXPECT_EQ(round_trip(0.1), (std::pair<Value, std::string>{0.1, "DOUBLE"}));
  EXPECT_EQ(round_trip(-1e300).first, Value{-1e300});
  EXPECT_EQ(round_trip(1.5f).first, Value{1.5});
  auto [inf, _] = round_trip(std::numeric_limits<double>::infinity());
  EXPECT_EQ(inf, Value{std::numeric_limits<double>::infinity()});
}

TEST_F(PreparedStatementTest, BindsStringsInlinedLongAndWithNulBytes) {
  EXPECT_EQ(round_trip("short"), (std::pair<Value, std::string>{std::string("short"), "VARCHAR"}));
  const std::string twelve = "exactly12byt";
  EXPECT_EQ(round_trip(twelve).first, Value{twelve});
  const std::string long_text = "a string well past the twelve inlined bytes, héllo wörld";
  EXPECT_EQ(round_trip(std::string_view(long_text)).first, Value{long_text});
  const std::string with_nul("a\0b", 3);
  EXPECT_EQ(round_trip(with_nul).first, Value{with_nul});
  EXPECT_EQ(round_trip(std::string()).first, Value{std::string()});
}

TEST_F(PreparedStatementTest, BindsDates) {
  EXPECT_EQ(round_trip(make_date(2024, 5, 1)),
            (std::pair<Value, std::string>{make_date(2024, 5, 1), "DATE"}));
  EXPECT_EQ(round_trip(make_date(1900, 2, 28)).first, Value{make_date(1900, 2, 28)});
  EXPECT_EQ(round_trip(Date{Date::kInfinity}).first, Value{Date{Date::kInfinity}});
  PreparedStatement ps = conn.prepare("SELECT ?::VARCHAR");
  ps.bind(1, make_date(-43, 3, 15));
  EXPECT_EQ(*ps.execute().scalar(), Value{std::string("0044-03-15 (BC)")});
}

TEST_F(PreparedStatementTest, BindsTimestamps) {
  const Timestamp ts = make_timestamp(2024, 5, 1, 10, 0, 0, 123456);
  EXPECT_EQ(round_trip(ts), (std::pair<Value, std::string>{ts, "TIMESTAMP"}));
  const Timestamp before_epoch = make_timestamp(1960, 5, 1, 10, 0, 0, 1);
  EXPECT_EQ(round_trip(before_epoch).first, Value{before_epoch});
  PreparedStatement ps = conn.prepare("SELECT ?::VARCHAR");
  ps.bind(1, ts);
  EXPECT_EQ(*ps.execute().scalar(), Value{std::string("2024-05-01 10:00:00.123456")});
}

TEST_F(PreparedStatementTest, BindsTimestampsWithTimeZoneAsInstants) {
  // A session zone far from UTC: the instant must not shift.
  conn.execute("SET TimeZone = 'America/New_York'");
  const TimestampTz ts{make_timestamp(2024, 5, 1, 10, 0, 0, 123456).micros};
  EXPECT_EQ(round_trip(ts), (std::pair<Value, std::string>{ts, "TIMESTAMP WITH TIME ZONE"}));
  PreparedStatement ps = conn.prepare("SELECT epoch_us(?)");
  ps.bind(1, ts);
  EXPECT_EQ(*ps.execute().scalar(), Value{ts.micros});
}

TEST_F(PreparedStatementTest, BindsDecimalsExactly) {
  const Decimal big{static_cast<Int128>(12345678901234567891ULL), 20, 2};
  auto [v, type] = round_trip(big);
  EXPECT_EQ(type, "DECIMAL(20,2)");
  EXPECT_EQ(v, Value{big});
  EXPECT_EQ(std::get<Decimal>(v).to_string(), "123456789012345678.91");
  EXPECT_EQ(round_trip(Decimal{-5, 4, 2}).first, (Value{Decimal{-5, 4, 2}}));
  EXPECT_EQ(expect_error([&] {
              conn.prepare("SELECT ?").bind(1, Decimal{1, 40, 2});
            }).code(),
            ErrorCode::invalid_input);
}

TEST_F(PreparedStatementTest, BindsHugeInts) {
  const Int128 max = static_cast<Int128>(~static_cast<UInt128>(0) >> 1);
  EXPECT_EQ(round_trip(HugeInt{max}), (std::pair<Value, std::string>{HugeInt{max}, "HUGEINT"}));
  EXPECT_EQ(round_trip(HugeInt{-max - 1}).first, Value{HugeInt{-max - 1}});
}

TEST_F(PreparedStatementTest, BindsBlobs) {
  const Blob blob{std::string("\x00\x01\xFF payload \x7F", 13)};
  EXPECT_EQ(round_trip(blob), (std::pair<Value, std::string>{blob, "BLOB"}));
  PreparedStatement ps = conn.prepare("SELECT octet_length(?)");
  ps.bind_blob(1, blob.bytes.data(), blob.bytes.size());
  EXPECT_EQ(*ps.execute().scalar(), Value{std::int64_t{13}});
}

TEST_F(PreparedStatementTest, BindsGenericValues) {
  const std::vector<Value> values = {Value{true},
                                     Value{std::int64_t{-9}},
                                     Value{std::uint64_t{9}},
                                     Value{2.5},
                                     Value{std::string("text")},
                                     Value{Blob{"bytes"}},
                                     Value{make_date(2024, 5, 1)},
                                     Value{make_timestamp(2024, 5, 1, 1, 2, 3)},
                                     Value{TimestampTz{123}},
                                     Value{Decimal{12345, 10, 3}},
                                     Value{HugeInt{5}}};
  for (const Value& value : values) {
    EXPECT_EQ(round_trip(value).first, value) << value_text(value);
  }
  auto [null_value, _] = round_trip(Value{}, "SELECT ?::VARCHAR");
  EXPECT_TRUE(is_null(null_value));
  PreparedStatement ps = conn.prepare("SELECT ?");
  EXPECT_EQ(expect_error([&] { ps.bind(1, Value{List{}}); }).code(), ErrorCode::invalid_input);
}

TEST_F(PreparedStatementTest, BindsNamedParameters) {
  PreparedStatement ps = conn.prepare("SELECT $amount * 2 AS doubled, $label || '!' AS label");
  EXPECT_EQ(ps.parameter_count(), 2u);
  ps.bind("amount", std::int64_t{21});
  ps.bind("label", "hi");
  Result r = ps.execute();
  auto rows = r.fetch_all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value{std::int64_t{42}});
  EXPECT_EQ(rows[0][1], Value{std::string("hi!")});
  EXPECT_EQ(ps.parameter_name(ps.parameter_index("label")), "label");

  Error e = expect_error([&] { ps.bind("nope", 1); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("nope"));
}

TEST_F(PreparedStatementTest, BindingsPersistUntilRebindOrClear) {
  conn.execute("CREATE TABLE t(i INTEGER)");
  PreparedStatement insert = conn.prepare("INSERT INTO t VALUES ($1)");
  EXPECT_EQ(insert.statement_type(), DUCKDB_STATEMENT_TYPE_INSERT);
  for (int i = 1; i <= 3; ++i) {
    insert.bind(1, i);
    EXPECT_EQ(insert.execute().rows_changed(), 1u);
  }
  EXPECT_EQ(insert.execute().rows_changed(), 1u);  // 3 again
  EXPECT_EQ(one("SELECT sum(i) FROM t"), Value{HugeInt{9}});

  insert.clear_bindings();
  Error e = expect_error([&] { insert.execute(); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
}

TEST_F(PreparedStatementTest, BindingAMissingIndexThrowsDuckDBsText) {
  PreparedStatement ps = conn.prepare("SELECT ?");
  Error e = expect_error([&] { ps.bind(5, 1); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("parameter 5"));
  EXPECT_EQ(expect_error([&] { ps.parameter_name(9); }).code(), ErrorCode::invalid_input);
}

TEST_F(PreparedStatementTest, FailedCastSurfacesFromExecute) {
  PreparedStatement ps = conn.prepare("SELECT ?::INTEGER");
  ps.bind(1, "not a number");
  Error e = expect_error([&] { ps.execute(); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("Conversion Error"));
}

TEST_F(PreparedStatementTest, StreamingResultOutlivesItsStatement) {
  Result r = conn.prepare("SELECT i FROM range(50000) t(i)").execute_streaming();
  EXPECT_TRUE(r.is_streaming());
  std::int64_t rows = 0;
  while (auto chunk = r.next_chunk()) rows += static_cast<std::int64_t>(chunk->size());
  EXPECT_EQ(rows, 50000);
}

}  // namespace
}  // namespace duckmesh::duck
