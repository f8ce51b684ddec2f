#include "ontology/ontology_schema.hpp"

#include <boost/json.hpp>
#include <functional>
#include <set>

#include "common/error.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::ontology {
namespace {

Error schema_error(const std::string& schema, const std::string& field, const std::string& why) {
  return Error(ErrorCode::invalid_input,
               "ontology schema '" + schema + "': field '" + field + "' " + why,
               {{"schema", schema}, {"field", field}});
}

Error column_error(const std::string& schema, const std::string& column, const std::string& field,
                   const std::string& why) {
  return Error(
      ErrorCode::invalid_input,
      "ontology schema '" + schema + "', column '" + column + "': field '" + field + "' " + why,
      {{"schema", schema}, {"column", column}, {"field", field}});
}

std::string text_of(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return boost::json::serialize(v);
}

std::vector<std::string> string_list(const boost::json::value& v,
                                     const std::function<Error()>& bad) {
  std::vector<std::string> out;
  if (!v.is_array()) throw bad();
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) throw bad();
    out.emplace_back(item.as_string());
  }
  return out;
}

std::optional<double> number(const boost::json::value& v, const std::function<Error()>& bad) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_number()) throw bad();
  return v.to_number<double>();
}

boost::json::array to_array(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

OntologyColumn parse_column(const std::string& schema_name, const boost::json::value& value,
                            std::size_t index) {
  if (!value.is_object()) {
    throw schema_error(schema_name, "columns[" + std::to_string(index) + "]",
                       "must be an object with name and type");
  }
  const auto& o = value.as_object();
  OntologyColumn c;
  auto name_it = o.find("name");
  if (name_it == o.end() || !name_it->value().is_string() || name_it->value().as_string().empty()) {
    throw schema_error(schema_name, "columns[" + std::to_string(index) + "].name",
                       "is required (a string)");
  }
  c.name = std::string(name_it->value().as_string());
  try {
    schema::check_identifier("column name", c.name);
  } catch (const Error& e) {
    throw column_error(schema_name, c.name, "name", std::string(e.message()));
  }
  for (const auto& [key_sv, v] : o) {
    std::string key(key_sv);
    auto bad = [&](const char* why) {
      return [&schema_name, &c, key, why] { return column_error(schema_name, c.name, key, why); };
    };
    if (key == "name") continue;
    if (key == "type") {
      if (!v.is_string()) throw column_error(schema_name, c.name, "type", "must be a string");
      c.type_literal = std::string(v.as_string());
      try {
        c.type = schema::ColumnType::parse(c.type_literal);
      } catch (const Error& e) {
        throw column_error(
            schema_name, c.name, "type",
            "has unsupported value '" + c.type_literal + "': " + std::string(e.message()));
      }
    } else if (key == "description") {
      if (!v.is_null() && !v.is_string())
        throw column_error(schema_name, c.name, key, "must be a string");
      if (v.is_string()) c.description = std::string(v.as_string());
    } else if (key == "required" || key == "pii") {
      if (!v.is_bool()) throw column_error(schema_name, c.name, key, "must be true or false");
      (key == "required" ? c.required : c.pii) = v.as_bool();
    } else if (key == "enum") {
      if (!v.is_null()) c.enum_values = string_list(v, bad("must be an array of strings"));
    } else if (key == "minimum") {
      c.minimum = number(v, bad("must be a number"));
    } else if (key == "maximum") {
      c.maximum = number(v, bad("must be a number"));
    } else if (key == "pattern") {
      if (!v.is_null() && !v.is_string())
        throw column_error(schema_name, c.name, key, "must be a string");
      if (v.is_string()) c.pattern = std::string(v.as_string());
    } else if (key == "max_length") {
      if (v.is_null()) continue;
      if (!v.is_int64() || v.as_int64() < 1)
        throw column_error(schema_name, c.name, key, "must be a whole number of at least 1");
      c.max_length = static_cast<std::size_t>(v.as_int64());
    } else if (key == "default") {
      if (!v.is_null()) c.default_value = v;
    } else if (key == "tags") {
      c.tags = string_list(v, bad("must be an array of strings"));
    } else if (key == "references") {
      ForeignKey fk;
      if (v.is_string()) {
        std::string s(v.as_string());
        auto dot = s.find('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == s.size())
          throw column_error(schema_name, c.name, key, "must be \"table.column\"");
        fk = {s.substr(0, dot), s.substr(dot + 1)};
      } else if (v.is_object() && v.as_object().contains("table") &&
                 v.as_object().at("table").is_string()) {
        fk.table = std::string(v.as_object().at("table").as_string());
        if (auto it = v.as_object().find("column"); it != v.as_object().end()) {
          if (!it->value().is_string())
            throw column_error(schema_name, c.name, key, "column must be a string");
          fk.column = std::string(it->value().as_string());
        }
      } else {
        throw column_error(schema_name, c.name, key,
                           "must be \"table.column\" or {\"table\", \"column\"}");
      }
      c.references = std::move(fk);
    } else {
      c.extra[key] = v;  // kept, not rejected
    }
  }
  if (c.type_literal.empty()) {
    throw column_error(schema_name, c.name, "type",
                       "is required (a DuckDB type such as VARCHAR or DECIMAL(20,2))");
  }
  if (c.minimum && c.maximum && *c.minimum > *c.maximum)
    throw column_error(schema_name, c.name, "minimum", "is greater than 'maximum'");
  return c;
}

}  // namespace

const OntologyColumn* OntologySchema::find(std::string_view column) const {
  for (const auto& c : columns)
    if (c.name == column) return &c;
  return nullptr;
}

OntologySchema OntologySchema::parse_text(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) {
    throw Error(ErrorCode::invalid_input, "ontology schema is not valid JSON: " + ec.message());
  }
  return parse(v);
}

