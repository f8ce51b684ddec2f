// Calendar arithmetic and text forms of DuckDB dates and timestamps.
//
// Two families of text:
//  * format_*: exactly what DuckDB prints for `CAST(x AS VARCHAR)` (years
//    before 1 AD as "0044-03-15 (BC)", trailing zeros of the fraction
//    trimmed, 'infinity' spelled out). Used to show values as DuckDB would.
//  * to_iso8601 / to_rfc3339: machine-readable forms for JSON output,
//    "2024-05-01" and "2024-05-01T10:00:00.123456Z" (UTC, six fractional
//    digits, fraction omitted when zero). Years outside 0000..9999 use the
//    ISO 8601 expanded form with a sign ("-0043-03-15", "+10000-01-01");
//    infinite values give "infinity" / "-infinity", which no RFC 3339
//    parser accepts, so callers that need strict RFC 3339 check
//    is_finite() first.
//
// All functions are pure and thread-safe. The proleptic Gregorian calendar
// is used throughout, like DuckDB.
#pragma once

#include <cstdint>
#include <string>

#include "common/calendar.hpp"
#include "duck/value.hpp"

namespace duckmesh::duck {

inline constexpr std::int64_t kMicrosPerSecond = 1'000'000;
inline constexpr std::int64_t kMicrosPerDay = 86'400LL * kMicrosPerSecond;

// Days since 1970-01-01 <-> calendar date (see common/calendar.hpp).
using calendar::civil_from_days;
using calendar::CivilDate;
using calendar::days_from_civil;

// Builds a DATE / TIMESTAMP from calendar fields.
// Throws Error(invalid_input) when a field is out of range (month 13,
// February 30th, hour 24, ...) or the result does not fit DuckDB's range.
Date make_date(std::int64_t year, unsigned month, unsigned day);
Timestamp make_timestamp(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                         unsigned minute, unsigned second, unsigned micros = 0);

// DuckDB text.
std::string format_date(Date date);                   // "2024-05-01"
std::string format_time(std::int64_t micros_of_day);  // "10:00:00.5"
std::string format_timestamp(Timestamp ts);           // "2024-05-01 10:00:00.123456"
std::string format_timestamp(TimestampTz ts);         // "2024-05-01 10:00:00.123456+00"
// TIMESTAMP_NS: nanoseconds since the epoch, nine fractional digits at most.
std::string format_timestamp_ns(std::int64_t nanos);
// INTERVAL: "1 year 2 months 3 days 04:05:06.5", "00:00:00" when empty.
std::string format_interval(std::int32_t months, std::int32_t days, std::int64_t micros);

// JSON text. A TIMESTAMP carries no zone; DuckMesh stores UTC wall-clock
// times in it, so it is written with "Z" like a TIMESTAMPTZ.
std::string to_iso8601(Date date);       // "2024-05-01"
std::string to_rfc3339(Timestamp ts);    // "2024-05-01T10:00:00.123456Z"
std::string to_rfc3339(TimestampTz ts);  // same instant, same text

// The same JSON text appended to `out`, for encoders that write many values
// into one buffer and must not allocate per value.
void append_iso8601(std::string& out, Date date);
void append_rfc3339(std::string& out, Timestamp ts);

}  // namespace duckmesh::duck
