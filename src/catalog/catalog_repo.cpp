#include "catalog/catalog_repo.hpp"

#include <string>

#include "common/error.hpp"

namespace duckmesh::catalog {

std::string_view to_string(TableKind kind) {
  switch (kind) {
    case TableKind::append: return "append";
    case TableKind::keyed: return "keyed";
  }
  return "append";
}

std::string_view to_string(Operation op) {
  switch (op) {
    case Operation::ingest: return "ingest";
    case Operation::compact: return "compact";
    case Operation::schema: return "schema";
    case Operation::drop: return "drop";
  }
  return "ingest";
}

TableKind table_kind_from_string(std::string_view s) {
  if (s == "append") return TableKind::append;
  if (s == "keyed") return TableKind::keyed;
  boost::json::object details;
  details["field"] = "kind";
  details["value"] = s;
  throw Error(ErrorCode::invalid_input,
              "unknown table kind '" + std::string(s) + "'; expected 'append' or 'keyed'",
              std::move(details));
}

Operation operation_from_string(std::string_view s) {
  if (s == "ingest") return Operation::ingest;
  if (s == "compact") return Operation::compact;
  if (s == "schema") return Operation::schema;
  if (s == "drop") return Operation::drop;
  boost::json::object details;
  details["field"] = "operation";
  details["value"] = s;
  throw Error(ErrorCode::invalid_input,
              "unknown snapshot operation '" + std::string(s) +
                  "'; expected 'ingest', 'compact', 'schema' or 'drop'",
              std::move(details));
}

}  // namespace duckmesh::catalog
