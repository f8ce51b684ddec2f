// ProductService: data products and their tables, as users define them.
//
// Turns a user's table definition (JSON) into a checked catalog::TableDef:
// names, kind and primary key, partitioning, columns and their rules, table
// options (unknown-field policy, idempotency column). Describes tables with
// their live figures at the latest snapshot.
//
// Thread safety: stateless over the catalog; safe from any thread.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "catalog/catalog_repo.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::product {

// Options of a table stored beside its schema.
struct TableOptions {
  std::string unknown_fields = "reject";  // "reject" | "ignore"
  std::string idempotency_column;         // a column whose value keys idempotency
  std::string description;
  std::vector<std::string> sort_key;  // compaction orders rows by these columns

  boost::json::object to_json() const;
  static TableOptions from_json_text(const std::string& text);
};

// Parses and checks a table definition:
//   {"name", "kind": "append"|"keyed", "primary_key": [...],
//    "partition_by": {"column", "transform": "day"|"month"|"year"|"identity"},
//    "columns": [...], "unknown_fields": "reject"|"ignore",
//    "idempotency_column", "description", "sort_key": [...]}
// invalid_input naming the field on any problem.
catalog::TableDef parse_table_definition(const boost::json::value& body);

class ProductService {
 public:
  explicit ProductService(catalog::CatalogRepo& catalog) : catalog_(catalog) {}

  boost::json::object create_product(const boost::json::value& body);
  boost::json::array list_products() const;
  boost::json::object describe_product(const std::string& product) const;

  boost::json::object create_table(const std::string& product, const boost::json::value& body);
  boost::json::array list_tables(const std::string& product) const;
  // Schema, version history and live figures (row_count, file_count, bytes,
  // last_snapshot_id) at the latest snapshot.
  boost::json::object describe_table(const std::string& product, const std::string& table) const;
  boost::json::object drop_table(const std::string& product, const std::string& table);

  // The live table or not_found naming it.
  catalog::TableInfo require_table(const std::string& product, const std::string& table) const;
  catalog::Product require_product(const std::string& product) const;

 private:
  catalog::CatalogRepo& catalog_;
};

boost::json::object to_json(const catalog::Product& product);
boost::json::object to_json(const catalog::TableInfo& table);
boost::json::object to_json(const catalog::Snapshot& snapshot);

}  // namespace duckmesh::product
