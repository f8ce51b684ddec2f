#include "duck/logical_type.hpp"

#include <cctype>
#include <utility>

#include "common/error.hpp"
#include "duck/keywords.hpp"

namespace duckmesh::duck {
namespace {

// Owns a char* that the C API allocated with duckdb_malloc.
class DuckString {
 public:
  explicit DuckString(char* text) noexcept : text_(text) {}
  ~DuckString() {
    if (text_ != nullptr) duckdb_free(text_);
  }
  DuckString(const DuckString&) = delete;
  DuckString& operator=(const DuckString&) = delete;

  bool empty() const { return text_ == nullptr; }
  std::string str() const { return text_ == nullptr ? std::string() : std::string(text_); }

 private:
  char* text_;
};

LogicalType require(duckdb_logical_type type, const char* what) {
  if (type == nullptr) {
    throw Error(ErrorCode::internal, std::string("DuckDB returned no logical type for ") + what);
  }
  return LogicalType(type);
}

bool is_plain_identifier(std::string_view name) {
  if (name.empty()) return false;
  auto first = static_cast<unsigned char>(name.front());
  if (!(std::isalpha(first) || first == '_') || first >= 0x80) return false;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || !(std::isalnum(c) || c == '_')) return false;
  }
  return true;
}

// A STRUCT/UNION field name in a type name: bare when it is a plain
// identifier that is no keyword, otherwise double-quoted.
std::string type_field_name(std::string_view name) {
  if (is_plain_identifier(name) && !is_duckdb_keyword(name)) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string enum_literal(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

LogicalType::~LogicalType() {
  if (type_ != nullptr) duckdb_destroy_logical_type(&type_);
}

LogicalType& LogicalType::operator=(LogicalType&& other) noexcept {
  if (this != &other) {
    if (type_ != nullptr) duckdb_destroy_logical_type(&type_);
    type_ = std::exchange(other.type_, nullptr);
  }
  return *this;
}

std::string type_id_name(duckdb_type id) {
  switch (id) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DECIMAL: return "DECIMAL";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_LIST: return "LIST";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_ARRAY: return "ARRAY";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_ANY: return "ANY";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    case DUCKDB_TYPE_SQLNULL: return "\"NULL\"";
    case DUCKDB_TYPE_STRING_LITERAL: return "STRING_LITERAL";
    case DUCKDB_TYPE_INTEGER_LITERAL: return "INTEGER_LITERAL";
    case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
    case DUCKDB_TYPE_INVALID: return "INVALID";
  }
  return "UNKNOWN(" + std::to_string(static_cast<int>(id)) + ")";
}

std::string_view statement_type_name(duckdb_statement_type type) {
  switch (type) {
    case DUCKDB_STATEMENT_TYPE_INVALID: return "INVALID";
    case DUCKDB_STATEMENT_TYPE_SELECT: return "SELECT";
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_EXPLAIN: return "EXPLAIN";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_PREPARE: return "PREPARE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "EXECUTE";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "TRANSACTION";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_ANALYZE: return "ANALYZE";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET: return "VARIABLE_SET";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE_FUNC";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "LOAD";
    case DUCKDB_STATEMENT_TYPE_RELATION: return "RELATION";
    case DUCKDB_STATEMENT_TYPE_EXTENSION: return "EXTENSION";
    case DUCKDB_STATEMENT_TYPE_LOGICAL_PLAN: return "LOGICAL_PLAN";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_MULTI: return "MULTI";
  }
  return "UNKNOWN";
}

std::string logical_type_name(duckdb_logical_type type) {
  return detail::describe_type(type).name;
}

namespace detail {

TypeInfo describe_type(duckdb_logical_type type) {
  TypeInfo info;
  info.id = duckdb_get_type_id(type);
  switch (info.id) {
    case DUCKDB_TYPE_DECIMAL:
      info.decimal_width = duckdb_decimal_width(type);
      info.decimal_scale = duckdb_decimal_scale(type);
      info.storage = duckdb_decimal_internal_type(type);
      info.name = "DECIMAL(" + std::to_string(info.decimal_width) + "," +
                  std::to_string(info.decimal_scale) + ")";
      break;
    case DUCKDB_TYPE_ENUM: {
      info.storage = duckdb_enum_internal_type(type);
      const std::uint32_t count = duckdb_enum_dictionary_size(type);
      info.enum_values.reserve(count);
      info.name = "ENUM(";
      for (std::uint32_t i = 0; i < count; ++i) {
        DuckString value(duckdb_enum_dictionary_value(type, i));
        if (value.empty()) throw Error(ErrorCode::internal, "DuckDB returned no ENUM value");
        info.enum_values.push_back(value.str());
        if (i > 0) info.name += ", ";
        info.name += enum_literal(info.enum_values.back());
      }
      info.name += ")";
      break;
    }
    case DUCKDB_TYPE_LIST: {
      LogicalType child = require(duckdb_list_type_child_type(type), "a LIST element");
      info.children.push_back(describe_type(child.get()));
      info.name = info.children[0].name + "[]";
      break;
    }
    case DUCKDB_TYPE_ARRAY: {
      LogicalType child = require(duckdb_array_type_child_type(type), "an ARRAY element");
      info.array_size = duckdb_array_type_array_size(type);
      info.children.push_back(describe_type(child.get()));
      info.name = info.children[0].name + "[" + std::to_string(info.array_size) + "]";
      break;
    }
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
      const bool is_union = info.id == DUCKDB_TYPE_UNION;
      const idx_t count =
          is_union ? duckdb_union_type_member_count(type) : duckdb_struct_type_child_count(type);
      info.name = is_union ? "UNION(" : "STRUCT(";
      for (idx_t i = 0; i < count; ++i) {
        DuckString name(is_union ? duckdb_union_type_member_name(type, i)
                                 : duckdb_struct_type_child_name(type, i));
        LogicalType child = require(is_union ? duckdb_union_type_member_type(type, i)
                                             : duckdb_struct_type_child_type(type, i),
                                    "a STRUCT field");
        info.field_names.push_back(name.str());
        info.children.push_back(describe_type(child.get()));
        if (i > 0) info.name += ", ";
        info.name += type_field_name(info.field_names.back()) + " " + info.children.back().name;
      }
      info.name += ")";
      break;
    }
    case DUCKDB_TYPE_MAP: {
      LogicalType key = require(duckdb_map_type_key_type(type), "a MAP key");
      LogicalType value = require(duckdb_map_type_value_type(type), "a MAP value");
      TypeInfo entry;
      entry.id = DUCKDB_TYPE_STRUCT;
      entry.field_names = {"key", "value"};
      entry.children.push_back(describe_type(key.get()));
      entry.children.push_back(describe_type(value.get()));
      entry.name = "STRUCT(\"key\" " + entry.children[0].name + ", \"value\" " +
                   entry.children[1].name + ")";
      info.name = "MAP(" + entry.children[0].name + ", " + entry.children[1].name + ")";
      info.children.push_back(std::move(entry));
      break;
    }
    default: info.name = type_id_name(info.id); break;
  }
  if (DuckString alias(duckdb_logical_type_get_alias(type)); !alias.empty()) {
    info.name = alias.str();
  }
  return info;
}

}  // namespace detail
}  // namespace duckmesh::duck
