// Values spliced into DuckDB SQL text, for the statements that cannot take
// them as prepared-statement parameters (file paths in read_parquet() and
// COPY ... TO, SET values, struct-type specs). Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace duckmesh::duck {

// `text` as a SQL string literal: in single quotes, each quote inside
// doubled ("it's" -> 'it''s'), every other byte as it is. DuckDB's plain
// '...' literals take no backslash escapes, so this is the whole escaping.
std::string quote_literal(std::string_view text);

}  // namespace duckmesh::duck
