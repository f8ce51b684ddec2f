#include "catalog/catalog_rules.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>
#include <iterator>

#include "catalog/names.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog {

[[noreturn]] void throw_invalid(std::string message, std::string_view field) {
  boost::json::object details;
  details["field"] = field;
  throw Error(ErrorCode::invalid_input, std::move(message), std::move(details));
}

[[noreturn]] void throw_product_not_found(const std::string& product) {
  boost::json::object details;
  details["product"] = product;
  throw Error(ErrorCode::not_found, "no product named '" + product + "'", std::move(details));
}

[[noreturn]] void throw_table_not_found(const std::string& product, const std::string& table) {
  boost::json::object details;
  details["product"] = product;
  details["table"] = table;
  throw Error(ErrorCode::not_found,
              "product '" + product + "' has no live table named '" + table + "'",
              std::move(details));
}

void throw_already_resolved(std::int64_t first, std::int64_t last) {
  const std::string range =
      first == last ? std::to_string(first) : std::to_string(first) + ".." + std::to_string(last);
  throw Error(ErrorCode::conflict,
              "bus positions " + range +
                  " are already resolved: another coordinator committed them first; "
                  "nothing of this publication was written");
}

std::int64_t stored_position(bus::Position position, std::string_view field) {
  if (position == 0 || position > static_cast<bus::Position>(kMaxPosition)) {
    throw_invalid("bus position " + std::to_string(position) + " is out of range 1.." +
                      std::to_string(kMaxPosition),
                  field);
  }
  return static_cast<std::int64_t>(position);
}

void validate_ranges(const std::vector<PositionRange>& ranges) {
  for (const auto& range : ranges) {
    stored_position(range.first, "resolved.first");
    stored_position(range.last, "resolved.last");
    if (range.first > range.last) {
      throw_invalid("resolved range [" + std::to_string(range.first) + ", " +
                        std::to_string(range.last) + "] has first > last",
                    "resolved");
    }
  }
}

std::string json_or_empty_object(const std::string& text) {
  return text.empty() ? "{}" : text;
}

void validate_table_def(const TableDef& def) {
  require_valid_table_name(def.name);
  if (def.schema_json.empty())
    throw_invalid("table '" + def.name + "' has an empty schema", "schema");
  if (def.kind == TableKind::keyed && def.primary_key.empty()) {
    throw_invalid("keyed table '" + def.name + "' needs a primary key", "primary_key");
  }
  if (def.kind == TableKind::append && !def.primary_key.empty()) {
    throw_invalid("append table '" + def.name + "' cannot have a primary key; use kind 'keyed'",
                  "primary_key");
  }
  for (const auto& column : def.primary_key) {
    if (column.empty())
      throw_invalid("primary key of '" + def.name + "' names an empty column", "primary_key");
  }
  if (def.partition.enabled()) {
    const auto& transform = def.partition.transform;
    if (transform != "day" && transform != "month" && transform != "year" &&
        transform != "identity") {
      throw_invalid("partition transform '" + transform +
                        "' is not one of 'day', 'month', 'year', 'identity'",
                    "partition.transform");
    }
  }
}

std::string schema_summary(std::string_view action, const std::string& table,
                           std::int32_t version) {
  boost::json::object summary;
  summary["action"] = action;
  summary["table"] = table;
  summary["schema_version"] = version;
  return boost::json::serialize(summary);
}

void validate_publication(const Publication& publication) {
  for (const auto& file : publication.added) {
    if (file.path.empty())
      throw_invalid("a new file of '" + file.table + "' has an empty path", "path");
    if (file.row_count < 0 || file.bytes < 0) {
      throw_invalid("file '" + file.path + "' has a negative row count or size", "row_count");
    }
  }
  for (const auto& entry : publication.idempotency) {
    if (entry.table.empty() || entry.key.empty()) {
      throw_invalid("an idempotency entry has an empty table or key", "idempotency");
    }
    stored_position(entry.position, "idempotency.position");
  }
}

