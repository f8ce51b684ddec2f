// How a DuckDB failure becomes a duckmesh::Error. Internal to src/duck.
//
// The message always carries DuckDB's own text ("Parser Error: syntax error
// at or near ..."), prefixed with what we were doing. The code follows the
// kind of DuckDB error, so that callers can answer HTTP requests without
// parsing text:
//
//   Interrupted (a timeout fired duckdb_interrupt)      -> timeout
//   Permission (sandbox refused a file, setting, ...)   -> forbidden
//   Out of Memory                                       -> unavailable
//   TransactionContext, Constraint                      -> conflict
//   IO, Internal, Fatal, Connection, Serialization, ... -> internal
//   everything a query author can fix (Parser, Binder,
//   Catalog, Conversion, Out of Range, Invalid Input...) -> invalid_input
//
// details carry {"duckdb_error_type": "<kind as DuckDB names it>"} when the
// kind is known. All functions are thread-safe.
#pragma once

#include <duckdb.h>

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace duckmesh::duck::detail {

ErrorCode error_code_for(duckdb_error_type type);

// DuckDB's own name of an error kind ("Parser", "Binder", "INTERRUPT"...),
// the word in front of " Error: " in its messages. "" for DUCKDB_ERROR_INVALID.
std::string_view error_type_name(duckdb_error_type type);

// The kind named at the start of a DuckDB message ("Catalog Error: ..."),
// for the C API calls that give text but no kind (prepare, open).
// DUCKDB_ERROR_INVALID when the text names no known kind.
duckdb_error_type error_type_from_message(std::string_view message);

// Throws Error with `context: <DuckDB text>`. When `type` is
// DUCKDB_ERROR_INVALID it is taken from the message text, and when that
// names nothing either, `fallback` is the code.
[[noreturn]] void throw_duckdb_error(std::string_view context, const char* message,
                                     duckdb_error_type type, ErrorCode fallback);

// A NUL-terminated copy of SQL or a name for the C API. Throws
// Error(invalid_input) when the text holds a NUL byte: DuckDB would silently
// stop reading there, and the part it ignored could differ from what a
// caller inspected.
std::string c_string(std::string_view text, std::string_view what);

}  // namespace duckmesh::duck::detail