OntologySchema OntologySchema::parse(const boost::json::value& value) {
  if (!value.is_object()) {
    throw Error(ErrorCode::invalid_input, "an ontology schema must be a JSON object");
  }
  const auto& o = value.as_object();
  OntologySchema s;
  auto name_it = o.find("name");
  if (name_it == o.end() || !name_it->value().is_string()) {
    throw Error(ErrorCode::invalid_input, "ontology schema: field 'name' is required (a string)",
                {{"field", "name"}});
  }
  s.name = std::string(name_it->value().as_string());
  try {
    schema::check_identifier("table name", s.name);
  } catch (const Error& e) {
    throw schema_error(s.name, "name", std::string(e.message()));
  }
  bool has_columns = false;
  for (const auto& [key_sv, v] : o) {
    std::string key(key_sv);
    auto bad = [&s, key](const char* why) {
      return [&s, key, why] { return schema_error(s.name, key, why); };
    };
    if (key == "name") continue;
    if (key == "description" || key == "owner") {
      if (!v.is_null() && !v.is_string()) throw schema_error(s.name, key, "must be a string");
      if (v.is_string()) (key == "owner" ? s.owner : s.description) = std::string(v.as_string());
    } else if (key == "version") {
      if (!v.is_string() && !v.is_number()) {
        throw schema_error(s.name, key, "must be a string or a number");
      }
      s.version = text_of(v);
    } else if (key == "kind") {
      if (!v.is_string() || (v.as_string() != "append" && v.as_string() != "keyed"))
        throw schema_error(s.name, key, "must be \"append\" or \"keyed\"");
      s.kind = std::string(v.as_string());
    } else if (key == "primary_key") {
      if (v.is_string()) {
        s.primary_key = {std::string(v.as_string())};
      } else if (!v.is_null()) {
        s.primary_key = string_list(v, bad("must be a column name or an array of them"));
      }
    } else if (key == "partition_by") {
      if (v.is_null()) continue;
      PartitionBy p;
      if (v.is_string()) {
        p.column = std::string(v.as_string());
      } else if (v.is_object() && v.as_object().contains("column") &&
                 v.as_object().at("column").is_string()) {
        p.column = std::string(v.as_object().at("column").as_string());
        if (auto it = v.as_object().find("transform"); it != v.as_object().end()) {
          if (!it->value().is_string())
            throw schema_error(s.name, "partition_by.transform", "must be a string");
          p.transform = std::string(it->value().as_string());
        }
      } else {
        throw schema_error(s.name, key, "must be a column name or {\"column\", \"transform\"}");
      }
      s.partition_by = std::move(p);
    } else if (key == "tags") {
      s.tags = string_list(v, bad("must be an array of strings"));
    } else if (key == "columns") {
      if (!v.is_array() || v.as_array().empty())
        throw schema_error(s.name, key, "must be a non-empty array of columns");
      std::set<std::string> seen;
      std::size_t index = 0;
      for (const auto& item : v.as_array()) {
        auto c = parse_column(s.name, item, index++);
        if (!seen.insert(c.name).second)
          throw column_error(s.name, c.name, "name", "is used by more than one column");
        s.columns.push_back(std::move(c));
      }
      has_columns = true;
    } else {
      s.extra[key] = v;
    }
  }
  if (!has_columns) throw schema_error(s.name, "columns", "is required");
  for (const auto& k : s.primary_key) {
    if (!s.find(k))
      throw schema_error(s.name, "primary_key", "names '" + k + "', which is not a column");
  }
  if (s.kind.empty()) s.kind = s.primary_key.empty() ? "append" : "keyed";
  if (s.kind == "keyed" && s.primary_key.empty())
    throw schema_error(s.name, "primary_key", "is required for kind 'keyed'");
  if (s.kind == "append" && !s.primary_key.empty())
    throw schema_error(s.name, "primary_key", "is only for kind 'keyed'");
  if (s.partition_by && !s.find(s.partition_by->column)) {
    throw schema_error(s.name, "partition_by",
                       "names '" + s.partition_by->column + "', which is not a column");
  }
  return s;
}