[[noreturn]] void throw_product_exists(const std::string& product) {
  boost::json::object details;
  details["product"] = product;
  throw Error(ErrorCode::conflict, "a product named '" + product + "' already exists",
              std::move(details));
}

[[noreturn]] void throw_table_exists(const std::string& product, const std::string& table) {
  boost::json::object details;
  details["product"] = product;
  details["table"] = table;
  throw Error(ErrorCode::conflict,
              "product '" + product + "' already has a table named '" + table + "'",
              std::move(details));
}

[[noreturn]] void throw_file_not_found(const std::string& product, std::int64_t file_id) {
  boost::json::object details;
  details["product"] = product;
  details["file_id"] = file_id;
  throw Error(ErrorCode::not_found,
              "product '" + product + "' has no data file " + std::to_string(file_id),
              std::move(details));
}

[[noreturn]] void throw_file_not_live(const std::string& product, std::int64_t file_id,
                                      std::int64_t removed_in) {
  boost::json::object details;
  details["product"] = product;
  details["file_id"] = file_id;
  details["removed_snapshot"] = removed_in;
  throw Error(ErrorCode::conflict,
              "data file " + std::to_string(file_id) + " of product '" + product +
                  "' is no longer live: snapshot " + std::to_string(removed_in) + " removed it",
              std::move(details));
}

[[noreturn]] void throw_key_committed(const std::string& product, const IdempotencyEntry& entry,
                                      std::int64_t snapshot_id) {
  boost::json::object details;
  details["product"] = product;
  details["table"] = entry.table;
  details["idempotency_key"] = entry.key;
  details["snapshot_id"] = snapshot_id;
  throw Error(ErrorCode::conflict,
              "idempotency key '" + entry.key + "' of table '" + entry.table +
                  "' is already committed in snapshot " + std::to_string(snapshot_id) +
                  " of product '" + product + "'",
              std::move(details));
}

void validate_api_key(const ApiKeyRecord& key) {
  static const char* roles[] = {"reader", "writer", "admin", "superadmin"};
  if (std::find(std::begin(roles), std::end(roles), key.role) == std::end(roles)) {
    throw Error(ErrorCode::invalid_input,
                "role '" + key.role + "' is not one of reader, writer, admin, superadmin",
                {{"field", "role"}, {"value", key.role}});
  }
  if ((key.role == "superadmin") != key.product.empty()) {
    throw Error(ErrorCode::invalid_input,
                "a superadmin key has no product and every other key has one",
                {{"field", "product"}, {"role", key.role}});
  }
  if (key.id.empty() || key.secret_hash.empty()) {
    throw Error(ErrorCode::invalid_input, "an API key needs an id and a secret hash",
                {{"field", "id"}});
  }
}

std::string fingerprint_text(std::uint64_t fingerprint) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(fingerprint));
  return text;
}

std::uint64_t fingerprint_of_text(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.size() != 16 || ec != std::errc{} || end != text.data() + text.size()) {
    throw Error(ErrorCode::internal,
                "stored request fingerprint '" + std::string(text) + "' is not 16 hex digits");
  }
  return value;
}

void validate_request_record(const RequestRecord& record) {
  if (record.product.empty()) throw_invalid("a request answer needs its product", "product");
  if (record.table.empty()) throw_invalid("a request answer needs its table", "table");
  if (record.key.empty()) throw_invalid("a request answer needs its key", "key");
  if (record.answer.answer_json.empty()) {
    throw_invalid("a request answer is empty", "answer_json");
  }
}

void validate_audit_entry(const AuditEntry& entry) {
  if (entry.actor.empty() || entry.action.empty() || entry.outcome.empty()) {
    throw Error(ErrorCode::invalid_input,
                "an audit entry needs an actor, an action and an outcome");
  }
}

}  // namespace duckmesh::catalog
