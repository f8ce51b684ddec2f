#include "duck/appender.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "duck/temporal.hpp"
#include "unit/duck/duck_test_support.hpp"

namespace duckmesh::duck {
namespace {

using testing::DuckTest;
using ::testing::ElementsAre;
using testing::expect_error;
using ::testing::HasSubstr;

using AppenderTest = DuckTest;

TEST_F(AppenderTest, RoundTripsEveryAppendableType) {
  // A session zone far from UTC: TIMESTAMPTZ values must not shift.
  conn.execute("SET TimeZone = 'Asia/Tokyo'");
  conn.execute(
      "CREATE TABLE everything(b BOOLEAN, i INTEGER, l BIGINT, u UBIGINT, d DOUBLE, s VARCHAR, "
      "dt DATE, ts TIMESTAMP, tz TIMESTAMPTZ, dec DECIMAL(20,2), h HUGEINT, bl BLOB)");
  const Timestamp ts = make_timestamp(2024, 5, 1, 10, 0, 0, 123456);
  const TimestampTz tz{make_timestamp(2024, 5, 1, 23, 30, 0).micros};
  const Decimal dec{static_cast<Int128>(12345678901234567891ULL), 20, 2};
  const Blob blob{std::string("\x00\xFE", 2)};
  {
    Appender appender(conn, "", "everything");
    EXPECT_EQ(appender.column_count(), 12u);
    appender.append_row(true, -5, std::numeric_limits<std::int64_t>::min(),
                        std::numeric_limits<std::uint64_t>::max(), 0.5,
                        std::string("a string longer than twelve bytes"), make_date(2024, 5, 1), ts,
                        tz, dec, HugeInt{-1}, blob);
    appender.append_row(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr, nullptr, nullptr);
    appender.close();
  }
  auto rows = conn.query("SELECT * FROM everything ORDER BY b NULLS LAST").fetch_all();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0], ElementsAre(Value{true}, Value{std::int64_t{-5}},
                                   Value{std::numeric_limits<std::int64_t>::min()},
                                   Value{std::numeric_limits<std::uint64_t>::max()}, Value{0.5},
                                   Value{std::string("a string longer than twelve bytes")},
                                   Value{make_date(2024, 5, 1)}, Value{ts}, Value{tz}, Value{dec},
                                   Value{HugeInt{-1}}, Value{blob}));
  for (const Value& v : rows[1]) EXPECT_TRUE(is_null(v));
}

TEST_F(AppenderTest, AppendsGenericValuesAndDefaults) {
  conn.execute("CREATE SCHEMA s; CREATE TABLE s.t(id INTEGER, name VARCHAR DEFAULT 'unnamed')");
  Appender appender(conn, "s", "t");
  appender.append(Value{std::int64_t{1}}).append(Value{std::string("one")});
  appender.end_row();
  appender.append(2).append_default();
  appender.end_row();
  appender.flush();
  auto rows = conn.query("SELECT id, name FROM s.t ORDER BY id").fetch_all();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], Value{std::string("one")});
  EXPECT_EQ(rows[1][1], Value{std::string("unnamed")});
  EXPECT_EQ(expect_error([&] { appender.append(Value{List{}}); }).code(), ErrorCode::invalid_input);
}

TEST_F(AppenderTest, LoadsManyRows) {
  conn.execute("CREATE TABLE t(i BIGINT, s VARCHAR)");
  Appender appender(conn, "", "t");
  for (std::int64_t i = 0; i < 50000; ++i) appender.append_row(i, "v" + std::to_string(i));
  appender.close();
  EXPECT_EQ(one("SELECT count(*) FROM t"), Value{std::int64_t{50000}});
  EXPECT_EQ(one("SELECT s FROM t WHERE i = 49999"), Value{std::string("v49999")});
}

TEST_F(AppenderTest, MissingTableIsAnErrorWithDuckDBsText) {
  Error e = expect_error([&] { Appender appender(conn, "", "no_such_table"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("no_such_table"));
}

TEST_F(AppenderTest, IncompleteRowsAndBadCastsFail) {
  conn.execute("CREATE TABLE t(a INTEGER, b INTEGER)");
  Appender appender(conn, "", "t");
  appender.append(1);
  Error e = expect_error([&] { appender.end_row(); });
  EXPECT_THAT(std::string(e.message()), HasSubstr("end of row"));
  EXPECT_THAT(std::string(e.message()), HasSubstr("column"));

  Appender casting(conn, "", "t");
  e = expect_error([&] { casting.append("not a number"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  EXPECT_THAT(std::string(e.message()), HasSubstr("not a number"));
}

TEST_F(AppenderTest, ConstraintViolationOnFlushIsAConflict) {
  conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)");
  Appender appender(conn, "", "t");
  appender.append_row(1);
  appender.append_row(1);
  Error e = expect_error([&] { appender.flush(); });
  EXPECT_EQ(e.code(), ErrorCode::conflict);
  EXPECT_THAT(std::string(e.message()), HasSubstr("constraint violation"));
  EXPECT_EQ(e.details().at("duckdb_error_type").as_string(), "Constraint");
}

TEST_F(AppenderTest, CloseIsIdempotentAndEndsAppending) {
  conn.execute("CREATE TABLE t(i INTEGER)");
  Appender appender(conn, "", "t");
  appender.append_row(1);
  appender.close();
  appender.close();
  EXPECT_EQ(one("SELECT count(*) FROM t"), Value{std::int64_t{1}});
  Error e = expect_error([&] { appender.append_row(2); });
  EXPECT_THAT(std::string(e.message()), HasSubstr("closed"));
  EXPECT_EQ(one("SELECT count(*) FROM t"), Value{std::int64_t{1}});
}

TEST_F(AppenderTest, DestructionFlushesPendingRows) {
  conn.execute("CREATE TABLE t(i INTEGER)");
  {
    Appender appender(conn, "", "t");
    appender.append_row(7);
  }
  EXPECT_EQ(one("SELECT sum(i) FROM t"), Value{HugeInt{7}});
}

}  // namespace
}  // namespace duckmesh::duck
