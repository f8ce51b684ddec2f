#include "duck/temporal.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "unit/duck/duck_test_support.hpp"

namespace duckmesh::duck {
namespace {

using testing::expect_error;

TEST(Temporal, CivilConversionsAgreeOnKnownDays) {
  EXPECT_EQ(civil_from_days(0), (CivilDate{1970, 1, 1}));
  EXPECT_EQ(civil_from_days(-1), (CivilDate{1969, 12, 31}));
  EXPECT_EQ(civil_from_days(19844), (CivilDate{2024, 5, 1}));
  EXPECT_EQ(civil_from_days(11016), (CivilDate{2000, 2, 29}));
  EXPECT_EQ(days_from_civil(2024, 5, 1), 19844);
  EXPECT_EQ(days_from_civil(1, 1, 1), -719162);
  EXPECT_EQ(days_from_civil(0, 12, 31), -719163);
}

TEST(Temporal, CivilConversionsRoundTripAcrossEras) {
  for (std::int64_t days = -3'000'000; days <= 3'000'000; days += 997) {
    CivilDate c = civil_from_days(days);
    ASSERT_EQ(days_from_civil(c.year, c.month, c.day), days) << days;
    ASSERT_GE(c.month, 1u);
    ASSERT_LE(c.month, 12u);
    ASSERT_GE(c.day, 1u);
    ASSERT_LE(c.day, 31u);
  }
}

TEST(Temporal, MakeDateRejectsImpossibleDates) {
  EXPECT_EQ(make_date(2024, 2, 29).days, 19782);
  EXPECT_EQ(expect_error([] { make_date(2023, 2, 29); }).code(), ErrorCode::invalid_input);
  EXPECT_EQ(expect_error([] { make_date(2024, 13, 1); }).code(), ErrorCode::invalid_input);
  EXPECT_EQ(expect_error([] { make_date(2024, 4, 31); }).code(), ErrorCode::invalid_input);
  EXPECT_EQ(expect_error([] { make_date(2024, 1, 0); }).code(), ErrorCode::invalid_input);
  EXPECT_EQ(expect_error([] { make_date(9'000'000, 1, 1); }).code(), ErrorCode::invalid_input);
}

TEST(Temporal, MakeTimestampCombinesDateAndTime) {
  EXPECT_EQ(make_timestamp(1970, 1, 1, 0, 0, 0).micros, 0);
  EXPECT_EQ(make_timestamp(2024, 5, 1, 10, 0, 0, 123456).micros, 1714557600123456);
  EXPECT_EQ(make_timestamp(1969, 12, 31, 23, 59, 59, 999999).micros, -1);
  EXPECT_EQ(expect_error([] { make_timestamp(2024, 5, 1, 24, 0, 0); }).code(),
            ErrorCode::invalid_input);
  EXPECT_EQ(expect_error([] { make_timestamp(2024, 5, 1, 1, 60, 0); }).code(),
            ErrorCode::invalid_input);
  EXPECT_EQ(expect_error([] { make_timestamp(2024, 5, 1, 1, 0, 0, 1'000'000); }).code(),
            ErrorCode::invalid_input);
}

TEST(Temporal, FormatsLikeDuckDB) {
  EXPECT_EQ(format_date(make_date(2024, 5, 1)), "2024-05-01");
  EXPECT_EQ(format_date(make_date(-43, 3, 15)), "0044-03-15 (BC)");
  EXPECT_EQ(format_date(make_date(10000, 1, 1)), "10000-01-01");
  EXPECT_EQ(format_date(Date{Date::kInfinity}), "infinity");
  EXPECT_EQ(format_date(Date{Date::kNegativeInfinity}), "-infinity");

  EXPECT_EQ(format_time(0), "00:00:00");
  EXPECT_EQ(format_time(36'000'120'000), "10:00:00.12");
  EXPECT_EQ(format_time(kMicrosPerDay), "24:00:00");

  EXPECT_EQ(format_timestamp(make_timestamp(2024, 5, 1, 10, 0, 0, 500000)),
            "2024-05-01 10:00:00.5");
  EXPECT_EQ(format_timestamp(make_timestamp(2024, 5, 1, 10, 0, 0, 123456)),
            "2024-05-01 10:00:00.123456");
  EXPECT_EQ(format_timestamp(Timestamp{-1}), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(format_timestamp(make_timestamp(-43, 3, 15, 10, 0, 0)), "0044-03-15 (BC) 10:00:00");
  EXPECT_EQ(format_timestamp(Timestamp{Timestamp::kNegativeInfinity}), "-infinity");
  EXPECT_EQ(format_timestamp(TimestampTz{make_timestamp(2024, 5, 1, 8, 0, 0, 250000).micros}),
            "2024-05-01 08:00:00.25+00");
  EXPECT_EQ(format_timestamp(TimestampTz{Timestamp::kInfinity}), "infinity");

  EXPECT_EQ(format_timestamp_ns(1714557600123456789), "2024-05-01 10:00:00.123456789");
  EXPECT_EQ(format_timestamp_ns(-1), "1969-12-31 23:59:59.999999999");
}

TEST(Temporal, FormatsIntervalsLikeDuckDB) {
  EXPECT_EQ(format_interval(14, 3, 4 * 3'600'000'000LL + 5 * 60'000'000LL + 6'500'000),
            "1 year 2 months 3 days 04:05:06.5");
  EXPECT_EQ(format_interval(0, -1, 0), "-1 day");
  EXPECT_EQ(format_interval(0, 0, 0), "00:00:00");
  EXPECT_EQ(format_interval(-14, 0, 0), "-1 year -2 months");
  EXPECT_EQ(format_interval(0, 0, -(4 * 3'600'000'000LL + 5 * 60'000'000LL + 6'000'000)),
            "-04:05:06");
  EXPECT_EQ(format_interval(0, 0, 100000LL * 3'600'000'000LL), "100000:00:00");
}

TEST(Temporal, WritesRfc3339InUtcWithOptionalFraction) {
  EXPECT_EQ(to_rfc3339(make_timestamp(2024, 5, 1, 10, 0, 0, 123456)),
            "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(to_rfc3339(make_timestamp(2024, 5, 1, 10, 0, 0)), "2024-05-01T10:00:00Z");
  EXPECT_EQ(to_rfc3339(make_timestamp(2024, 5, 1, 10, 0, 0, 100000)),
            "2024-05-01T10:00:00.100000Z");
  EXPECT_EQ(to_rfc3339(TimestampTz{-1}), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(to_rfc3339(Timestamp{Timestamp::kInfinity}), "infinity");
  EXPECT_EQ(to_iso8601(make_date(2024, 5, 1)), "2024-05-01");
  EXPECT_EQ(to_iso8601(make_date(-43, 3, 15)), "-0043-03-15");
  EXPECT_EQ(to_iso8601(make_date(0, 1, 1)), "0000-01-01");
  EXPECT_EQ(to_iso8601(make_date(10000, 1, 1)), "+10000-01-01");
  EXPECT_EQ(to_iso8601(Date{Date::kNegativeInfinity}), "-infinity");
}

}  // namespace
}  // namespace duckmesh::duck
