// Checks and canonical forms of single values given as text: shared by
// ingest's validator (which writes canonical payloads), the commit
// coordinator (which reads them into typed columns) and the query plane.
//
// Each parser takes the text as it arrived and either fills a canonical
// form or returns false (with a reason where the caller reports one).
// Nothing here allocates except when appending to an output string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace duckmesh::schema {

// A JSON number decomposed exactly: value = (-1)^negative * D * 10^exponent,
// where D is the integer written by `digit_count` significant digits (no
// leading or trailing zeros; zero has digit_count == 0). Only the first
// kMaxDigits digits are kept, which is every digit any integer or decimal
// column can accept; longer numbers are refused by digit count alone.
struct ExactNumber {
  static constexpr std::size_t kMaxDigits = 40;
  bool negative = false;
  char digits[kMaxDigits] = {};
  std::size_t digit_count = 0;
  std::int64_t exponent = 0;

  bool is_zero() const { return digit_count == 0; }
  // Digits before the decimal point (0 for |value| < 1).
  std::int64_t integer_digits() const;
  // Digits after the decimal point.
  std::int64_t fraction_digits() const { return exponent < 0 ? -exponent : 0; }
};

// Parses JSON number syntax (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?).
// False when `text` is not exactly one such number.
bool parse_exact_number(std::string_view text, ExactNumber& out);

// The value as a whole number within [min, max]; false when it has a
// fraction (*fractional set) or lies outside (*fractional clear).
bool exact_to_int64(const ExactNumber& n, std::int64_t min, std::int64_t max, std::int64_t& out,
                    bool& fractional);

// Appends the plain decimal text of `n` with exactly `scale` fraction
// digits ("-12.50"). REQUIRES fraction_digits() <= scale and
// integer_digits() + scale <= kMaxDigits.
void append_decimal(const ExactNumber& n, int scale, std::string& out);

// Parses a JSON number text as the nearest double; false when it overflows
// (magnitudes that underflow become zero of the same sign).
bool parse_finite_double(std::string_view text, double& out);

// Appends the shortest text that reads back as `value`, valid as JSON
// (negative zero as "-0.0").
void append_double(double value, std::string& out);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code
// points past U+10FFFF).
bool valid_utf8(std::string_view s);

// Length of the well-formed UTF-8 sequence starting at p, whose first byte
// is 0x80 or more, within [p, end); 0 when there is none there.
std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end);

// Appends code point `cp` (REQUIRES: at most U+10FFFF, not a surrogate)
// as UTF-8.
void append_utf8(std::uint32_t cp, std::string& out);

// Unicode code points in `s`. REQUIRES valid UTF-8.
std::size_t count_code_points(std::string_view s);

// "YYYY-MM-DD" with a real calendar date in years 0001-9999.
bool valid_date(std::string_view s);

// RFC 3339 date-time ('T', 't' or ' ' between date and time; up to 6
// fraction digits; offset "Z"/"z"/"+HH:MM"/"-HH:MM", optional when
// !require_offset and then UTC) converted to UTC and appended as
// "YYYY-MM-DD HH:MM:SS[.ffffff]+00:00". On failure returns false and sets
// `why` to what was wrong; `out` is then unchanged.
bool append_utc_timestamp(std::string_view s, bool require_offset, std::string& out,
                          const char*& why);

// The same text as microseconds since 1970-01-01 00:00:00 UTC, what DuckDB
// stores for TIMESTAMP (the UTC wall time) and TIMESTAMP WITH TIME ZONE.
// Same rules and `why` as append_utc_timestamp.
bool parse_utc_micros(std::string_view s, bool require_offset, std::int64_t& micros,
                      const char*& why);

// "YYYY-MM-DD" (as valid_date) as days since 1970-01-01, DuckDB's DATE.
bool parse_date_days(std::string_view s, std::int32_t& days);

// 8-4-4-4-12 hex digits, any case, as the 128-bit number they spell.
bool parse_uuid(std::string_view s, std::uint64_t& high, std::uint64_t& low);

// A 128-bit integer, wide enough for DECIMAL(38, s)'s stored value
// (__extension__: GCC's own type, outside ISO C++).
__extension__ typedef __int128 Int128;

// The value scaled by 10^scale as a whole number, when it has at most
// `scale` fraction digits and its magnitude stays below 10^precision:
// DECIMAL(precision, scale)'s stored integer. False otherwise.
bool exact_to_scaled(const ExactNumber& n, int precision, int scale, Int128& out);

// 8-4-4-4-12 hex digits, any case; appended in lower case.
bool append_uuid(std::string_view s, std::string& out);

// Canonical text of stored values, as the validator writes them from text:
// microseconds since 1970 (years 0001-9999) as
// "YYYY-MM-DD HH:MM:SS[.ffffff]+00:00"; days since 1970 as "YYYY-MM-DD"; a
// 128-bit UUID as lower-case 8-4-4-4-12 hex. (Decimals:
// common/decimal_text.hpp.)
void append_utc_micros(std::int64_t micros, std::string& out);
void append_date_days(std::int32_t days, std::string& out);
void append_uuid_bits(std::uint64_t high, std::uint64_t low, std::string& out);

// The value of one hex digit (any case), or -1 for any other character.
int hex_digit_value(char c);

// The character a one-letter JSON escape stands for (`n` in "\n": a
// newline), or -1 when `e` is not one of " \\ / b f n r t.
int json_escape_value(char e);

}  // namespace duckmesh::schema
