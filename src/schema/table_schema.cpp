#include "schema/table_schema.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <regex>
#include <set>

#include "common/error.hpp"

namespace duckmesh::schema {
namespace {

Error column_error(const std::string& column, const std::string& field, const std::string& why) {
  return Error(ErrorCode::invalid_input, "column '" + column + "': field '" + field + "' " + why,
               {{"column", column}, {"field", field}});
}

std::optional<double> number_field(const boost::json::object& o, const char* key,
                                   const std::string& column) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_number()) throw column_error(column, key, "must be a number");
  return it->value().to_number<double>();
}

}  // namespace

const Column* TableSchema::find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

boost::json::array TableSchema::to_json() const {
  boost::json::array out;
  for (const auto& c : columns) {
    boost::json::object o{{"name", c.name},
                          {"type", c.type.name()},
                          {"nullable", c.nullable},
                          {"description", c.description},
                          {"pii", c.pii}};
    boost::json::object k;
    if (!c.constraints.enum_values.empty()) {
      boost::json::array values;
      for (const auto& v : c.constraints.enum_values) values.emplace_back(v);
      k["enum"] = std::move(values);
    }
    if (c.constraints.minimum) k["minimum"] = *c.constraints.minimum;
    if (c.constraints.maximum) k["maximum"] = *c.constraints.maximum;
    if (c.constraints.pattern) k["pattern"] = *c.constraints.pattern;
    if (c.constraints.max_length) k["max_length"] = *c.constraints.max_length;
    if (!k.empty()) o["constraints"] = std::move(k);
    if (c.default_value) o["default"] = *c.default_value;
    out.emplace_back(std::move(o));
  }
  return out;
}

std::string TableSchema::to_json_text() const {
  return boost::json::serialize(to_json());
}

TableSchema TableSchema::from_json(const boost::json::value& value) {
  if (!value.is_array() || value.as_array().empty()) {
    throw Error(ErrorCode::invalid_input, "field 'columns' must be a non-empty array of columns",
                {{"field", "columns"}});
  }
  TableSchema schema;
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& entry : value.as_array()) {
    if (!entry.is_object()) {
      throw Error(ErrorCode::invalid_input,
                  "columns[" + std::to_string(index) + "] must be an object with name and type",
                  {{"field", "columns"}, {"index", index}});
    }
    const auto& o = entry.as_object();
    auto name_it = o.find("name");
    if (name_it == o.end() || !name_it->value().is_string()) {
      throw Error(ErrorCode::invalid_input,
                  "columns[" + std::to_string(index) + "]: field 'name' is required (a string)",
                  {{"field", "name"}, {"index", index}});
    }
    Column c;
    c.name = std::string(name_it->value().as_string());
    check_identifier("column name", c.name);
    if (!seen.insert(c.name).second) {
      throw column_error(c.name, "name", "is used by more than one column");
    }
    auto type_it = o.find("type");
    if (type_it == o.end() || !type_it->value().is_string()) {
      throw column_error(c.name, "type", "is required (a string such as \"bigint\")");
    }
    try {
      c.type = ColumnType::parse(type_it->value().as_string());
    } catch (const Error& e) {
      boost::json::object details = e.details();
      details["column"] = c.name;
      details["field"] = "type";
      throw Error(ErrorCode::invalid_input, "column '" + c.name + "': " + std::string(e.message()),
                  std::move(details));
    }
    if (auto it = o.find("nullable"); it != o.end()) {
      if (!it->value().is_bool()) throw column_error(c.name, "nullable", "must be true or false");
      c.nullable = it->value().as_bool();
    }
    if (auto it = o.find("required"); it != o.end()) {  // ontology spelling
      if (!it->value().is_bool()) throw column_error(c.name, "required", "must be true or false");
      c.nullable = !it->value().as_bool();
    }
    if (auto it = o.find("description"); it != o.end() && !it->value().is_null()) {
      if (!it->value().is_string()) throw column_error(c.name, "description", "must be a string");
      c.description = std::string(it->value().as_string());
    }
    if (auto it = o.find("pii"); it != o.end()) {
      if (!it->value().is_bool()) throw column_error(c.name, "pii", "must be true or false");
      c.pii = it->value().as_bool();
    }
    if (auto it = o.find("default"); it != o.end() && !it->value().is_null()) {
      c.default_value = it->value();
    }
    // Constraints may sit in "constraints" or directly on the column.
    const boost::json::object* k = &o;
    if (auto it = o.find("constraints"); it != o.end()) {
      if (!it->value().is_object()) throw column_error(c.name, "constraints", "must be an object");
      k = &it->value().as_object();
    }
    if (auto it = k->find("enum"); it != k->end() && !it->value().is_null()) {
      if (!it->value().is_array() || it->value().as_array().empty()) {
        throw column_error(c.name, "enum", "must be a non-empty array of strings");
      }
      for (const auto& v : it->value().as_array()) {
        if (!v.is_string()) throw column_error(c.name, "enum", "must contain only strings");
        c.constraints.enum_values.emplace_back(v.as_string());
      }
    }
    c.constraints.minimum = number_field(*k, "minimum", c.name);
    c.constraints.maximum = number_field(*k, "maximum", c.name);
    if (c.constraints.minimum && c.constraints.maximum &&
        *c.constraints.minimum > *c.constraints.maximum) {
      throw column_error(c.name, "minimum", "is greater than 'maximum'");
    }
    if (auto it = k->find("pattern"); it != k->end() && !it->value().is_null()) {
      if (!it->value().is_string()) throw column_error(c.name, "pattern", "must be a string");
      std::string pattern(it->value().as_string());
      try {
        std::regex check(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw column_error(c.name, "pattern",
                           std::string("is not a valid regular expression: ") + e.what());
      }
      c.constraints.pattern = pattern;
    }
    if (auto it = k->find("max_length"); it != k->end() && !it->value().is_null()) {
      if (!it->value().is_int64() || it->value().as_int64() < 1) {
        throw column_error(c.name, "max_length", "must be a whole number of at least 1");
      }
      c.constraints.max_length = static_cast<std::size_t>(it->value().as_int64());
    }
    schema.columns.push_back(std::move(c));
    ++index;
  }
  return schema;
}

TableSchema TableSchema::from_json_text(const std::string& text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec) throw Error(ErrorCode::internal, "stored schema is not valid JSON: " + ec.message());
  return from_json(value);
}

void check_identifier(std::string_view what, std::string_view name) {
  std::string allowed =
      "1 to 63 characters of lowercase letters, digits and '_', starting with a letter";
  bool ok = !name.empty() && name.size() <= 63 && name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    throw Error(ErrorCode::invalid_input,
                std::string(what) + " '" + std::string(name) + "' is not allowed: " + allowed,
                {{"name", std::string(name)}, {"allowed", allowed}});
  }
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace duckmesh::schema
