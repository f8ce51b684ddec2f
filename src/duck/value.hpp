// Plain C++ values read from or written to DuckDB.
//
// These types carry no DuckDB handle: they are copied out of result chunks
// (DataChunk::get_value) and passed into prepared statements and appenders.
// They are safe to share between threads like any value type.
//
// Representation follows DuckDB's storage exactly, so nothing is lost in
// the round trip: dates are days since 1970-01-01, timestamps are
// microseconds since 1970-01-01 00:00:00 UTC, decimals are a scaled 128-bit
// integer with their declared width and scale.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace duckmesh::duck {

// 128-bit integers are a GCC/Clang extension; __extension__ keeps -Wpedantic
// quiet here, once, instead of at every use.
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

// Exact decimal text of a 128-bit integer ("-170141183460469231731687303715884105728").
std::string int128_to_string(Int128 value);
std::string uint128_to_string(UInt128 value);

// DATE: days since 1970-01-01. DuckDB's 'infinity' / '-infinity' dates are
// the sentinels below.
struct Date {
  std::int32_t days = 0;

  static constexpr std::int32_t kInfinity = 2147483647;
  static constexpr std::int32_t kNegativeInfinity = -2147483647;
  bool is_finite() const { return days != kInfinity && days != kNegativeInfinity; }

  friend auto operator<=>(const Date&, const Date&) = default;
};

// TIMESTAMP (without time zone): microseconds since 1970-01-01 00:00:00.
struct Timestamp {
  std::int64_t micros = 0;

  static constexpr std::int64_t kInfinity = 9223372036854775807LL;
  static constexpr std::int64_t kNegativeInfinity = -9223372036854775807LL;
  bool is_finite() const { return micros != kInfinity && micros != kNegativeInfinity; }

  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// TIMESTAMP WITH TIME ZONE: an instant, microseconds since the Unix epoch in
// UTC. A separate type from Timestamp because binding one as the other makes
// DuckDB convert through the session TimeZone.
struct TimestampTz {
  std::int64_t micros = 0;

  bool is_finite() const {
    return micros != Timestamp::kInfinity && micros != Timestamp::kNegativeInfinity;
  }

  friend auto operator<=>(const TimestampTz&, const TimestampTz&) = default;
};

// DECIMAL(width, scale): the number is value / 10^scale, exactly.
// REQUIRES for binding/appending: 1 <= width <= 38, scale <= width, and
// |value| < 10^width.
struct Decimal {
  Int128 value = 0;
  std::uint8_t width = 18;
  std::uint8_t scale = 0;

  // Exact text as DuckDB prints it: all `scale` fractional digits, no
  // exponent ("123456789012345678.91", "-0.05", "1.50").
  std::string to_string() const;
  // Nearest double; loses precision beyond ~15 significant digits.
  double to_double() const;

  friend bool operator==(const Decimal&, const Decimal&) = default;
};

// HUGEINT (what sum() of BIGINT returns).
struct HugeInt {
  Int128 value = 0;

  std::string to_string() const { return int128_to_string(value); }
  friend bool operator==(const HugeInt&, const HugeInt&) = default;
};

// BLOB: arbitrary bytes (a std::string is only the container).
struct Blob {
  std::string bytes;

  friend bool operator==(const Blob&, const Blob&) = default;
};

struct List;
struct Struct;

// One value of any supported DuckDB type. NULL is std::monostate.
//
//   BOOLEAN                              -> bool
//   TINYINT, SMALLINT, INTEGER, BIGINT   -> std::int64_t
//   UTINYINT, USMALLINT, UINTEGER, UBIGINT -> std::uint64_t
//   HUGEINT                              -> HugeInt
//   FLOAT, DOUBLE                        -> double
//   DECIMAL                              -> Decimal
//   VARCHAR (and aliases such as JSON), ENUM -> std::string
//   BLOB                                 -> Blob
//   DATE                                 -> Date
//   TIMESTAMP, TIMESTAMP_S/_MS/_NS       -> Timestamp (TIMESTAMP_NS truncated
//                                           to microseconds, toward -infinity)
//   TIMESTAMP WITH TIME ZONE             -> TimestampTz
//   LIST, ARRAY                          -> List
//   STRUCT                               -> Struct
//   MAP                                  -> List of Struct{key, value}, DuckDB's
//                                           own physical layout of a map
//   TIME, TIME WITH TIME ZONE, INTERVAL, UUID, UHUGEINT
//                                        -> std::string holding DuckDB's text
//                                           for the value (e.g. "10:00:00.5")
using Value = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string,
                           Blob, Date, Timestamp, TimestampTz, Decimal, HugeInt, List, Struct>;

struct List {
  std::vector<Value> items;
};

// Fields in declaration order; names are unique within a struct.
struct Struct {
  std::vector<std::pair<std::string, Value>> fields;

  // The field called `name`, or nullptr.
  const Value* find(std::string_view name) const;
};

// Declared and defined outside the classes: comparing either one compares
// Values, which needs both types complete and both operators declared.
bool operator==(const List& a, const List& b);
bool operator==(const Struct& a, const Struct& b);
inline bool operator==(const List& a, const List& b) {
  return a.items == b.items;
}
inline bool operator==(const Struct& a, const Struct& b) {
  return a.fields == b.fields;
}

inline bool is_null(const Value& v) {
  return std::holds_alternative<std::monostate>(v);
}

// DuckDB-style text of a value, as `CAST(x AS VARCHAR)` prints it when the
// value's type is the one Value uses for it (timestamps with time zone in
// UTC with "+00"; nested strings quoted where DuckDB quotes them). NULL
// prints as "NULL". A FLOAT read into a double prints with double digits
// ("1.100000023841858"); DataChunk::to_text prints it as DuckDB does.
std::string value_text(const Value& value);

// Test and log output.
std::ostream& operator<<(std::ostream& out, const Date& v);
std::ostream& operator<<(std::ostream& out, const Timestamp& v);
std::ostream& operator<<(std::ostream& out, const TimestampTz& v);
std::ostream& operator<<(std::ostream& out, const Decimal& v);
std::ostream& operator<<(std::ostream& out, const HugeInt& v);
std::ostream& operator<<(std::ostream& out, const Blob& v);
std::ostream& operator<<(std::ostream& out, const List& v);
std::ostream& operator<<(std::ostream& out, const Struct& v);

// A text or integer cell as text; nullopt for NULL and other kinds (for
// statistics read as VARCHAR and counts).
std::optional<std::string> text_or_null(const Value& v);
// An integer cell; throws Error internal for anything else.
std::int64_t to_int64(const Value& v);

}  // namespace duckmesh::duck
