#include "domain/ontology_tables.hpp"

#include <boost/json.hpp>

#include "common/error.hpp"
#include "obs/log.hpp"

namespace duckmesh::domain {
namespace {

boost::json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::optional<ontology::Compatibility> stored_mode(const catalog::TableInfo& t) {
  auto o = parse_object(t.options_json);
  if (auto it = o.find("compatibility"); it != o.end() && it->value().is_string()) {
    return ontology::compatibility_from_string(it->value().as_string());
  }
  return std::nullopt;
}

std::optional<ontology::Compatibility> published_mode(const ontology::OntologySchema& s) {
  if (auto it = s.extra.find("compatibility"); it != s.extra.end() && it->value().is_string()) {
    return ontology::compatibility_from_string(it->value().as_string());
  }
  return std::nullopt;
}

std::string options_with_ontology(const catalog::TableDef& def, const ontology::Resolved& r,
                                  ontology::Compatibility mode) {
  auto o = parse_object(def.options_json);
  o["compatibility"] = ontology::to_string(mode);
  o["ontology"] = {{"schema", r.schema.name},
                   {"version", r.schema.version},
                   {"owner", r.schema.owner},
                   {"source", ontology::to_string(r.origin)}};
  return boost::json::serialize(o);
}

// Why the definition's layout differs from the table's, or "".
std::string layout_change(const catalog::TableInfo& t, const catalog::TableDef& def) {
  if (t.kind != def.kind) {
    return "kind would change from " + std::string(catalog::to_string(t.kind)) + " to " +
           std::string(catalog::to_string(def.kind));
  }
  if (t.primary_key != def.primary_key) return "the primary key would change";
  if (t.partition.column != def.partition.column ||
      t.partition.transform != def.partition.transform) {
    return "the partitioning would change";
  }
  return {};
}

TableOutcome outcome_of(const std::string& table, const ontology::Resolved& r) {
  TableOutcome out;
  out.table = table;
  out.version = r.schema.version;
  out.origin = std::string(ontology::to_string(r.origin));
  return out;
}

}  // namespace

boost::json::object TableOutcome::to_json() const {
  boost::json::object o{{"table", table},
                        {"outcome", outcome},
                        {"ontology_version", version},
                        {"schema_source", origin},
                        {"schema_version", schema_version}};
  if (snapshot_id) o["snapshot_id"] = snapshot_id;
  if (report) o["compatibility"] = report->to_json();
  if (!message.empty()) o["message"] = message;
  if (forced) o["forced"] = true;
  return o;
}

bool OntologyTables::ensure_product(const std::string& product) {
  if (catalog_.find_product(product)) return false;
  try {
    catalog_.create_product({product, "Data product governed by the ontology", "ontology"});
    log::info("default product created", {{"product", product}});
    return true;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::conflict) return false;  // created meanwhile
    throw;
  }
}

TableOutcome OntologyTables::create(const std::string& product, const std::string& schema_id,
                                    std::optional<ontology::Compatibility> mode) {
  products_.require_product(product);
  auto existing = catalog_.find_table(product, schema_id);
  if (!existing) return apply(product, schema_id, mode, false);
  auto resolved = ontology_.get(schema_id);
  auto def = product::parse_table_definition(resolved.schema.table_definition());
  auto current = schema::TableSchema::from_json_text(existing->schema_json);
  auto proposed = schema::TableSchema::from_json_text(def.schema_json);
  auto use =
      mode ? *mode
           : published_mode(resolved.schema)
                 .value_or(stored_mode(*existing).value_or(ontology::Compatibility::backward));
  auto report = ontology::check_compatibility(current, proposed, use);
  auto layout = layout_change(*existing, def);
  if (report.unchanged() && layout.empty()) {
    auto out = outcome_of(schema_id, resolved);
    out.outcome = "unchanged";
    out.schema_version = existing->schema_version;
    out.report = std::move(report);
    return out;
  }
  boost::json::object details{{"table", schema_id}, {"compatibility", report.to_json()}};
  if (!layout.empty()) details["layout"] = layout;
  throw Error(ErrorCode::conflict,
              "table '" + schema_id + "' exists with a different schema; PUT /admin/tables/" +
                  schema_id + " evolves it to the ontology's version",
              std::move(details));
}

