#include "catalog/json_fields.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace duckmesh::catalog {
namespace {

[[noreturn]] void throw_malformed(std::string_view what, std::string_view text) {
  throw Error(ErrorCode::internal,
              "catalog holds a malformed " + std::string(what) + ": " + std::string(text));
}

boost::json::value parse_stored(std::string_view what, std::string_view text) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec) throw_malformed(what, text);
  return value;
}

}  // namespace

std::string encode_string_list(const std::vector<std::string>& items) {
  boost::json::array array;
  array.reserve(items.size());
  for (const auto& item : items) array.emplace_back(item);
  return boost::json::serialize(array);
}

std::vector<std::string> decode_string_list(std::string_view text) {
  const boost::json::value value = parse_stored("string list", text);
  if (!value.is_array()) throw_malformed("string list", text);
  std::vector<std::string> items;
  items.reserve(value.as_array().size());
  for (const auto& item : value.as_array()) {
    if (!item.is_string()) throw_malformed("string list", text);
    items.emplace_back(item.as_string());
  }
  return items;
}

std::string encode_column_stats(const std::vector<ColumnStats>& stats) {
  boost::json::array array;
  array.reserve(stats.size());
  for (const auto& column : stats) {
    boost::json::object entry;
    entry["column"] = column.column;
    if (column.min) entry["min"] = *column.min;
    if (column.max) entry["max"] = *column.max;
    entry["null_count"] = column.null_count;
    array.emplace_back(std::move(entry));
  }
  return boost::json::serialize(array);
}

std::vector<ColumnStats> decode_column_stats(std::string_view text) {
  const boost::json::value value = parse_stored("column statistics", text);
  if (!value.is_array()) throw_malformed("column statistics", text);
  std::vector<ColumnStats> stats;
  stats.reserve(value.as_array().size());
  for (const auto& item : value.as_array()) {
    const auto* entry = item.if_object();
    if (entry == nullptr) throw_malformed("column statistics", text);
    const auto* column = entry->if_contains("column");
    const auto* null_count = entry->if_contains("null_count");
    if (column == nullptr || !column->is_string() || null_count == nullptr ||
        !null_count->is_int64()) {
      throw_malformed("column statistics", text);
    }
    ColumnStats out;
    out.column = std::string(column->as_string());
    out.null_count = null_count->as_int64();
    for (auto [key, target] : {std::pair{"min", &out.min}, std::pair{"max", &out.max}}) {
      if (const auto* bound = entry->if_contains(key)) {
        if (!bound->is_string()) throw_malformed("column statistics", text);
        *target = std::string(bound->as_string());
      }
    }
    stats.push_back(std::move(out));
  }
  return stats;
}

}  // namespace duckmesh::catalog
