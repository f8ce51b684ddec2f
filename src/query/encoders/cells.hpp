// Text of single values for the row encodings (see query/encoders.hpp for
// the rules). Every function appends to `out` and allocates nothing per
// value except for the types whose text comes from DuckDB's reader (TIME,
// INTERVAL, UUID, BLOB, UHUGEINT, TIMESTAMP_NS) and map keys that are not
// strings.
#pragma once

#include <string>
#include <string_view>

#include "duck/data_chunk.hpp"

namespace duckmesh::query::encoding {

// The JSON value of `row` of `column` (null for NULL).
void append_json_value(std::string& out, const duck::VectorReader& column, idx_t row);

// The CSV field of `row` of `column`: nothing for NULL, a quoted field
// when the text is empty or holds a comma, quote, CR or LF, or starts or
// ends with a space (which CSV readers may trim). `scratch` is reused
// between calls to avoid allocating.
void append_csv_field(std::string& out, std::string& scratch, const duck::VectorReader& column,
                      idx_t row);

// `text` as a CSV field, quoted only when needed (the rule above).
void append_csv_text(std::string& out, std::string_view text);

// `value` with three decimals, as elapsed times are written.
void append_fixed3(std::string& out, double value);

}  // namespace duckmesh::query::encoding
