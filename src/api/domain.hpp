// The domain API of the default product: its tables as the ontology declares
// them.
//   POST   /ops/initialize             create or evolve every table the ontology lists
//   GET    /admin/tables               the product's tables, with ontology version and mode
//   POST   /admin/tables               {"table", "compatibility"?}: create from the ontology
//                                      (201 created, 200 unchanged, 409 exists and differs)
//   PUT    /admin/tables/{table}       evolve to the ontology's latest version
//                                      (?force=true, ?compatibility=...), with the report;
//                                      409 with the report when refused
//   DELETE /admin/tables/{table}       drop the table
//   GET    /admin/ontology             ontology client status (breaker, source in use)
#pragma once

#include <string>

#include "domain/ontology_tables.hpp"
#include "http/router.hpp"

namespace duckmesh::api {

struct DomainContext {
  std::string product;  // the default product
  domain::OntologyTables* tables = nullptr;
  product::ProductService* products = nullptr;
  ontology::OntologyClient* ontology = nullptr;
};

void add_domain_routes(http::Router& router, DomainContext context);

}  // namespace duckmesh::api
