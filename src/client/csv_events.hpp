// CsvEventEncoder: turns CSV records into JSON events for one table, typed by
// the table's schema as the server describes it (the "columns" of
// GET /v1/products/{p}/tables/{t}).
//
// CSV cells are text; the ingest API wants JSON types (a bigint column takes
// a JSON number, not a string). Each cell becomes:
//   boolean                 true/false for true|false|t|f|1|0|yes|no (any case)
//   integer, bigint, double a JSON number for a number in decimal or exponent
//                           notation ("+7", "007", ".5", "1." are normalised to
//                           JSON's grammar; the digits are kept exactly)
//   decimal(p,s), date,     a JSON string of the cell without surrounding
//   timestamp, timestamptz, spaces (the API reads decimal strings exactly)
//   uuid
//   json                    the cell parsed as JSON when it is valid JSON
//   T[] (lists)             the cell parsed as JSON when it is a JSON array
//   anything else           a JSON string of the cell as written (varchar,
//                           char, and columns the schema lacks)
// Spaces around a cell are ignored for every type but text. A cell that
// does not read as its column's type is sent as a JSON string,
// so the server rejects it with its own message naming the field, rather
// than the client guessing. An empty unquoted cell is left out of the event
// (absent, so the column's default or NULL applies); a quoted empty cell
// ("") is the empty string for text columns and absent for the others.
#pragma once

#include <boost/json/array.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "client/csv_reader.hpp"

namespace duckmesh::client {

// How a cell is written into a JSON event.
enum class CellEncoding { text, literal, boolean, number, json, list };

// The encoding for a column type as the API spells it ("bigint",
// "decimal(12,2)", "varchar(40)", "integer[]", ...). Unknown names are text.
CellEncoding cell_encoding(std::string_view type_name);

// Appends `cell` to `out` as a JSON value for `encoding`; returns false (and
// appends nothing) when the cell is to be left out of the event.
bool append_cell(CellEncoding encoding, const CsvField& cell, std::string& out);

class CsvEventEncoder {
 public:
  // `header` is the CSV's first record (names trimmed of spaces); `columns`
  // the table's columns (objects with "name" and "type"). Throws
  // duckmesh::Error (invalid_input) when a header name is empty or repeated.
  CsvEventEncoder(const std::vector<CsvField>& header, const boost::json::array& columns);

  // Appends the record as one JSON object (no line break). Throws
  // duckmesh::Error (invalid_input) naming `line` when the record's field
  // count differs from the header's.
  void encode(const std::vector<CsvField>& record, std::size_t line, std::string& out) const;

  std::size_t width() const { return names_.size(); }

 private:
  std::vector<std::string> names_;  // JSON-encoded member names, with the ':'
  std::vector<CellEncoding> encodings_;
};

}  // namespace duckmesh::client
