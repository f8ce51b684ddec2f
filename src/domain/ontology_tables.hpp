// OntologyTables: a product's tables as the ontology declares them.
//
// Creates a table from its published definition, evolves it when the
// ontology publishes a new version (checked by ontology::check_compatibility
// under the table's mode), and reports per table what happened. Every
// accepted change is one `schema` snapshot (CatalogRepo::evolve_table).
//
// The compatibility mode of a table is, in order: the one the caller names,
// the definition's own "compatibility" field, the one stored with the table,
// "backward". It is stored in the table options beside the ontology version
// and the source the definition came from (server, cache, bundled).
//
// Kind, primary key and partitioning cannot change by evolution (the stored
// files are laid out by them); such a definition is refused even when forced.
//
// Thread safety: safe from many threads; concurrent evolutions of one table
// are ordered by the catalog.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "catalog/catalog_repo.hpp"
#include "ontology/compatibility.hpp"
#include "ontology/ontology_client.hpp"
#include "product/product_service.hpp"

namespace duckmesh::domain {

struct TableOutcome {
  std::string table;
  std::string outcome;  // created | updated | unchanged | refused
  std::string version;  // ontology version of the definition
  std::string origin;   // where the definition came from
  std::int32_t schema_version = 0;
  std::int64_t snapshot_id = 0;  // of the schema snapshot, when one was made
  std::optional<ontology::CompatibilityReport> report;
  std::string message;  // why it was refused
  bool forced = false;

  boost::json::object to_json() const;
};

class OntologyTables {
 public:
  OntologyTables(catalog::CatalogRepo& catalog, product::ProductService& products,
                 ontology::OntologyClient& ontology)
      : catalog_(catalog), products_(products), ontology_(ontology) {}

  // Creates the product if it does not exist (owner and description naming
  // the ontology). Returns true when it was created.
  bool ensure_product(const std::string& product);

  // Creates the table from the ontology's definition `schema_id`. "created"
  // when new, "unchanged" when it exists with the same schema; conflict
  // (with the compatibility report in details) when it exists and differs.
  TableOutcome create(const std::string& product, const std::string& schema_id,
                      std::optional<ontology::Compatibility> mode);

  // Creates the table, or evolves it to the definition's latest version.
  // "refused" (nothing changes) when a change is not allowed under the mode
  // and `force` is false, or when kind/key/partitioning would change.
  TableOutcome apply(const std::string& product, const std::string& schema_id,
                     std::optional<ontology::Compatibility> mode, bool force);

  // apply() for every schema the ontology lists.
  boost::json::object initialize(const std::string& product, bool force);

  // The product's tables with their ontology version and compatibility mode.
  boost::json::array list(const std::string& product) const;

 private:
  catalog::CatalogRepo& catalog_;
  product::ProductService& products_;
  ontology::OntologyClient& ontology_;
};

}  // namespace duckmesh::domain
