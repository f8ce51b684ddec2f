#include "client/csv_events.hpp"

#include <boost/json/parse.hpp>
#include <cctype>
#include <set>

#include "common/error.hpp"
#include "common/json_string.hpp"

namespace duckmesh::client {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Writes `s` as a JSON number when it is one in the usual notations
// ([+-]digits[.digits][e[+-]digits], with ".5" and "5." allowed), rewritten
// to JSON's stricter grammar without touching the digits: no '+' sign, no
// leading zeros, at least one digit on each side of a decimal point.
bool append_number(std::string_view s, std::string& out) {
  std::size_t i = 0;
  std::string number;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    if (s[i] == '-') number += '-';
    ++i;
  }
  std::size_t int_start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  std::string_view int_digits = s.substr(int_start, i - int_start);
  std::string_view frac_digits;
  if (i < s.size() && s[i] == '.') {
    std::size_t frac_start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac_digits = s.substr(frac_start, i - frac_start);
  }
  if (int_digits.empty() && frac_digits.empty()) return false;
  std::string exponent;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    exponent += 'e';
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exponent += s[i++];
    std::size_t exp_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == exp_start) return false;
    exponent.append(s.substr(exp_start, i - exp_start));
  }
  if (i != s.size()) return false;
  while (int_digits.size() > 1 && int_digits.front() == '0') int_digits.remove_prefix(1);
  number += int_digits.empty() ? "0" : std::string(int_digits);
  if (!frac_digits.empty()) {
    number += '.';
    number += frac_digits;
  }
  number += exponent;
  out += number;
  return true;
}

bool append_boolean(std::string_view s, std::string& out) {
  const std::string v = lower(s);
  if (v == "true" || v == "t" || v == "1" || v == "yes" || v == "y") {
    out += "true";
    return true;
  }
  if (v == "false" || v == "f" || v == "0" || v == "no" || v == "n") {
    out += "false";
    return true;
  }
  return false;
}

// Appends valid JSON `text` without the whitespace between its tokens, so
// a value written over several lines of a quoted CSV field stays on the one
// line an NDJSON event must fit on.
void append_compact_json(std::string_view text, std::string& out) {
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      out += c;
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '"') in_string = true;
    out += c;
  }
}

bool append_json(std::string_view s, bool require_array, std::string& out) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(s, ec);
  if (ec || (require_array && !parsed.is_array())) return false;
  append_compact_json(s, out);
  return true;
}

}  // namespace

CellEncoding cell_encoding(std::string_view type_name) {
  const std::string t = lower(trim(type_name));
  if (t.size() > 2 && t.substr(t.size() - 2) == "[]") return CellEncoding::list;
  if (t == "boolean" || t == "bool") return CellEncoding::boolean;
  if (t == "integer" || t == "int" || t == "int4" || t == "bigint" || t == "int8" || t == "long" ||
      t == "double" || t == "float8" || t == "float") {
    return CellEncoding::number;
  }
  if (starts_with(t, "decimal") || starts_with(t, "numeric") || t == "date" ||
      starts_with(t, "timestamp") || t == "uuid") {
    return CellEncoding::literal;
  }
  if (t == "json") return CellEncoding::json;
  return CellEncoding::text;
}

bool append_cell(CellEncoding encoding, const CsvField& cell, std::string& out) {
  if (cell.text.empty()) {
    if (!cell.quoted || encoding != CellEncoding::text) return false;
    out += "\"\"";
    return true;
  }
  if (encoding == CellEncoding::text) {
    duckmesh::append_json_string(out, cell.text);
    return true;
  }
  const std::string_view value = trim(cell.text);
  if (value.empty()) return false;
  bool written = false;
  switch (encoding) {
    case CellEncoding::boolean: written = append_boolean(value, out); break;
    case CellEncoding::number: written = append_number(value, out); break;
    case CellEncoding::json: written = append_json(value, false, out); break;
    case CellEncoding::list: written = append_json(value, true, out); break;
    case CellEncoding::literal:
    case CellEncoding::text: break;
  }
  if (!written) duckmesh::append_json_string(out, value);
  return true;
}

CsvEventEncoder::CsvEventEncoder(const std::vector<CsvField>& header,
                                 const boost::json::array& columns) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string name(trim(header[i].text));
    if (name.empty()) {
      throw Error(ErrorCode::invalid_input,
                  "the CSV header's column " + std::to_string(i + 1) +
                      " has no name; the first line must name every column",
                  {{"column", i + 1}});
    }
    if (!seen.insert(name).second) {
      throw Error(ErrorCode::invalid_input,
                  "the CSV header names column '" + name + "' more than once", {{"column", name}});
    }
    CellEncoding encoding = CellEncoding::text;
    for (const auto& c : columns) {
      if (!c.is_object()) continue;
      const auto& o = c.as_object();
      auto n = o.find("name");
      auto t = o.find("type");
      if (n != o.end() && n->value().is_string() && n->value().as_string() == name &&
          t != o.end() && t->value().is_string()) {
        encoding = cell_encoding(t->value().as_string());
        break;
      }
    }
    std::string key;
    duckmesh::append_json_string(key, name);
    key += ':';
    names_.push_back(std::move(key));
    encodings_.push_back(encoding);
  }
}

void CsvEventEncoder::encode(const std::vector<CsvField>& record, std::size_t line,
                             std::string& out) const {
  if (record.size() != names_.size()) {
    throw Error(ErrorCode::invalid_input,
                "line " + std::to_string(line) + ": the record has " +
                    std::to_string(record.size()) + " fields but the header names " +
                    std::to_string(names_.size()) + " columns",
                {{"line", line}});
  }
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < record.size(); ++i) {
    const std::size_t mark = out.size();
    if (!first) out += ',';
    out += names_[i];
    if (append_cell(encodings_[i], record[i], out)) {
      first = false;
    } else {
      out.resize(mark);
    }
  }
  out += '}';
}

}  // namespace duckmesh::client
