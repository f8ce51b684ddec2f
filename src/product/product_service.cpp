#include "product/product_service.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "common/calendar.hpp"
#include "common/error.hpp"

namespace duckmesh::product {
namespace {

const boost::json::object& require_object(const boost::json::value& body, const char* what) {
  if (!body.is_object()) {
    throw Error(ErrorCode::invalid_input, std::string(what) + " must be a JSON object");
  }
  return body.as_object();
}

std::string optional_string(const boost::json::object& o, const char* field,
                            std::string fallback = {}) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return fallback;
  if (!it->value().is_string()) {
    throw Error(ErrorCode::invalid_input, std::string("field '") + field + "' must be a string",
                {{"field", field}});
  }
  return std::string(it->value().as_string());
}

boost::json::value parse_or_empty(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return ec ? boost::json::value(boost::json::object{}) : v;
}

}  // namespace

boost::json::object TableOptions::to_json() const {
  boost::json::object o{{"unknown_fields", unknown_fields}};
  if (!idempotency_column.empty()) o["idempotency_column"] = idempotency_column;
  if (!description.empty()) o["description"] = description;
  if (!sort_key.empty()) {
    boost::json::array key;
    for (const auto& c : sort_key) key.emplace_back(c);
    o["sort_key"] = std::move(key);
  }
  return o;
}

TableOptions TableOptions::from_json_text(const std::string& text) {
  TableOptions options;
  auto v = parse_or_empty(text);
  if (!v.is_object()) return options;
  const auto& o = v.as_object();
  options.unknown_fields = optional_string(o, "unknown_fields", "reject");
  options.idempotency_column = optional_string(o, "idempotency_column");
  options.description = optional_string(o, "description");
  if (const auto* key = o.if_contains("sort_key"); key && key->is_array()) {
    for (const auto& c : key->as_array()) {
      if (c.is_string()) options.sort_key.emplace_back(c.as_string());
    }
  }
  return options;
}

