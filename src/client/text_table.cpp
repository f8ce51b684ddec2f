#include "client/text_table.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>

#include "client/server_error.hpp"

namespace duckmesh::client {
namespace {

// UTF-8 characters in `s`: every byte that does not continue a sequence.
std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string escape_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out;
}

void pad(std::string& out, std::size_t n) {
  out.append(n, ' ');
}

std::string cell_text(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return std::string(v.as_string());
    case boost::json::kind::int64: return std::to_string(v.as_int64());
    case boost::json::kind::uint64: return std::to_string(v.as_uint64());
    case boost::json::kind::double_: {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.as_double());
      return ec == std::errc() ? std::string(buf, end) : boost::json::serialize(v);
    }
    case boost::json::kind::bool_: return v.as_bool() ? "true" : "false";
    case boost::json::kind::null: return "NULL";
    case boost::json::kind::array:
    case boost::json::kind::object: return boost::json::serialize(v);
  }
  return boost::json::serialize(v);
}

}  // namespace

bool numeric_type(std::string_view type_name) {
  std::string t(type_name);
  for (auto& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static constexpr std::string_view kNumeric[] = {
      "TINYINT",  "SMALLINT", "INTEGER",  "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
      "UINTEGER", "UBIGINT",  "UHUGEINT", "FLOAT",  "DOUBLE",  "REAL"};
  for (auto n : kNumeric) {
    if (t == n) return true;
  }
  return t.rfind("DECIMAL", 0) == 0 || t.rfind("NUMERIC", 0) == 0;
}

std::string TextTable::render() const {
  const std::size_t columns = headers.size();
  std::vector<std::size_t> width(columns, 0);
  std::vector<std::string> shown_headers(columns);
  for (std::size_t c = 0; c < columns; ++c) {
    shown_headers[c] = escape_controls(headers[c]);
    width[c] = display_width(shown_headers[c]);
  }
  std::vector<std::vector<std::string>> shown(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    shown[r].resize(columns);
    for (std::size_t c = 0; c < columns; ++c) {
      const auto& cell = c < rows[r].size() ? rows[r][c] : std::nullopt;
      shown[r][c] = cell ? escape_controls(*cell) : "NULL";
      width[c] = std::max(width[c], display_width(shown[r][c]));
    }
  }
  auto right = [&](std::size_t c) { return c < right_aligned.size() && right_aligned[c]; };
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string out;
    for (std::size_t c = 0; c < columns; ++c) {
      out += c == 0 ? " " : " | ";
      const std::size_t gap = width[c] - display_width(cells[c]);
      // Headers are centred over their column, as psql does.
      const std::size_t before = header ? gap / 2 : right(c) ? gap : 0;
      pad(out, before);
      out += cells[c];
      // The last column is not padded on the right: no trailing spaces.
      if (c + 1 < columns) pad(out, gap - before);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
    return out;
  };
  std::string out = line(shown_headers, true);
  for (std::size_t c = 0; c < columns; ++c) {
    if (c > 0) out += '+';
    out.append(width[c] + 2, '-');
  }
  out += '\n';
  for (const auto& row : shown) out += line(row, false);
  return out;
}

TextTable result_table(const boost::json::object& result) {
  auto columns = result.find("columns");
  auto rows = result.find("rows");
  if (columns == result.end() || !columns->value().is_array() || rows == result.end() ||
      !rows->value().is_array()) {
    throw ProtocolError("the query result has no 'columns' and 'rows' arrays");
  }
  TextTable table;
  for (const auto& c : columns->value().as_array()) {
    std::string name, type;
    if (c.is_object()) {
      if (auto n = c.as_object().find("name"); n != c.as_object().end() && n->value().is_string()) {
        name = n->value().as_string();
      }
      if (auto t = c.as_object().find("type"); t != c.as_object().end() && t->value().is_string()) {
        type = t->value().as_string();
      }
    }
    table.headers.push_back(std::move(name));
    table.right_aligned.push_back(numeric_type(type));
  }
  for (const auto& r : rows->value().as_array()) {
    std::vector<std::optional<std::string>> row;
    if (r.is_array()) {
      for (const auto& v : r.as_array()) {
        row.push_back(v.is_null() ? std::nullopt : std::optional<std::string>(cell_text(v)));
      }
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::string render_result(const boost::json::object& result) {
  const TextTable table = result_table(result);
  std::string out = table.render();
  std::size_t count = table.rows.size();
  if (auto it = result.find("row_count"); it != result.end() && it->value().is_int64()) {
    count = static_cast<std::size_t>(it->value().as_int64());
  }
  out += '(';
  out += std::to_string(count);
  out += count == 1 ? " row" : " rows";
  if (auto it = result.find("snapshot_id"); it != result.end() && it->value().is_int64()) {
    out += ", snapshot " + std::to_string(it->value().as_int64());
  }
  out += ")\n";
  if (auto it = result.find("truncated");
      it != result.end() && it->value().is_bool() && it->value().as_bool()) {
    out += "note: the result was truncated at " + std::to_string(count) +
           (count == 1 ? " row" : " rows") +
           " (max_rows); narrow the query or raise the row limit to see the rest\n";
  }
  return out;
}

}  // namespace duckmesh::client
