#include "duck/duckdb_error.hpp"

#include <array>
#include <utility>

namespace duckmesh::duck::detail {
namespace {

// DuckDB's names of its error kinds (Exception::ExceptionTypeToString), the
// text in front of " Error: " in every message it produces.
constexpr std::array<std::pair<duckdb_error_type, std::string_view>, 43> kErrorNames{{
    {DUCKDB_ERROR_INVALID, "Invalid"},
    {DUCKDB_ERROR_OUT_OF_RANGE, "Out of Range"},
    {DUCKDB_ERROR_CONVERSION, "Conversion"},
    {DUCKDB_ERROR_UNKNOWN_TYPE, "Unknown Type"},
    {DUCKDB_ERROR_DECIMAL, "Decimal"},
    {DUCKDB_ERROR_MISMATCH_TYPE, "Mismatch Type"},
    {DUCKDB_ERROR_DIVIDE_BY_ZERO, "Divide by Zero"},
    {DUCKDB_ERROR_OBJECT_SIZE, "Object Size"},
    {DUCKDB_ERROR_INVALID_TYPE, "Invalid type"},
    {DUCKDB_ERROR_SERIALIZATION, "Serialization"},
    {DUCKDB_ERROR_TRANSACTION, "TransactionContext"},
    {DUCKDB_ERROR_NOT_IMPLEMENTED, "Not implemented"},
    {DUCKDB_ERROR_EXPRESSION, "Expression"},
    {DUCKDB_ERROR_CATALOG, "Catalog"},
    {DUCKDB_ERROR_PARSER, "Parser"},
    {DUCKDB_ERROR_PLANNER, "Planner"},
    {DUCKDB_ERROR_SCHEDULER, "Scheduler"},
    {DUCKDB_ERROR_EXECUTOR, "Executor"},
    {DUCKDB_ERROR_CONSTRAINT, "Constraint"},
    {DUCKDB_ERROR_INDEX, "Index"},
    {DUCKDB_ERROR_STAT, "Stat"},
    {DUCKDB_ERROR_CONNECTION, "Connection"},
    {DUCKDB_ERROR_SYNTAX, "Syntax"},
    {DUCKDB_ERROR_SETTINGS, "Settings"},
    {DUCKDB_ERROR_BINDER, "Binder"},
    {DUCKDB_ERROR_NETWORK, "Network"},
    {DUCKDB_ERROR_OPTIMIZER, "Optimizer"},
    {DUCKDB_ERROR_NULL_POINTER, "NullPointer"},
    {DUCKDB_ERROR_IO, "IO"},
    {DUCKDB_ERROR_INTERRUPT, "INTERRUPT"},
    {DUCKDB_ERROR_FATAL, "FATAL"},
    {DUCKDB_ERROR_INTERNAL, "INTERNAL"},
    {DUCKDB_ERROR_INVALID_INPUT, "Invalid Input"},
    {DUCKDB_ERROR_OUT_OF_MEMORY, "Out of Memory"},
    {DUCKDB_ERROR_PERMISSION, "Permission"},
    {DUCKDB_ERROR_PARAMETER_NOT_RESOLVED, "Parameter Not Resolved"},
    {DUCKDB_ERROR_PARAMETER_NOT_ALLOWED, "Parameter Not Allowed"},
    {DUCKDB_ERROR_DEPENDENCY, "Dependency"},
    {DUCKDB_ERROR_HTTP, "HTTP"},
    {DUCKDB_ERROR_MISSING_EXTENSION, "Missing Extension"},
    {DUCKDB_ERROR_AUTOLOAD, "Extension Autoloading"},
    {DUCKDB_ERROR_SEQUENCE, "Sequence"},
    {DUCKDB_INVALID_CONFIGURATION, "Invalid Configuration"},
}};

}  // namespace

ErrorCode error_code_for(duckdb_error_type type) {
  switch (type) {
    case DUCKDB_ERROR_INTERRUPT: return ErrorCode::timeout;
    case DUCKDB_ERROR_PERMISSION: return ErrorCode::forbidden;
    case DUCKDB_ERROR_OUT_OF_MEMORY: return ErrorCode::unavailable;
    case DUCKDB_ERROR_TRANSACTION:
    case DUCKDB_ERROR_CONSTRAINT: return ErrorCode::conflict;
    case DUCKDB_ERROR_INVALID:
    case DUCKDB_ERROR_SERIALIZATION:
    case DUCKDB_ERROR_PLANNER:
    case DUCKDB_ERROR_SCHEDULER:
    case DUCKDB_ERROR_EXECUTOR:
    case DUCKDB_ERROR_INDEX:
    case DUCKDB_ERROR_STAT:
    case DUCKDB_ERROR_CONNECTION:
    case DUCKDB_ERROR_SETTINGS:
    case DUCKDB_ERROR_NETWORK:
    case DUCKDB_ERROR_OPTIMIZER:
    case DUCKDB_ERROR_NULL_POINTER:
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_FATAL:
    case DUCKDB_ERROR_INTERNAL:
    case DUCKDB_ERROR_HTTP:
    case DUCKDB_INVALID_CONFIGURATION: return ErrorCode::internal;
    default: return ErrorCode::invalid_input;
  }
}

std::string_view error_type_name(duckdb_error_type type) {
  if (type == DUCKDB_ERROR_INVALID) return "";
  for (const auto& [t, name] : kErrorNames) {
    if (t == type) return name;
  }
  return "";
}

duckdb_error_type error_type_from_message(std::string_view message) {
  for (const auto& [t, name] : kErrorNames) {
    if (t == DUCKDB_ERROR_INVALID) continue;
    if (message.size() > name.size() && message.substr(0, name.size()) == name &&
        message.substr(name.size()).starts_with(" Error:")) {
      return t;
    }
  }
  return DUCKDB_ERROR_INVALID;
}

void throw_duckdb_error(std::string_view context, const char* message, duckdb_error_type type,
                        ErrorCode fallback) {
  std::string_view text =
      message != nullptr && message[0] != '\0' ? message : "DuckDB reported no error text";
  if (type == DUCKDB_ERROR_INVALID) type = error_type_from_message(text);
  ErrorCode code = type == DUCKDB_ERROR_INVALID ? fallback : error_code_for(type);
  boost::json::object details;
  if (auto name = error_type_name(type); !name.empty()) details["duckdb_error_type"] = name;
  std::string full(context);
  full += ": ";
  full += text;
  throw Error(code, std::move(full), std::move(details));
}

std::string c_string(std::string_view text, std::string_view what) {
  if (text.find('\0') != std::string_view::npos) {
    throw Error(ErrorCode::invalid_input, std::string(what) + " must not contain a NUL byte");
  }
  return std::string(text);
}

}  // namespace duckmesh::duck::detail
