// SchemaSource: where published table definitions come from.
//
// Implementations: BundledSchemaSource (JSON files in a folder shipped with
// the product) and HttpSchemaSource (an ontology server). OntologyClient puts
// a cache, a circuit breaker and the fallback chain in front of them.
//
// Contract: list_schemas() returns the ids of every published definition;
// fetch_schema(id) returns one definition, parsed and checked. Both throw
// duckmesh::Error: not_found when the source answers that there is no such
// schema, unavailable when it cannot answer (unreachable, timed out, server
// error, or it served something that is not a valid definition).
//
// Thread safety: implementations are safe to call from many threads.
#pragma once

#include <string>
#include <vector>

#include "ontology/ontology_schema.hpp"

namespace duckmesh::ontology {

class SchemaSource {
 public:
  virtual ~SchemaSource() = default;
  SchemaSource() = default;
  SchemaSource(const SchemaSource&) = delete;
  SchemaSource& operator=(const SchemaSource&) = delete;

  virtual std::vector<std::string> list_schemas() = 0;
  virtual OntologySchema fetch_schema(const std::string& id) = 0;
  // For messages and health: "bundled:/path" or "http://host:port".
  virtual std::string describe() const = 0;
};

}  // namespace duckmesh::ontology
