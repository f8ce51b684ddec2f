#include "schema/binary_payload.hpp"

#include <charconv>
#include <cstring>

#include "common/calendar.hpp"
#include "common/decimal_text.hpp"
#include "common/error.hpp"
#include "common/json_string.hpp"

namespace duckmesh::schema {
namespace {

template <class T>
void put_raw(T value, std::string& out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_type(FieldType type, std::string& out) {
  out += static_cast<char>(type);
}

// Dates and timestamps in years 0001-9999, all the validator accepts.
const std::int64_t kFirstDay = calendar::days_from_civil(1, 1, 1);
const std::int64_t kLastDay = calendar::days_from_civil(9999, 12, 31);
constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

bool valid_day(std::int64_t days) {
  return days >= kFirstDay && days <= kLastDay;
}

// |scaled| < 10^precision: the value fits DECIMAL(precision, s).
bool fits_precision(Int128 scaled, int precision) {
  Int128 limit = 1;
  for (int i = 0; i < precision; ++i) limit *= 10;
  return scaled < limit && scaled > -limit;
}

bool valid_micros(std::int64_t micros) {
  return micros >= kFirstDay * kMicrosPerDay && micros < (kLastDay + 1) * kMicrosPerDay;
}

}  // namespace

void begin_binary_payload(std::string& out) {
  out += kBinaryPayloadTag;
}

void put_field_name(std::string_view name, std::string& out) {
  out += static_cast<char>(static_cast<unsigned char>(name.size()));
  out += name;
}

void put_bool(bool value, std::string& out) {
  put_type(FieldType::boolean, out);
  out += value ? '\x01' : '\x00';
}

void put_int32(std::int32_t value, std::string& out) {
  put_type(FieldType::int32, out);
  put_raw(value, out);
}

void put_int64(std::int64_t value, std::string& out) {
  put_type(FieldType::int64, out);
  put_raw(value, out);
}

void put_float64(double value, std::string& out) {
  put_type(FieldType::float64, out);
  put_raw(value, out);
}

void put_decimal(Int128 scaled, int precision, int scale, std::string& out) {
  put_type(FieldType::decimal, out);
  out += static_cast<char>(precision);
  out += static_cast<char>(scale);
  put_raw(scaled, out);
}

void put_string(std::string_view value, std::string& out) {
  put_type(FieldType::string, out);
  put_raw(static_cast<std::uint32_t>(value.size()), out);
  out += value;
}

void put_date(std::int32_t days, std::string& out) {
  put_type(FieldType::date, out);
  put_raw(days, out);
}

void put_timestamp(std::int64_t micros, std::string& out) {
  put_type(FieldType::timestamp, out);
  put_raw(micros, out);
}

void put_uuid(std::uint64_t high, std::uint64_t low, std::string& out) {
  put_type(FieldType::uuid, out);
  put_raw(high, out);
  put_raw(low, out);
}

BinaryPayloadCursor::BinaryPayloadCursor(std::string_view payload)
    : p_(payload.data() + 1), end_(payload.data() + payload.size()) {}

namespace {

// Bounds-checked reads from [p, end).
struct Bytes {
  const char* p;
  const char* end;

