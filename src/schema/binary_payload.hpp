// Binary payload: an accepted event's values as they will be stored, so that
// the commit copies them into DuckDB's column vectors instead of parsing
// text again.
//
// Ingest's validator writes this form for tables whose columns are all
// scalar (no json or list column); other tables keep the canonical JSON
// object (ingest/validation.hpp). The bus stores either as opaque bytes;
// the first byte tells them apart: a JSON payload starts with '{', a binary
// one with kBinaryPayloadTag.
//
// Layout, after the tag byte, one entry per field in schema order (absent
// columns are left out, as in the canonical JSON):
//   name length (1 byte, 1-255), name bytes, type tag (1 byte), value:
//     boolean    1 byte, 0 or 1
//     int32      4 bytes          integer
//     int64      8 bytes          bigint
//     float64    8 bytes          double (IEEE 754)
//     decimal    precision (1 byte), scale (1 byte), 16 bytes: the value
//                scaled by 10^scale
//     string     length (4 bytes), UTF-8 bytes
//     date       4 bytes          days since 1970-01-01
//     timestamp  8 bytes          microseconds since 1970-01-01 UTC
//                                 (timestamp and timestamptz)
//     uuid       16 bytes         the 128-bit number, high half first
// Integers are little-endian, as the machines this runs on. A keyed table's
// delete carries the string field "_dm_op" = "delete", as the JSON form.
//
// Each field names its column and type, so a payload can be shown as JSON
// (payload_json) or read into a table whose schema changed since, without
// the schema it was validated against.
//
// Thread-safety: free functions and a cursor over caller-owned bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schema/value_text.hpp"

namespace duckmesh::schema {

inline constexpr char kBinaryPayloadTag = '\x01';

enum class FieldType : std::uint8_t {
  boolean = 1,
  int32 = 2,
  int64 = 3,
  float64 = 4,
  decimal = 5,
  string = 6,
  date = 7,
  timestamp = 8,
  uuid = 9,
};

inline bool is_binary_payload(std::string_view payload) {
  return !payload.empty() && payload.front() == kBinaryPayloadTag;
}

// Writing: start with begin_binary_payload, then for each field its name
// and one value.
void begin_binary_payload(std::string& out);
// REQUIRES 1 <= name.size() <= 255.
void put_field_name(std::string_view name, std::string& out);
void put_bool(bool value, std::string& out);
void put_int32(std::int32_t value, std::string& out);
void put_int64(std::int64_t value, std::string& out);
void put_float64(double value, std::string& out);
void put_decimal(Int128 scaled, int precision, int scale, std::string& out);
void put_string(std::string_view value, std::string& out);
void put_date(std::int32_t days, std::string& out);
void put_timestamp(std::int64_t micros, std::string& out);
void put_uuid(std::uint64_t high, std::uint64_t low, std::string& out);

// One field as read back. `text` is set for strings, `integer` for int32,
// int64, date and timestamp.
struct BinaryField {
  std::string_view name;
  FieldType type = FieldType::boolean;
  bool boolean = false;
  std::int64_t integer = 0;
  double float64 = 0;
  Int128 decimal = 0;
  int precision = 0;
  int scale = 0;
  std::string_view text;
  std::uint64_t high = 0;
  std::uint64_t low = 0;
};

// Reads a binary payload's fields in order.
class BinaryPayloadCursor {
 public:
  // REQUIRES is_binary_payload(payload).
  explicit BinaryPayloadCursor(std::string_view payload);
  // The next field into `field`: true. False at the end, or when the bytes
  // are malformed: then `error` says what was wrong (and stays nullptr at
  // the end).
  bool next(BinaryField& field, const char*& error);

 private:
  const char* p_;
  const char* end_;
};

// One value as a put_* function wrote it (type byte and value, no name)
// into `field`, its name left empty. False when the bytes are not exactly
// one well-formed value.
bool read_binary_value(std::string_view value, BinaryField& field);

// The field's value as canonical JSON (what the validator writes in the
// JSON form: numbers, true/false, decimals, dates, timestamps and UUIDs as
// strings).
void append_field_json(const BinaryField& field, std::string& out);

// The payload as canonical JSON object text: a binary payload converted, any
// other payload returned as it is. Throws Error(invalid_input) when a binary
// payload is malformed.
std::string payload_json(std::string_view payload);

}  // namespace duckmesh::schema
