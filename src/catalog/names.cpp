#include "catalog/names.hpp"

#include <string>

#include "common/error.hpp"

namespace duckmesh::catalog {
namespace {

bool is_lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

[[noreturn]] void throw_bad_name(std::string_view field, std::string_view name,
                                 std::string_view rule) {
  boost::json::object details;
  details["field"] = field;
  details["value"] = name;
  details["rule"] = rule;
  throw Error(
      ErrorCode::invalid_input,
      "invalid " + std::string(field) + " '" + std::string(name) + "': " + std::string(rule),
      std::move(details));
}

}  // namespace

bool is_valid_product_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxProductNameLength) return false;
  if (!is_lower_or_digit(name.front())) return false;
  for (char c : name) {
    if (!is_lower_or_digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool is_valid_table_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxTableNameLength) return false;
  if (!is_letter(name.front()) && name.front() != '_') return false;
  for (char c : name) {
    if (!is_letter(c) && !is_digit(c) && c != '_') return false;
  }
  return true;
}

void require_valid_product_name(std::string_view name) {
  if (!is_valid_product_name(name)) {
    throw_bad_name("product name", name,
                   "1 to 63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit");
  }
}

void require_valid_table_name(std::string_view name) {
  if (!is_valid_table_name(name)) {
    throw_bad_name("table name", name,
                   "1 to 128 characters of A-Z, a-z, 0-9 and '_', not starting with a digit");
  }
}

}  // namespace duckmesh::catalog