catalog::TableDef parse_table_definition(const boost::json::value& body) {
  const auto& o = require_object(body, "a table definition");
  static const std::set<std::string> known = {
      "name",    "kind",           "primary_key",        "partition_by",
      "columns", "unknown_fields", "idempotency_column", "description",
      "sort_key"};
  for (const auto& [key, value] : o) {
    if (!known.count(std::string(key))) {
      throw Error(ErrorCode::invalid_input,
                  "unknown field '" + std::string(key) +
                      "' in table definition; allowed: name, kind, primary_key, partition_by, "
                      "columns, unknown_fields, idempotency_column, description, sort_key",
                  {{"field", std::string(key)}});
    }
  }
  catalog::TableDef def;
  def.name = optional_string(o, "name");
  if (def.name.empty()) {
    throw Error(ErrorCode::invalid_input, "field 'name' is required", {{"field", "name"}});
  }
  try {
    schema::check_identifier("table name", def.name);
  } catch (const Error& e) {
    auto details = e.details();
    details["field"] = "name";
    throw Error(e.code(), std::string(e.message()), std::move(details));
  }

  std::string kind = optional_string(o, "kind", "append");
  if (kind != "append" && kind != "keyed") {
    throw Error(ErrorCode::invalid_input,
                "field 'kind' has invalid value '" + kind + "': one of append, keyed",
                {{"field", "kind"}, {"value", kind}});
  }
  def.kind = kind == "keyed" ? catalog::TableKind::keyed : catalog::TableKind::append;

  auto columns_it = o.find("columns");
  if (columns_it == o.end()) {
    throw Error(ErrorCode::invalid_input, "field 'columns' is required", {{"field", "columns"}});
  }
  auto table_schema = schema::TableSchema::from_json(columns_it->value());

  if (auto it = o.find("primary_key"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array() || it->value().as_array().empty()) {
      throw Error(ErrorCode::invalid_input,
                  "field 'primary_key' must be a non-empty array of column names",
                  {{"field", "primary_key"}});
    }
    for (const auto& k : it->value().as_array()) {
      if (!k.is_string() || !table_schema.find(k.as_string())) {
        throw Error(ErrorCode::invalid_input,
                    "field 'primary_key' names " +
                        (k.is_string() ? "'" + std::string(k.as_string()) + "'"
                                       : std::string("a non-string")) +
                        ", which is not a column of the table",
                    {{"field", "primary_key"}});
      }
      def.primary_key.emplace_back(k.as_string());
    }
  }
  if (def.kind == catalog::TableKind::keyed && def.primary_key.empty()) {
    throw Error(ErrorCode::invalid_input, "a keyed table needs 'primary_key'",
                {{"field", "primary_key"}});
  }
  if (def.kind == catalog::TableKind::append && !def.primary_key.empty()) {
    throw Error(ErrorCode::invalid_input, "'primary_key' is only for kind 'keyed'",
                {{"field", "primary_key"}});
  }
  for (auto& c : table_schema.columns) {
    if (std::find(def.primary_key.begin(), def.primary_key.end(), c.name) !=
        def.primary_key.end()) {
      if (c.type.kind == schema::TypeKind::list || c.type.kind == schema::TypeKind::json) {
        throw Error(ErrorCode::invalid_input,
                    "primary key column '" + c.name + "' cannot be a list or json",
                    {{"field", "primary_key"}, {"column", c.name}});
      }
      c.nullable = false;  // keys are always required
    }
  }

  if (auto it = o.find("partition_by"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_object()) {
      throw Error(ErrorCode::invalid_input,
                  "field 'partition_by' must be an object {\"column\", \"transform\"}",
                  {{"field", "partition_by"}});
    }
    const auto& p = it->value().as_object();
    def.partition.column = optional_string(p, "column");
    def.partition.transform = optional_string(p, "transform", "identity");
    const auto* column = table_schema.find(def.partition.column);
    if (!column) {
      throw Error(ErrorCode::invalid_input,
                  "field 'partition_by.column' must name a column of the table",
                  {{"field", "partition_by.column"}});
    }
    static const std::set<std::string> transforms = {"day", "month", "year", "identity"};
    if (!transforms.count(def.partition.transform)) {
      throw Error(ErrorCode::invalid_input,
                  "field 'partition_by.transform' must be one of day, month, year, identity",
                  {{"field", "partition_by.transform"}});
    }
    bool temporal = column->type.kind == schema::TypeKind::date ||
                    column->type.kind == schema::TypeKind::timestamp ||
                    column->type.kind == schema::TypeKind::timestamptz;
    if (def.partition.transform != "identity" && !temporal) {
      throw Error(ErrorCode::invalid_input,
                  "partition transform '" + def.partition.transform +
                      "' needs a date or timestamp column; '" + column->name + "' is " +
                      column->type.name(),
                  {{"field", "partition_by.transform"}});
    }
    if (column->type.kind == schema::TypeKind::list ||
        column->type.kind == schema::TypeKind::json) {
      throw Error(ErrorCode::invalid_input, "cannot partition by a list or json column",
                  {{"field", "partition_by.column"}});
    }
  }

  TableOptions options;
  options.unknown_fields = optional_string(o, "unknown_fields", "reject");
  if (options.unknown_fields != "reject" && options.unknown_fields != "ignore") {
    throw Error(ErrorCode::invalid_input, "field 'unknown_fields' must be 'reject' or 'ignore'",
                {{"field", "unknown_fields"}});
  }
  options.idempotency_column = optional_string(o, "idempotency_column");
  if (!options.idempotency_column.empty() && !table_schema.find(options.idempotency_column)) {
    throw Error(ErrorCode::invalid_input,
                "field 'idempotency_column' must name a column of the table",
                {{"field", "idempotency_column"}});
  }
  options.description = optional_string(o, "description");
  if (const auto* key = o.if_contains("sort_key")) {
    if (!key->is_array() || key->as_array().empty()) {
      throw Error(ErrorCode::invalid_input,
                  "field 'sort_key' must be a non-empty array of column names",
                  {{"field", "sort_key"}});
    }
    for (const auto& c : key->as_array()) {
      if (!c.is_string() || !table_schema.find(std::string(c.as_string()))) {
        throw Error(ErrorCode::invalid_input, "field 'sort_key' must name columns of the table",
                    {{"field", "sort_key"}});
      }
      options.sort_key.emplace_back(c.as_string());
    }
  }
  def.schema_json = table_schema.to_json_text();
  def.options_json = boost::json::serialize(options.to_json());
  return def;
}

boost::json::object to_json(const catalog::Product& p) {
  return {{"name", p.name},
          {"description", p.description},
          {"owner", p.owner},
          {"created_at", calendar::iso_utc(p.created_unix_us)}};
}

boost::json::object to_json(const catalog::TableInfo& t) {
  auto options = TableOptions::from_json_text(t.options_json);
  boost::json::array key;
  for (const auto& k : t.primary_key) key.emplace_back(k);
  boost::json::object o{{"name", t.name},
                        {"kind", catalog::to_string(t.kind)},
                        {"primary_key", std::move(key)},
                        {"schema_version", t.schema_version},
                        {"columns", parse_or_empty(t.schema_json)},
                        {"unknown_fields", options.unknown_fields},
                        {"description", options.description},
                        {"created_snapshot", t.created_snapshot},
                        {"created_at", calendar::iso_utc(t.created_unix_us)}};
  o["partition_by"] =
      t.partition.enabled()
          ? boost::json::value(boost::json::object{{"column", t.partition.column},
                                                   {"transform", t.partition.transform}})
          : boost::json::value(nullptr);
  o["idempotency_column"] = options.idempotency_column.empty()
                                ? boost::json::value(nullptr)
                                : boost::json::value(options.idempotency_column);
  if (!options.sort_key.empty()) o["sort_key"] = options.to_json().at("sort_key");
  return o;
}

