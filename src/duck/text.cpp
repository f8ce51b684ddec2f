#include "duck/text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>

namespace duckmesh::duck {
namespace {

// Lays out the shortest round-trip digits the way DuckDB prints floating
// point numbers. `scientific` is std::to_chars' shortest scientific form,
// e.g. "-1.2345e+20".
std::string layout_shortest(std::string_view scientific) {
  std::string out;
  std::size_t pos = 0;
  if (scientific[pos] == '-') {
    out.push_back('-');
    ++pos;
  }
  const std::size_t e_pos = scientific.find('e', pos);
  std::string digits;
  for (std::size_t i = pos; i < e_pos; ++i) {
    if (scientific[i] != '.') digits.push_back(scientific[i]);
  }
  int exponent = 0;
  std::string_view exp_text = scientific.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);

  if (exponent >= -4 && exponent < 16) {
    if (exponent >= 0) {
      const auto int_len = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= int_len) {
        out += digits;
        out.append(int_len - digits.size(), '0');
        out += ".0";
      } else {
        out.append(digits, 0, int_len);
        out.push_back('.');
        out.append(digits, int_len, std::string::npos);
      }
    } else {
      out += "0.";
      out.append(static_cast<std::size_t>(-exponent - 1), '0');
      out += digits;
    }
    return out;
  }
  out.push_back(digits[0]);
  if (digits.size() > 1) {
    out.push_back('.');
    out.append(digits, 1, std::string::npos);
  }
  out.push_back('e');
  out.push_back(exponent < 0 ? '-' : '+');
  const int magnitude = exponent < 0 ? -exponent : exponent;
  if (magnitude < 10) out.push_back('0');
  out += std::to_string(magnitude);
  return out;
}

template <class F>
std::string format_floating(F value) {
  if (std::isnan(value)) return std::signbit(value) ? "-nan" : "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) return std::to_string(value);  // 64 bytes always suffice
  return layout_shortest(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool equals_null_ignoring_case(std::string_view text) {
  if (text.size() != 4) return false;
  static constexpr char kNull[] = "null";
  for (std::size_t i = 0; i < 4; ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kNull[i]) return false;
  }
  return true;
}

void append_single_quoted(std::string& out, std::string_view text) {
  out.push_back('\'');
  for (char c : text) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
}

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

}  // namespace

std::string format_double(double value) {
  return format_floating(value);
}
std::string format_float(float value) {
  return format_floating(value);
}

std::string format_blob(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    auto b = static_cast<unsigned char>(ch);
    if (b >= 32 && b <= 126 && b != '\\' && b != '\'' && b != '"') {
      out.push_back(static_cast<char>(b));
    } else {
      out += "\\x";
      out.push_back(kHexUpper[b >> 4]);
      out.push_back(kHexUpper[b & 0xF]);
    }
  }
  return out;
}

std::string format_uuid(Int128 stored) {
  auto bits = static_cast<UInt128>(stored) ^ (static_cast<UInt128>(1) << 127);
  std::string out;
  out.reserve(36);
  for (int nibble = 31; nibble >= 0; --nibble) {
    out.push_back(kHexLower[static_cast<unsigned>(bits >> (nibble * 4)) & 0xF]);
    if (nibble == 24 || nibble == 20 || nibble == 16 || nibble == 12) out.push_back('-');
  }
  return out;
}

void append_nested_scalar(std::string& out, std::string_view text) {
  bool quote = text.empty() || equals_null_ignoring_case(text) || is_space(text.front()) ||
               is_space(text.back());
  for (std::size_t i = 0; !quote && i < text.size(); ++i) {
    switch (text[i]) {
      case '(':
      case ')':
      case '[':
      case ']':
      case '{':
      case '}':
      case ',':
      case ':':
      case '=':
      case '\'':
      case '"': quote = true; break;
      default: break;
    }
  }
  if (quote) {
    append_single_quoted(out, text);
  } else {
    out += text;
  }
}

void append_struct_key(std::string& out, std::string_view name) {
  append_single_quoted(out, name);
}

}  // namespace duckmesh::duck
