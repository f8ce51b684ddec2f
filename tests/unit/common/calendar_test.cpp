// calendar::iso_utc: the one spelling of instants in the API and the logs.
#include "common/calendar.hpp"

#include <gtest/gtest.h>

namespace duckmesh::calendar {
namespace {

TEST(CalendarTest, InstantsAreWrittenInUtcWithMicroseconds) {
  EXPECT_EQ(iso_utc(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(iso_utc(1'764'064'348'123'456), "2025-11-25T09:52:28.123456Z");
  EXPECT_EQ(iso_utc(1'000'001), "1970-01-01T00:00:01.000001Z");
  // Before 1970 the fraction still counts forward from the second before.
  EXPECT_EQ(iso_utc(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(iso_utc(-1'500'000), "1969-12-31T23:59:58.500000Z");
}

}  // namespace
}  // namespace duckmesh::calendar
