#include "duck/value.hpp"

#include <algorithm>

#include "common/decimal_text.hpp"
#include "common/error.hpp"
#include "duck/temporal.hpp"
#include "duck/text.hpp"

namespace duckmesh::duck {
namespace {

void append_value_text(std::string& out, const Value& value, bool nested);

struct TextVisitor {
  std::string& out;
  bool nested;

  void scalar(const std::string& text) const {
    if (nested) {
      append_nested_scalar(out, text);
    } else {
      out += text;
    }
  }

  void operator()(std::monostate) const { out += "NULL"; }
  void operator()(bool v) const { out += v ? "true" : "false"; }
  void operator()(std::int64_t v) const { out += std::to_string(v); }
  void operator()(std::uint64_t v) const { out += std::to_string(v); }
  void operator()(double v) const { out += format_double(v); }
  void operator()(const std::string& v) const { scalar(v); }
  void operator()(const Blob& v) const { scalar(format_blob(v.bytes)); }
  void operator()(Date v) const { scalar(format_date(v)); }
  void operator()(Timestamp v) const { scalar(format_timestamp(v)); }
  void operator()(TimestampTz v) const { scalar(format_timestamp(v)); }
  void operator()(const Decimal& v) const { out += v.to_string(); }
  void operator()(const HugeInt& v) const { out += v.to_string(); }
  void operator()(const List& v) const {
    out.push_back('[');
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      if (i > 0) out += ", ";
      append_value_text(out, v.items[i], true);
    }
    out.push_back(']');
  }
  void operator()(const Struct& v) const {
    out.push_back('{');
    for (std::size_t i = 0; i < v.fields.size(); ++i) {
      if (i > 0) out += ", ";
      append_struct_key(out, v.fields[i].first);
      out += ": ";
      append_value_text(out, v.fields[i].second, true);
    }
    out.push_back('}');
  }
};

void append_value_text(std::string& out, const Value& value, bool nested) {
  std::visit(TextVisitor{out, nested}, value);
}

}  // namespace

std::string int128_to_string(Int128 value) {
  if (value >= 0) return uint128_to_string(static_cast<UInt128>(value));
  // Negate in unsigned arithmetic: -INT128_MIN does not fit an Int128.
  // Appended, not "-" + string: GCC 12 at -O3 misreports that form (-Wrestrict).
  std::string text = "-";
  text += uint128_to_string(0 - static_cast<UInt128>(value));
  return text;
}

std::string uint128_to_string(UInt128 value) {
  char buf[40];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  } while (value != 0);
  std::string out;
  out.reserve(static_cast<std::size_t>(n));
  while (n > 0) out.push_back(buf[--n]);
  return out;
}

std::string Decimal::to_string() const {
  std::string out;
  append_scaled_decimal(value, scale, out);
  return out;
}

double Decimal::to_double() const {
  double result = static_cast<double>(value);
  for (unsigned i = 0; i < scale; ++i) result /= 10.0;
  return result;
}

const Value* Struct::find(std::string_view name) const {
  auto it = std::find_if(fields.begin(), fields.end(),
                         [&](const auto& field) { return field.first == name; });
  return it == fields.end() ? nullptr : &it->second;
}

std::string value_text(const Value& value) {
  std::string out;
  append_value_text(out, value, false);
  return out;
}

std::ostream& operator<<(std::ostream& out, const Date& v) {
  return out << format_date(v);
}
std::ostream& operator<<(std::ostream& out, const Timestamp& v) {
  return out << format_timestamp(v);
}
std::ostream& operator<<(std::ostream& out, const TimestampTz& v) {
  return out << format_timestamp(v);
}
std::ostream& operator<<(std::ostream& out, const Decimal& v) {
  return out << v.to_string() << " DECIMAL(" << unsigned{v.width} << "," << unsigned{v.scale}
             << ")";
}
std::ostream& operator<<(std::ostream& out, const HugeInt& v) {
  return out << v.to_string();
}
std::ostream& operator<<(std::ostream& out, const Blob& v) {
  return out << "BLOB '" << format_blob(v.bytes) << "'";
}
std::ostream& operator<<(std::ostream& out, const List& v) {
  return out << value_text(Value{v});
}
std::ostream& operator<<(std::ostream& out, const Struct& v) {
  return out << value_text(Value{v});
}

std::optional<std::string> text_or_null(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* u = std::get_if<std::uint64_t>(&v)) return std::to_string(*u);
  return std::nullopt;
}

std::int64_t to_int64(const Value& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* u = std::get_if<std::uint64_t>(&v)) return static_cast<std::int64_t>(*u);
  throw Error(ErrorCode::internal, "expected an integer from DuckDB");
}

}  // namespace duckmesh::duck
