#include "query/encoders/cells.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "common/json_string.hpp"
#include "duck/temporal.hpp"
#include "duck/text.hpp"
#include "duck/value.hpp"

namespace duckmesh::query::encoding {
namespace {

using duck::Int128;
using duck::UInt128;
using duck::VectorReader;

// Integers beyond this magnitude lose precision as IEEE doubles, which is
// how most JSON readers hold numbers.
constexpr std::int64_t kMaxExactJsonInteger = 9007199254740992;  // 2^53

template <class T>
void append_integer(std::string& out, T value) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

void append_uint128(std::string& out, UInt128 value) {
  char buf[40];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  } while (value != 0);
  out.append(p, buf + sizeof buf);
}

void append_int128(std::string& out, Int128 value) {
  if (value < 0) {
    out.push_back('-');
    append_uint128(out, static_cast<UInt128>(0) - static_cast<UInt128>(value));
  } else {
    append_uint128(out, static_cast<UInt128>(value));
  }
}

// Appends "NaN"/"Infinity"/"-Infinity" (quoted for JSON) or the shortest
// round-trip text of a finite value.
template <class T>
void append_floating(std::string& out, T value, bool json) {
  if (std::isfinite(value)) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, res.ptr);
    return;
  }
  if (json) out.push_back('"');
  out += std::isnan(value) ? "NaN" : (value > 0 ? "Infinity" : "-Infinity");
  if (json) out.push_back('"');
}

void append_decimal(std::string& out, const duck::Decimal& d) {
  UInt128 magnitude = d.value < 0 ? static_cast<UInt128>(0) - static_cast<UInt128>(d.value)
                                  : static_cast<UInt128>(d.value);
  if (d.value < 0) out.push_back('-');
  char buf[48];
  char* end = buf + sizeof buf;
  char* p = end;
  int digits = 0;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
    ++digits;
  } while (magnitude != 0);
  // At least one digit before the point: 5 at scale 2 is "0.05".
  while (digits < d.scale + 1) {
    *--p = '0';
    ++digits;
  }
  const auto integer_digits = static_cast<std::size_t>(digits - d.scale);
  out.append(p, integer_digits);
  if (d.scale > 0) {
    out.push_back('.');
    out.append(p + integer_digits, d.scale);
  }
}

// TIMESTAMP_NS from DuckDB's text ("2024-05-01 10:00:00.5"): the reader
// gives nanoseconds only as text. The type's range (1677..2262) keeps the
// text in that one shape; the fraction is padded to nine digits.
void append_timestamp_ns(std::string& out, const VectorReader& column, idx_t row) {
  const std::string text = column.to_text(row);
  if (text == "infinity" || text == "-infinity") {
    out += text;
    return;
  }
  const std::size_t space = text.find(' ');
  if (space == std::string::npos) {
    out += text;
    return;
  }
  out.append(text, 0, space);
  out.push_back('T');
  out.append(text, space + 1, std::string::npos);
  if (const std::size_t dot = text.find('.', space); dot != std::string::npos) {
    for (std::size_t digits = text.size() - dot - 1; digits < 9; ++digits) out.push_back('0');
  }
  out.push_back('Z');
}

bool magnitude_fits_json(Int128 v) {
  return v >= -kMaxExactJsonInteger && v <= kMaxExactJsonInteger;
}

// UHUGEINT arrives as decimal text; small values are still numbers.
bool decimal_text_fits_json(std::string_view digits) {
  constexpr std::string_view kLimit = "9007199254740992";
  return digits.size() < kLimit.size() || (digits.size() == kLimit.size() && digits <= kLimit);
}

void append_json_object_key(std::string& out, std::string& scratch, const VectorReader& keys,
                            idx_t row);

// Text without quoting; nested values as their JSON text.
void append_plain_text(std::string& out, const VectorReader& column, idx_t row) {
  switch (column.type_id()) {
    case DUCKDB_TYPE_BOOLEAN: out += column.get_bool(row) ? "true" : "false"; return;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: append_integer(out, column.get_int64(row)); return;
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT: append_integer(out, column.get_uint64(row)); return;
    case DUCKDB_TYPE_HUGEINT: append_int128(out, column.get_hugeint(row).value); return;
    case DUCKDB_TYPE_FLOAT:
      append_floating(out, static_cast<float>(column.get_double(row)), false);
      return;
    case DUCKDB_TYPE_DOUBLE: append_floating(out, column.get_double(row), false); return;
    case DUCKDB_TYPE_DECIMAL: append_decimal(out, column.get_decimal(row)); return;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_ENUM: out += column.get_string_view(row); return;
    case DUCKDB_TYPE_BLOB: out += duck::format_blob(column.get_string_view(row)); return;
    case DUCKDB_TYPE_DATE: duck::append_iso8601(out, column.get_date(row)); return;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: duck::append_rfc3339(out, column.get_timestamp(row)); return;
    case DUCKDB_TYPE_TIMESTAMP_NS: append_timestamp_ns(out, column, row); return;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_MAP: append_json_value(out, column, row); return;
    default: out += column.to_text(row); return;
  }
}