TableOutcome OntologyTables::apply(const std::string& product, const std::string& schema_id,
                                   std::optional<ontology::Compatibility> mode, bool force) {
  products_.require_product(product);
  auto resolved = ontology_.get(schema_id);
  catalog::TableDef def;
  try {
    def = product::parse_table_definition(resolved.schema.table_definition());
  } catch (const Error& e) {
    auto details = e.details();
    details["schema"] = schema_id;
    throw Error(ErrorCode::unprocessable,
                "the ontology's definition of '" + schema_id +
                    "' is not a valid table: " + std::string(e.message()),
                std::move(details));
  }
  auto out = outcome_of(schema_id, resolved);
  auto existing = catalog_.find_table(product, def.name);
  if (!existing) {
    auto use =
        mode ? *mode : published_mode(resolved.schema).value_or(ontology::Compatibility::backward);
    def.options_json = options_with_ontology(def, resolved, use);
    try {
      auto [table, snapshot] = catalog_.create_table(product, def);
      out.outcome = "created";
      out.schema_version = table.schema_version;
      out.snapshot_id = snapshot.id;
      return out;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::conflict) throw;
      existing = catalog_.find_table(product, def.name);  // created meanwhile
      if (!existing) throw;
    }
  }
  auto use =
      mode ? *mode
           : published_mode(resolved.schema)
                 .value_or(stored_mode(*existing).value_or(ontology::Compatibility::backward));
  out.schema_version = existing->schema_version;
  auto layout = layout_change(*existing, def);
  if (!layout.empty()) {
    out.outcome = "refused";
    out.message = layout + "; drop and recreate the table to change its layout";
    return out;
  }
  auto current = schema::TableSchema::from_json_text(existing->schema_json);
  auto proposed = schema::TableSchema::from_json_text(def.schema_json);
  auto report = ontology::check_compatibility(current, proposed, use);
  auto options = options_with_ontology(def, resolved, use);
  // Where the definition came from this time (server, cache) is no change.
  auto comparable = [](boost::json::object o) {
    if (auto it = o.find("ontology"); it != o.end() && it->value().is_object())
      it->value().as_object().erase("source");
    return o;
  };
  bool options_changed =
      comparable(parse_object(options)) != comparable(parse_object(existing->options_json));
  if (report.unchanged() && !options_changed) {
    out.outcome = "unchanged";
    out.report = std::move(report);
    return out;
  }
  if (!report.compatible() && !force) {
    out.outcome = "refused";
    out.message = "the new version breaks '" + std::string(ontology::to_string(use)) +
                  "' compatibility; force to apply it anyway";
    out.report = std::move(report);
    return out;
  }
  out.forced = !report.compatible();
  auto [table, snapshot] = catalog_.evolve_table(product, def.name, def.schema_json, options);
  log::info("table evolved", {{"product", product},
                              {"table", def.name},
                              {"schema_version", table.schema_version},
                              {"forced", out.forced}});
  out.outcome = "updated";
  out.schema_version = table.schema_version;
  out.snapshot_id = snapshot.id;
  out.report = std::move(report);
  return out;
}

boost::json::object OntologyTables::initialize(const std::string& product, bool force) {
  products_.require_product(product);
  auto listed = ontology_.list();
  boost::json::array tables;
  std::map<std::string, int> counts{
      {"created", 0}, {"updated", 0}, {"unchanged", 0}, {"refused", 0}, {"failed", 0}};
  for (const auto& id : listed.ids) {
    try {
      auto outcome = apply(product, id, std::nullopt, force);
      ++counts[outcome.outcome];
      tables.emplace_back(outcome.to_json());
    } catch (const Error& e) {
      ++counts["failed"];
      tables.emplace_back(boost::json::object{{"table", id},
                                              {"outcome", "failed"},
                                              {"error", to_string(e.code())},
                                              {"message", e.what()}});
    }
  }
  boost::json::object summary;
  for (const auto& [k, v] : counts) summary[k] = v;
  return {{"product", product},
          {"schema_list_source", ontology::to_string(listed.origin)},
          {"summary", std::move(summary)},
          {"tables", std::move(tables)}};
}

boost::json::array OntologyTables::list(const std::string& product) const {
  boost::json::array out;
  for (const auto& t : products_.list_tables(product)) {
    auto o = t.as_object();
    auto info = catalog_.find_table(product, std::string(o.at("name").as_string()));
    if (info) {
      auto options = parse_object(info->options_json);
      o["compatibility"] = options.contains("compatibility") ? options.at("compatibility")
                                                             : boost::json::value("backward");
      o["ontology"] =
          options.contains("ontology") ? options.at("ontology") : boost::json::value(nullptr);
    }
    out.emplace_back(std::move(o));
  }
  return out;
}

}  // namespace duckmesh::domain
