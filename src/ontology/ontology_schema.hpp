// OntologySchema: one table definition as an ontology server publishes it.
//
// The wire shape is the one existing ontology servers of this kind serve:
//   {"name", "description", "version",
//    "columns": [{"name", "type", "description", "required"}]}
// where "type" is a DuckDB type literal (UUID, VARCHAR, TEXT, DECIMAL(20,2),
// INTEGER, DATE, TIMESTAMP, CHAR(3), ...). DuckMesh reads these optional
// extensions too: "primary_key", "kind" (append | keyed), "partition_by"
// ({"column", "transform"} or a column name), "owner", "tags", and per column
// "enum", "minimum", "maximum", "pattern", "max_length", "pii", "default",
// "tags", "references" ({"table", "column"} or "table.column").
//
// Fields DuckMesh does not know are kept (in `extra`) and written back by
// to_json(), never rejected. Types are parsed into schema::ColumnType and
// checked; the SQL DuckDB sees is generated from the parsed type.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/column_type.hpp"

namespace duckmesh::ontology {

struct ForeignKey {
  std::string table;
  std::string column;
};

struct OntologyColumn {
  std::string name;
  std::string type_literal;  // as published, e.g. "DECIMAL(20,2)"
  schema::ColumnType type;   // parsed from type_literal
  std::string description;
  bool required = false;
  std::vector<std::string> enum_values;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<std::string> pattern;
  std::optional<std::size_t> max_length;
  bool pii = false;
  std::optional<boost::json::value> default_value;
  std::vector<std::string> tags;
  std::optional<ForeignKey> references;
  boost::json::object extra;  // fields this version does not know
};

struct PartitionBy {
  std::string column;
  std::string transform = "identity";  // day | month | year | identity
};

struct OntologySchema {
  std::string name;  // also the table name
  std::string description;
  std::string version;  // as published ("1", "1.2.0"); numbers are kept as their text
  std::string owner;
  std::string kind;  // "append" or "keyed"; keyed when a primary key is given
  std::vector<std::string> primary_key;
  std::optional<PartitionBy> partition_by;
  std::vector<std::string> tags;
  std::vector<OntologyColumn> columns;
  boost::json::object extra;

  const OntologyColumn* find(std::string_view column) const;

  // Parses a published definition. invalid_input naming the schema, the
  // column and the field on any problem (e.g. "schema 'projects', column
  // 'dscr': type 'DECIMAL(50,2)' ...").
  static OntologySchema parse(const boost::json::value& value);
  static OntologySchema parse_text(std::string_view text);

  // The definition as published, unknown fields included.
  boost::json::object to_json() const;

  // The table definition product::parse_table_definition accepts, with the
  // column types in their canonical spelling (never the published text).
  boost::json::object table_definition() const;
};

}  // namespace duckmesh::ontology
