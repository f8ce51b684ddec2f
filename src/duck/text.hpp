// DuckDB's text forms of scalar values, reproduced without a database.
//
// `CAST(x AS VARCHAR)` is the reference for every function here; the unit
// tests compare against DuckDB itself. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "duck/value.hpp"

namespace duckmesh::duck {

// Shortest text that reads back to the same double: fixed notation with a
// ".0" for whole numbers when the decimal exponent is in [-4, 16)
// ("1.0", "0.0001", "1000000000000000.0"), scientific otherwise ("1e+16",
// "1.5e-07"); "nan", "-nan", "inf", "-inf".
std::string format_double(double value);
// The same rules with the shortest text that reads back to the same float
// (1.1f prints "1.1", not "1.100000023841858").
std::string format_float(float value);

// BLOB text: printable ASCII as is, every other byte and the characters
// \ ' " as "\xHH" with upper-case hex ("\xAAA\x5C").
std::string format_blob(std::string_view bytes);

// UUID text (lower-case 8-4-4-4-12) of DuckDB's storage: a HUGEINT whose
// top bit is flipped so that signed order equals UUID order.
std::string format_uuid(Int128 stored);

// Appends a scalar's text as an element of a LIST, STRUCT or MAP: as is,
// unless DuckDB would quote it (empty, "null" in any case, leading or
// trailing whitespace, or any of ( ) [ ] { } , : = ' "), in which case it is
// wrapped in single quotes with ' and \ escaped by a backslash.
void append_nested_scalar(std::string& out, std::string_view text);

// Appends a STRUCT field name as DuckDB prints it inside a value:
// always single-quoted, ' and \ escaped by a backslash ("{'a': 1}").
void append_struct_key(std::string& out, std::string_view name);

}  // namespace duckmesh::duck
