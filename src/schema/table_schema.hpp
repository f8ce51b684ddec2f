// TableSchema: the columns of one table version, with the rules each value
// must obey. Stored in the catalog as JSON (to_json / from_json round-trip).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "schema/column_type.hpp"

namespace duckmesh::schema {

struct Constraints {
  std::vector<std::string> enum_values;  // empty: any value
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<std::string> pattern;  // ECMAScript regular expression, whole value
  std::optional<std::size_t> max_length;
};

struct Column {
  std::string name;
  ColumnType type;
  bool nullable = true;
  std::string description;
  bool pii = false;
  Constraints constraints;
  std::optional<boost::json::value> default_value;
};

// Hidden system columns every data file carries.
inline constexpr const char* kPositionColumn = "_dm_position";       // UBIGINT bus position
inline constexpr const char* kIngestedAtColumn = "_dm_ingested_at";  // TIMESTAMPTZ
inline constexpr const char* kOperationColumn = "_dm_op";  // VARCHAR 'upsert'|'delete' (keyed)

struct TableSchema {
  std::vector<Column> columns;

  const Column* find(std::string_view name) const;
  boost::json::array to_json() const;
  std::string to_json_text() const;
  // invalid_input naming the column and field on any bad entry.
  static TableSchema from_json(const boost::json::value& columns);
  static TableSchema from_json_text(const std::string& text);
};

// Names of products, tables and columns: 1-63 characters of [a-z0-9_],
// starting with a letter. `what` names the thing in the error ("table name").
void check_identifier(std::string_view what, std::string_view name);

// `name` in double quotes, for SQL text (names are checked identifiers, so
// this never needs escaping, but quoting keeps keywords such as "order" usable).
std::string quote_identifier(std::string_view name);

}  // namespace duckmesh::schema
