// Proleptic Gregorian calendar arithmetic, the calendar DuckDB uses: days
// since 1970-01-01 to and from year, month and day. Shared by ingest, which
// checks and normalizes dates as text, and duck, which formats DuckDB values;
// and the one format the API shows instants in.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace duckmesh::calendar {

struct CivilDate {
  std::int64_t year = 1970;  // astronomical: 0 is 1 BC, -43 is 44 BC
  unsigned month = 1;        // 1..12
  unsigned day = 1;          // 1..31

  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

// Days since 1970-01-01 <-> calendar date. Exact for the whole int64 range
// that does not overflow.
CivilDate civil_from_days(std::int64_t days);
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

bool is_leap_year(std::int64_t year);

// Days in `month` of `year`. REQUIRES 1 <= month <= 12.
unsigned days_in_month(std::int64_t year, unsigned month);

// Microseconds since the epoch as the API shows instants:
// "2026-12-07T04:05:06.000123Z".
std::string iso_utc(std::int64_t unix_us);

}  // namespace duckmesh::calendar
