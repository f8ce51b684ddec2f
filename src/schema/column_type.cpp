#include "schema/column_type.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/error.hpp"

namespace duckmesh::schema {
namespace {

constexpr const char* kAllowed =
    "boolean, integer, bigint, double, decimal(p,s), varchar, varchar(n), char(n), date, "
    "timestamp, timestamptz, uuid, json, or a list of one of these as type[]";

std::string normalize(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space && std::isalnum(static_cast<unsigned char>(c)) && !out.empty() &&
        std::isalnum(static_cast<unsigned char>(out.back()))) {
      out += ' ';
    }
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Error bad_type(std::string_view text, const std::string& why) {
  return Error(
      ErrorCode::invalid_input,
      "type '" + std::string(text) + "' is not supported: " + why + "; allowed: " + kAllowed,
      {{"type", std::string(text)}, {"allowed", kAllowed}});
}

int parse_number(std::string_view original, std::string_view s, int min, int max) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) {
    throw bad_type(original, "'" + std::string(s) + "' must be a whole number from " +
                                 std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

// Splits "name(args)" into name and args; args empty when there are none.
bool split_args(const std::string& t, std::string& name, std::string& args) {
  auto open = t.find('(');
  if (open == std::string::npos) {
    name = t;
    args.clear();
    return false;
  }
  if (t.back() != ')') return false;
  name = t.substr(0, open);
  args = t.substr(open + 1, t.size() - open - 2);
  return true;
}

ColumnType parse_scalar(std::string_view original, const std::string& t) {
  ColumnType type;
  std::string name, args;
  bool has_args = split_args(t, name, args);
  if (has_args && args.empty()) throw bad_type(original, "empty parentheses");
  auto no_args = [&] {
    if (has_args) throw bad_type(original, "'" + name + "' takes no parameters");
  };
  if (name == "boolean" || name == "bool") {
    no_args();
    type.kind = TypeKind::boolean;
  } else if (name == "integer" || name == "int" || name == "int4" || name == "int32") {
    no_args();
    type.kind = TypeKind::integer;
  } else if (name == "bigint" || name == "int8" || name == "long" || name == "int64") {
    no_args();
    type.kind = TypeKind::bigint;
  } else if (name == "double" || name == "float8" || name == "float" ||
             name == "double precision") {
    no_args();
    type.kind = TypeKind::double_;
  } else if (name == "decimal" || name == "numeric") {
    type.kind = TypeKind::decimal;
    if (!has_args) {
      type.precision = 18;
      type.scale = 3;
    } else {
      auto comma = args.find(',');
      type.precision = parse_number(original, args.substr(0, comma), 1, 38);
      type.scale = comma == std::string::npos
                       ? 0
                       : parse_number(original, args.substr(comma + 1), 0, type.precision);
    }
  } else if (name == "varchar" || name == "text" || name == "string" || name == "char" ||
             name == "character varying" || name == "character") {
    type.kind = TypeKind::varchar;
    bool is_char = name == "char" || name == "character";
    if (has_args) {
      if (name == "text" || name == "string")
        throw bad_type(original, "'" + name + "' takes no length");
      type.max_length = parse_number(original, args, 1, 1'000'000);
      type.fixed_length = is_char;
    } else if (is_char) {
      type.max_length = 1;
      type.fixed_length = true;
    }
  } else if (name == "date") {
    no_args();
    type.kind = TypeKind::date;
  } else if (name == "timestamp" || name == "datetime" || name == "timestamp without time zone") {
    no_args();
    type.kind = TypeKind::timestamp;
  } else if (name == "timestamptz" || name == "timestamp with time zone") {
    no_args();
    type.kind = TypeKind::timestamptz;
  } else if (name == "uuid") {
    no_args();
    type.kind = TypeKind::uuid;
  } else if (name == "json") {
    no_args();
    type.kind = TypeKind::json;
  } else {
    throw bad_type(original, "unknown type name '" + name + "'");
  }
  return type;
}

}  // namespace

ColumnType ColumnType::parse(std::string_view text) {
  std::string t = normalize(text);
  if (t.empty()) throw bad_type(text, "the type is empty");
  if (t.size() > 2 && t.substr(t.size() - 2) == "[]") {
    std::string inner = t.substr(0, t.size() - 2);
    while (!inner.empty() && inner.back() == ' ') inner.pop_back();
    if (inner.size() > 2 && inner.substr(inner.size() - 2) == "[]") {
      throw bad_type(text, "lists of lists are not supported");
    }
    ColumnType list;
    list.kind = TypeKind::list;
    list.element = std::make_shared<const ColumnType>(parse_scalar(text, inner));
    return list;
  }
  return parse_scalar(text, t);
}

std::string ColumnType::sql() const {
  switch (kind) {
    case TypeKind::boolean: return "BOOLEAN";
    case TypeKind::integer: return "INTEGER";
    case TypeKind::bigint: return "BIGINT";
    case TypeKind::double_: return "DOUBLE";
    case TypeKind::decimal:
      return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeKind::varchar: return "VARCHAR";
    case TypeKind::date: return "DATE";
    case TypeKind::timestamp: return "TIMESTAMP";
    case TypeKind::timestamptz: return "TIMESTAMPTZ";
    case TypeKind::uuid: return "UUID";
    case TypeKind::json: return "JSON";
    case TypeKind::list: return element->sql() + "[]";
  }
  return "VARCHAR";
}

std::string ColumnType::name() const {
  switch (kind) {
    case TypeKind::boolean: return "boolean";
    case TypeKind::integer: return "integer";
    case TypeKind::bigint: return "bigint";
    case TypeKind::double_: return "double";
    case TypeKind::decimal:
      return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeKind::varchar:
      if (max_length == 0) return "varchar";
      return std::string(fixed_length ? "char(" : "varchar(") + std::to_string(max_length) + ")";
    case TypeKind::date: return "date";
    case TypeKind::timestamp: return "timestamp";
    case TypeKind::timestamptz: return "timestamptz";
    case TypeKind::uuid: return "uuid";
    case TypeKind::json: return "json";
    case TypeKind::list: return element->name() + "[]";
  }
  return "varchar";
}

bool ColumnType::operator==(const ColumnType& other) const {
  if (kind != other.kind || precision != other.precision || scale != other.scale ||
      max_length != other.max_length || fixed_length != other.fixed_length) {
    return false;
  }
  if (kind != TypeKind::list) return true;
  return *element == *other.element;
}

}  // namespace duckmesh::schema
