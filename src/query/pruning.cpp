#include "query/pruning.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>

namespace duckmesh::query {
namespace {

using boost::json::object;
using boost::json::value;

const value* member(const value& v, const char* name) {
  if (!v.is_object()) return nullptr;
  auto it = v.as_object().find(name);
  return it == v.as_object().end() ? nullptr : &it->value();
}

std::string text_of(const value* v) {
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Column name of a COLUMN_REF, accepting an optional qualifier equal to the
// table's name or alias.
std::optional<std::string> column_of(const value& expr, const std::string& table,
                                     const std::string& alias) {
  if (text_of(member(expr, "class")) != "COLUMN_REF") return std::nullopt;
  const auto* names = member(expr, "column_names");
  if (!names || !names->is_array()) return std::nullopt;
  const auto& a = names->as_array();
  if (a.size() == 1 && a[0].is_string()) return std::string(a[0].as_string());
  if (a.size() == 2 && a[0].is_string() && a[1].is_string()) {
    std::string q(a[0].as_string());
    if (q == table || (!alias.empty() && q == alias)) return std::string(a[1].as_string());
  }
  return std::nullopt;
}

bool constant_of(const value& expr, Predicate& p) {
  if (text_of(member(expr, "class")) != "CONSTANT") return false;
  const auto* v = member(expr, "value");
  if (!v || (member(*v, "is_null") && member(*v, "is_null")->is_bool() &&
             member(*v, "is_null")->as_bool())) {
    return false;
  }
  const auto* type = member(*v, "type");
  std::string id = type ? text_of(member(*type, "id")) : "";
  const auto* raw = member(*v, "value");
  if (!raw) return false;
  static const char* integers[] = {"TINYINT",  "SMALLINT",  "INTEGER",  "BIGINT",
                                   "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"};
  if (std::find(std::begin(integers), std::end(integers), id) != std::end(integers) ||
      id == "DOUBLE" || id == "FLOAT") {
    if (!raw->is_number()) return false;
    p.number = static_cast<long double>(raw->to_number<double>());
    if (raw->is_int64()) p.number = static_cast<long double>(raw->as_int64());
    if (raw->is_uint64()) p.number = static_cast<long double>(raw->as_uint64());
    return true;
  }
  if (id == "DECIMAL") {
    const auto* info = member(*type, "type_info");
    const auto* scale = info ? member(*info, "scale") : nullptr;
    if (!raw->is_number() || !scale || !scale->is_number()) return false;
    long double n = raw->is_int64() ? static_cast<long double>(raw->as_int64())
                                    : static_cast<long double>(raw->to_number<double>());
    for (auto s = scale->to_number<std::int64_t>(); s > 0; --s) n /= 10;
    p.number = n;
    return true;
  }
  if (id == "VARCHAR" && raw->is_string()) {
    p.text = std::string(raw->as_string());
    return true;
  }
  return false;
}

std::optional<Predicate::Op> op_of(const std::string& type, bool flipped) {
  using Op = Predicate::Op;
  if (type == "COMPARE_EQUAL") return Op::eq;
  if (type == "COMPARE_LESSTHAN") return flipped ? Op::gt : Op::lt;
  if (type == "COMPARE_LESSTHANOREQUALTO") return flipped ? Op::ge : Op::le;
  if (type == "COMPARE_GREATERTHAN") return flipped ? Op::lt : Op::gt;
  if (type == "COMPARE_GREATERTHANOREQUALTO") return flipped ? Op::le : Op::ge;
  return std::nullopt;
}

void collect(const value& expr, const std::string& table, const std::string& alias,
             std::vector<Predicate>& out) {
  std::string cls = text_of(member(expr, "class"));
  if (cls == "CONJUNCTION" && text_of(member(expr, "type")) == "CONJUNCTION_AND") {
    if (const auto* children = member(expr, "children"); children && children->is_array()) {
      for (const auto& c : children->as_array()) collect(c, table, alias, out);
    }
    return;
  }
  if (cls == "COMPARISON") {
    const auto* left = member(expr, "left");
    const auto* right = member(expr, "right");
    if (!left || !right) return;
    Predicate p;
    bool flipped = false;
    auto column = column_of(*left, table, alias);
    if (!column || !constant_of(*right, p)) {
      p = {};
      column = column_of(*right, table, alias);
      flipped = true;
      if (!column || !constant_of(*left, p)) return;
    }
    auto op = op_of(text_of(member(expr, "type")), flipped);
    if (!op) return;
    p.column = *column;
    p.op = *op;
    out.push_back(std::move(p));
    return;
  }
  if (cls == "BETWEEN") {
    const auto* input = member(expr, "input");
    const auto* lower = member(expr, "lower");
    const auto* upper = member(expr, "upper");
    if (!input || !lower || !upper) return;
    auto column = column_of(*input, table, alias);
    Predicate lo, hi;
    if (!column || !constant_of(*lower, lo) || !constant_of(*upper, hi)) return;
    lo.column = hi.column = *column;
    lo.op = Predicate::Op::ge;
    hi.op = Predicate::Op::le;
    out.push_back(std::move(lo));
    out.push_back(std::move(hi));
  }
  // Anything else (OR, functions, subqueries) constrains nothing we can use.
}

}  // namespace

std::map<std::string, std::vector<Predicate>> extract_predicates(duck::Connection& conn,
                                                                 std::string_view sql) {
  std::map<std::string, std::vector<Predicate>> result;
  std::string serialized;
  try {
    auto stmt = conn.prepare("SELECT json_serialize_sql(CAST($1 AS VARCHAR))");
    stmt.bind(1, sql);
    auto rows = stmt.execute().fetch_all();
    if (rows.empty() || !std::holds_alternative<std::string>(rows[0][0])) return result;
    serialized = std::get<std::string>(rows[0][0]);
  } catch (const std::exception&) {
    return result;  // not parseable here: DuckDB reports it when the query runs
  }
  boost::system::error_code ec;
  auto doc = boost::json::parse(serialized, ec);
  if (ec || !doc.is_object()) return result;
  if (const auto* err = member(doc, "error"); err && err->is_bool() && err->as_bool())
    return result;
  const auto* statements = member(doc, "statements");
  if (!statements || !statements->is_array() || statements->as_array().size() != 1) return result;
  const auto* node = member(statements->as_array()[0], "node");
  if (!node || text_of(member(*node, "type")) != "SELECT_NODE") return result;
  if (const auto* ctes = member(*node, "cte_map"); ctes) {
    const auto* map = member(*ctes, "map");
    if (map && map->is_array() && !map->as_array().empty()) return result;
  }
  const auto* from = member(*node, "from_table");
  if (!from || text_of(member(*from, "type")) != "BASE_TABLE") return result;
  if (!text_of(member(*from, "schema_name")).empty() ||
      !text_of(member(*from, "catalog_name")).empty()) {
    return result;
  }
  std::string table = text_of(member(*from, "table_name"));
  std::string alias = text_of(member(*from, "alias"));
  const auto* where = member(*node, "where_clause");
  if (table.empty() || !where || where->is_null()) return result;
  std::vector<Predicate> predicates;
  collect(*where, table, alias, predicates);
  if (!predicates.empty()) result[table] = std::move(predicates);
  return result;
}

bool file_may_match(const catalog::DataFile& file, const std::vector<Predicate>& predicates,
                    const std::vector<std::string>& numeric_columns,
                    const std::vector<std::string>& text_columns) {
  using Op = Predicate::Op;
  for (const auto& p : predicates) {
    const catalog::ColumnStats* stats = nullptr;
    for (const auto& s : file.stats) {
      if (s.column == p.column) stats = &s;
    }
    if (!stats) continue;  // file predates the column: all NULL, comparisons are false
    if (!stats->min || !stats->max) {
      // Every value is NULL: no comparison can be true.
      if (stats->null_count >= file.row_count && file.row_count > 0) return false;
      continue;
    }
    bool numeric = std::find(numeric_columns.begin(), numeric_columns.end(), p.column) !=
                   numeric_columns.end();
    bool text = std::find(text_columns.begin(), text_columns.end(), p.column) != text_columns.end();
    int below = 0, above = 0;  // constant vs [min, max]: -1 below min, +1 above max
    if (numeric && p.number) {
      char* end = nullptr;
      long double lo = std::strtold(stats->min->c_str(), &end);
      if (end == stats->min->c_str()) continue;
      long double hi = std::strtold(stats->max->c_str(), &end);
      if (end == stats->max->c_str()) continue;
      below = *p.number < lo ? 1 : 0;
      above = *p.number > hi ? 1 : 0;
      bool at_min = *p.number == lo, at_max = *p.number == hi;
      switch (p.op) {
        case Op::eq:
          if (below || above) return false;
          break;
        case Op::lt:
          if (below || at_min) return false;
          break;
        case Op::le:
          if (below) return false;
          break;
        case Op::gt:
          if (above || at_max) return false;
          break;
        case Op::ge:
          if (above) return false;
          break;
      }
    } else if (text && p.text) {
      int vs_min = p.text->compare(*stats->min), vs_max = p.text->compare(*stats->max);
      switch (p.op) {
        case Op::eq:
          if (vs_min < 0 || vs_max > 0) return false;
          break;
        case Op::lt:
          if (vs_min <= 0) return false;
          break;
        case Op::le:
          if (vs_min < 0) return false;
          break;
        case Op::gt:
          if (vs_max >= 0) return false;
          break;
        case Op::ge:
          if (vs_max > 0) return false;
          break;
      }
    }
  }
  return true;
}

}  // namespace duckmesh::query
