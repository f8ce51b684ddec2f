// Query results as aligned text tables for a terminal:
//
//    id | name | amount
//   ----+------+--------
//     1 | a    |  10.50
//     2 | NULL |   2.00
//   (2 rows, snapshot 7)
//
// Numeric columns are right-aligned, others left-aligned; SQL NULL shows as
// NULL; line breaks and tabs inside a value show as \n, \r and \t so each
// row stays on one line. Widths count UTF-8 characters, not bytes.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duckmesh::client {

struct TextTable {
  std::vector<std::string> headers;
  std::vector<bool> right_aligned;                            // per column; missing = left
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt = NULL

  // Header, rule and rows, each line ending with '\n'.
  std::string render() const;
};

// Whether a column of this DuckDB type (as the query API names it, such as
// "BIGINT" or "DECIMAL(12,2)") is shown right-aligned.
bool numeric_type(std::string_view type_name);

// A query result in the API's JSON format ({"columns":[{"name","type"}],
// "rows":[[...]], "row_count", "truncated", "snapshot_id"}) as a table.
// Strings show without quotes, numbers and booleans as written, nested
// values (lists, structs) as compact JSON. Throws ProtocolError (see
// server_error.hpp) when `result` lacks columns or rows.
TextTable result_table(const boost::json::object& result);

// The table and its footer: "(N rows, snapshot S)", and a notice when the
// result was truncated at max_rows.
std::string render_result(const boost::json::object& result);

}  // namespace duckmesh::client