boost::json::object OntologySchema::to_json() const {
  boost::json::object o = extra;
  o["name"] = name;
  o["description"] = description;
  if (!version.empty()) o["version"] = version;
  if (!owner.empty()) o["owner"] = owner;
  o["kind"] = kind;
  if (!primary_key.empty()) o["primary_key"] = to_array(primary_key);
  if (partition_by) {
    o["partition_by"] = {{"column", partition_by->column}, {"transform", partition_by->transform}};
  }
  if (!tags.empty()) o["tags"] = to_array(tags);
  boost::json::array cols;
  for (const auto& c : columns) {
    boost::json::object co = c.extra;
    co["name"] = c.name;
    co["type"] = c.type_literal;
    co["description"] = c.description;
    co["required"] = c.required;
    if (!c.enum_values.empty()) co["enum"] = to_array(c.enum_values);
    if (c.minimum) co["minimum"] = *c.minimum;
    if (c.maximum) co["maximum"] = *c.maximum;
    if (c.pattern) co["pattern"] = *c.pattern;
    if (c.max_length) co["max_length"] = static_cast<std::int64_t>(*c.max_length);
    if (c.pii) co["pii"] = true;
    if (c.default_value) co["default"] = *c.default_value;
    if (!c.tags.empty()) co["tags"] = to_array(c.tags);
    if (c.references) {
      co["references"] = {{"table", c.references->table}, {"column", c.references->column}};
    }
    cols.emplace_back(std::move(co));
  }
  o["columns"] = std::move(cols);
  return o;
}

boost::json::object OntologySchema::table_definition() const {
  boost::json::array cols;
  for (const auto& c : columns) {
    boost::json::object co{{"name", c.name},
                           {"type", c.type.name()},
                           {"nullable", !c.required},
                           {"description", c.description},
                           {"pii", c.pii}};
    if (!c.enum_values.empty()) co["enum"] = to_array(c.enum_values);
    if (c.minimum) co["minimum"] = *c.minimum;
    if (c.maximum) co["maximum"] = *c.maximum;
    if (c.pattern) co["pattern"] = *c.pattern;
    if (c.max_length) co["max_length"] = static_cast<std::int64_t>(*c.max_length);
    if (c.default_value) co["default"] = *c.default_value;
    cols.emplace_back(std::move(co));
  }
  boost::json::object def{
      {"name", name}, {"kind", kind}, {"columns", std::move(cols)}, {"description", description}};
  if (!primary_key.empty()) def["primary_key"] = to_array(primary_key);
  if (partition_by) {
    def["partition_by"] = {{"column", partition_by->column},
                           {"transform", partition_by->transform}};
  }
  return def;
}

}  // namespace duckmesh::ontology