  const char* take(std::size_t n) {
    if (static_cast<std::size_t>(end - p) < n) return nullptr;
    const char* at = p;
    p += n;
    return at;
  }
  template <class T>
  bool read(T& value) {
    const char* at = take(sizeof value);
    if (at == nullptr) return false;
    std::memcpy(&value, at, sizeof value);
    return true;
  }
};

// A type byte and its value into `f` (all but its name).
bool read_value(Bytes& in, BinaryField& f, const char*& error) {
  std::uint8_t type = 0;
  if (!in.read(type)) {
    error = "binary payload: a field has no type";
    return false;
  }
  bool ok = true;
  switch (static_cast<FieldType>(type)) {
    case FieldType::boolean: {
      std::uint8_t b = 0;
      ok = in.read(b) && b <= 1;
      f.boolean = b == 1;
      break;
    }
    case FieldType::int32:
    case FieldType::date: {
      std::int32_t v = 0;
      ok = in.read(v) && (static_cast<FieldType>(type) != FieldType::date || valid_day(v));
      f.integer = v;
      break;
    }
    case FieldType::int64: ok = in.read(f.integer); break;
    case FieldType::timestamp: ok = in.read(f.integer) && valid_micros(f.integer); break;
    case FieldType::float64: ok = in.read(f.float64); break;
    case FieldType::decimal: {
      std::uint8_t precision = 0, scale = 0;
      ok = in.read(precision) && in.read(scale) && in.read(f.decimal) && precision >= 1 &&
           precision <= 38 && scale <= precision && fits_precision(f.decimal, precision);
      f.precision = precision;
      f.scale = scale;
      break;
    }
    case FieldType::string: {
      std::uint32_t size = 0;
      const char* at = nullptr;
      ok = in.read(size) && (at = in.take(size)) != nullptr;
      if (ok) f.text = std::string_view(at, size);
      break;
    }
    case FieldType::uuid: ok = in.read(f.high) && in.read(f.low); break;
    default: error = "binary payload: a field has an unknown type"; return false;
  }
  if (!ok) {
    error = "binary payload: a value is cut short or out of its type's range";
    return false;
  }
  f.type = static_cast<FieldType>(type);
  return true;
}

}  // namespace

bool BinaryPayloadCursor::next(BinaryField& f, const char*& error) {
  error = nullptr;
  if (p_ == end_) return false;
  Bytes in{p_, end_};
  std::uint8_t name_size = 0;
  in.read(name_size);
  const char* name = in.take(name_size);
  if (name_size == 0 || name == nullptr) {
    error = "binary payload: a field name is empty or cut short";
    return false;
  }
  f.name = std::string_view(name, name_size);
  if (!read_value(in, f, error)) return false;
  p_ = in.p;
  return true;
}

bool read_binary_value(std::string_view value, BinaryField& field) {
  Bytes in{value.data(), value.data() + value.size()};
  const char* error = nullptr;
  field.name = {};
  return read_value(in, field, error) && in.p == in.end;
}

void append_field_json(const BinaryField& f, std::string& out) {
  char buf[24];
  switch (f.type) {
    case FieldType::boolean: out += f.boolean ? "true" : "false"; return;
    case FieldType::int32:
    case FieldType::int64:
      out.append(buf, std::to_chars(buf, buf + sizeof buf, f.integer).ptr);
      return;
    case FieldType::float64: append_double(f.float64, out); return;
    case FieldType::decimal:
      out += '"';
      append_scaled_decimal(f.decimal, static_cast<unsigned>(f.scale), out);
      out += '"';
      return;
    case FieldType::string: append_json_string(out, f.text); return;
    case FieldType::date:
      out += '"';
      append_date_days(static_cast<std::int32_t>(f.integer), out);
      out += '"';
      return;
    case FieldType::timestamp:
      out += '"';
      append_utc_micros(f.integer, out);
      out += '"';
      return;
    case FieldType::uuid:
      out += '"';
      append_uuid_bits(f.high, f.low, out);
      out += '"';
      return;
  }
}

std::string payload_json(std::string_view payload) {
  if (!is_binary_payload(payload)) return std::string(payload);
  std::string out = "{";
  BinaryPayloadCursor cursor(payload);
  BinaryField f;
  const char* error = nullptr;
  while (cursor.next(f, error)) {
    if (out.size() > 1) out += ',';
    append_json_string(out, f.name);
    out += ':';
    append_field_json(f, out);
  }
  if (error != nullptr) throw Error(ErrorCode::invalid_input, error);
  out += '}';
  return out;
}

}  // namespace duckmesh::schema