boost::json::object to_json(const catalog::Snapshot& s) {
  return {{"id", s.id},
          {"parent", s.parent ? boost::json::value(*s.parent) : boost::json::value(nullptr)},
          {"committed_at", calendar::iso_utc(s.committed_unix_us)},
          {"operation", catalog::to_string(s.operation)},
          {"summary", parse_or_empty(s.summary_json)},
          {"watermark", s.watermark}};
}

catalog::Product ProductService::require_product(const std::string& product) const {
  auto p = catalog_.find_product(product);
  if (!p) {
    throw Error(ErrorCode::not_found, "product '" + product + "' does not exist",
                {{"product", product}});
  }
  return *p;
}

catalog::TableInfo ProductService::require_table(const std::string& product,
                                                 const std::string& table) const {
  // One catalog read on the common path; the product is looked up apart only
  // to say which of the two is missing.
  auto t = catalog_.find_table(product, table);
  if (!t) {
    require_product(product);
    throw Error(ErrorCode::not_found,
                "table '" + table + "' does not exist in product '" + product + "'",
                {{"product", product}, {"table", table}});
  }
  return *t;
}

boost::json::object ProductService::create_product(const boost::json::value& body) {
  const auto& o = require_object(body, "a product definition");
  catalog::ProductDef def{optional_string(o, "name"), optional_string(o, "description"),
                          optional_string(o, "owner")};
  if (def.name.empty())
    throw Error(ErrorCode::invalid_input, "field 'name' is required", {{"field", "name"}});
  return to_json(catalog_.create_product(def));
}

boost::json::array ProductService::list_products() const {
  boost::json::array out;
  for (const auto& p : catalog_.list_products()) out.emplace_back(to_json(p));
  return out;
}

boost::json::object ProductService::describe_product(const std::string& product) const {
  auto o = to_json(require_product(product));
  o["tables"] = catalog_.list_tables(product).size();
  auto latest = catalog_.latest_snapshot(product);
  o["latest_snapshot"] =
      latest ? boost::json::value(to_json(*latest)) : boost::json::value(nullptr);
  return o;
}

boost::json::object ProductService::create_table(const std::string& product,
                                                 const boost::json::value& body) {
  require_product(product);
  auto def = parse_table_definition(body);
  auto [table, snapshot] = catalog_.create_table(product, def);
  auto o = to_json(table);
  o["snapshot_id"] = snapshot.id;
  return o;
}

boost::json::array ProductService::list_tables(const std::string& product) const {
  require_product(product);
  boost::json::array out;
  for (const auto& t : catalog_.list_tables(product)) out.emplace_back(to_json(t));
  return out;
}

boost::json::object ProductService::describe_table(const std::string& product,
                                                   const std::string& table) const {
  auto t = require_table(product, table);
  auto o = to_json(t);
  boost::json::array history;
  for (const auto& v : catalog_.schema_history(product, table)) {
    history.emplace_back(boost::json::object{{"version", v.version},
                                             {"snapshot_id", v.snapshot_id},
                                             {"created_at", calendar::iso_utc(v.created_unix_us)},
                                             {"columns", parse_or_empty(v.schema_json)}});
  }
  o["schema_history"] = std::move(history);
  auto latest = catalog_.latest_snapshot(product);
  std::int64_t rows = 0, bytes = 0, files = 0, last_snapshot = t.created_snapshot;
  if (latest) {
    for (const auto& f : catalog_.live_files(product, latest->id, table)) {
      rows += f.row_count;
      bytes += f.bytes;
      ++files;
      last_snapshot = std::max(last_snapshot, f.added_snapshot);
    }
  }
  o["row_count"] = rows;
  o["file_count"] = files;
  o["bytes"] = bytes;
  o["last_snapshot_id"] = last_snapshot;
  return o;
}

boost::json::object ProductService::drop_table(const std::string& product,
                                               const std::string& table) {
  require_table(product, table);
  auto snapshot = catalog_.drop_table(product, table);
  return {{"dropped", table}, {"snapshot_id", snapshot.id}};
}

}  // namespace duckmesh::product
