// PostgreSQL array literals, to pass a whole list as one parameter
// (`= ANY($1::bigint[])`, `unnest($1::text[])`) instead of one statement or
// one parameter per element.
#pragma once

#include <string>
#include <vector>

#include "common/hex.hpp"

namespace duckmesh::pg {

// "{1,2,3}" for a bigint[] parameter.
template <class Int>
std::string bigint_array(const std::vector<Int>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}

// "{"a","b\"c"}" for a text[] parameter: every element quoted, so any text
// (commas, braces, NULL, empty) is one element as it is.
inline std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// {"\\x6b31","\\x"} for a bytea[] parameter: every element in bytea's hex
// form, so any bytes (NUL included) are one element as they are.
inline std::string bytea_array(const std::vector<std::string>& values) {
  std::vector<std::string> hex;
  hex.reserve(values.size());
  for (const auto& v : values) hex.push_back("\\x" + to_hex(v));
  return text_array(hex);
}

}  // namespace duckmesh::pg