void append_json_object_key(std::string& out, std::string& scratch, const VectorReader& keys,
                            idx_t row) {
  if (keys.is_null(row)) {
    append_json_string(out, "null");
    return;
  }
  if (keys.type_id() == DUCKDB_TYPE_VARCHAR || keys.type_id() == DUCKDB_TYPE_ENUM) {
    append_json_string(out, keys.get_string_view(row));
    return;
  }
  scratch.clear();
  append_plain_text(scratch, keys, row);
  append_json_string(out, scratch);
}

bool needs_csv_quotes(std::string_view text) {
  if (text.empty() || text.front() == ' ' || text.back() == ' ') return true;
  for (char c : text) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

}  // namespace

void append_json_value(std::string& out, const VectorReader& column, idx_t row) {
  if (column.is_null(row)) {
    out += "null";
    return;
  }
  switch (column.type_id()) {
    case DUCKDB_TYPE_BOOLEAN: out += column.get_bool(row) ? "true" : "false"; return;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER: append_integer(out, column.get_int64(row)); return;
    case DUCKDB_TYPE_BIGINT: {
      const std::int64_t v = column.get_int64(row);
      const bool exact = magnitude_fits_json(v);
      if (!exact) out.push_back('"');
      append_integer(out, v);
      if (!exact) out.push_back('"');
      return;
    }
    case DUCKDB_TYPE_UBIGINT: {
      const std::uint64_t v = column.get_uint64(row);
      const bool exact = v <= static_cast<std::uint64_t>(kMaxExactJsonInteger);
      if (!exact) out.push_back('"');
      append_integer(out, v);
      if (!exact) out.push_back('"');
      return;
    }
    case DUCKDB_TYPE_HUGEINT: {
      const Int128 v = column.get_hugeint(row).value;
      const bool exact = magnitude_fits_json(v);
      if (!exact) out.push_back('"');
      append_int128(out, v);
      if (!exact) out.push_back('"');
      return;
    }
    case DUCKDB_TYPE_UHUGEINT: {
      const std::string digits = column.to_text(row);
      if (decimal_text_fits_json(digits)) {
        out += digits;
      } else {
        append_json_string(out, digits);
      }
      return;
    }
    case DUCKDB_TYPE_FLOAT:
      append_floating(out, static_cast<float>(column.get_double(row)), true);
      return;
    case DUCKDB_TYPE_DOUBLE: append_floating(out, column.get_double(row), true); return;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_ENUM: append_json_string(out, column.get_string_view(row)); return;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
      const duck::ListEntry entry = column.get_list(row);
      const VectorReader items = column.list_child();
      out.push_back('[');
      for (std::uint64_t i = 0; i < entry.length; ++i) {
        if (i > 0) out.push_back(',');
        append_json_value(out, items, entry.offset + i);
      }
      out.push_back(']');
      return;
    }
    case DUCKDB_TYPE_STRUCT: {
      out.push_back('{');
      for (idx_t f = 0; f < column.field_count(); ++f) {
        if (f > 0) out.push_back(',');
        append_json_string(out, column.field_name(f));
        out.push_back(':');
        append_json_value(out, column.field(f), row);
      }
      out.push_back('}');
      return;
    }
    case DUCKDB_TYPE_MAP: {
      const duck::ListEntry entry = column.get_list(row);
      const VectorReader entries = column.list_child();
      const VectorReader keys = entries.field(0);
      const VectorReader values = entries.field(1);
      std::string scratch;
      out.push_back('{');
      for (std::uint64_t i = 0; i < entry.length; ++i) {
        if (i > 0) out.push_back(',');
        append_json_object_key(out, scratch, keys, entry.offset + i);
        out.push_back(':');
        append_json_value(out, values, entry.offset + i);
      }
      out.push_back('}');
      return;
    }
    default: {
      // Text types and those shown as text: DECIMAL (exact), dates and
      // timestamps, TIME, INTERVAL, UUID, BLOB. None needs escaping except
      // BLOB text, which holds backslashes.
      const std::size_t start = out.size();
      out.push_back('"');
      append_plain_text(out, column, row);
      const std::string_view text(out.data() + start + 1, out.size() - start - 1);
      bool plain = true;
      for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
          plain = false;
          break;
        }
      }
      if (plain) {
        out.push_back('"');
      } else {
        std::string copy(text);
        out.resize(start);
        append_json_string(out, copy);
      }
      return;
    }
  }
}

void append_csv_text(std::string& out, std::string_view text) {
  if (!needs_csv_quotes(text)) {
    out += text;
    return;
  }
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void append_csv_field(std::string& out, std::string& scratch, const VectorReader& column,
                      idx_t row) {
  if (column.is_null(row)) return;
  switch (column.type_id()) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
    case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      // Digits, signs, points, letters and colons: never quoted.
      append_plain_text(out, column, row);
      return;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_ENUM: append_csv_text(out, column.get_string_view(row)); return;
    default:
      scratch.clear();
      append_plain_text(scratch, column, row);
      append_csv_text(out, scratch);
      return;
  }
}

void append_fixed3(std::string& out, double value) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 3);
  out.append(buf, res.ptr);
}

}  // namespace duckmesh::query::encoding
