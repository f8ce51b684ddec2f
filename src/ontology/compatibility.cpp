#include "ontology/compatibility.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "common/error.hpp"

namespace duckmesh::ontology {
namespace {

using schema::ColumnType;
using schema::TypeKind;

// Direction of a change: every old value is valid after it (widening), every
// new value was valid before it (narrowing), neither, or both (equal).
enum class Direction { same, widen, narrow, incompatible };

Direction type_direction(const ColumnType& from, const ColumnType& to) {
  if (from == to) return Direction::same;
  if (from.kind == TypeKind::integer && to.kind == TypeKind::bigint) return Direction::widen;
  if (from.kind == TypeKind::bigint && to.kind == TypeKind::integer) return Direction::narrow;
  if (from.kind == TypeKind::decimal && to.kind == TypeKind::decimal) {
    int from_int = from.precision - from.scale, to_int = to.precision - to.scale;
    if (to_int >= from_int && to.scale >= from.scale) return Direction::widen;
    if (to_int <= from_int && to.scale <= from.scale) return Direction::narrow;
    return Direction::incompatible;
  }
  if (from.kind == TypeKind::varchar && to.kind == TypeKind::varchar) {
    if (from.fixed_length != to.fixed_length && to.max_length != 0) return Direction::incompatible;
    auto len = [](const ColumnType& t) {
      return t.max_length == 0 ? std::numeric_limits<long>::max() : long(t.max_length);
    };
    if (to.fixed_length && from.fixed_length) return Direction::incompatible;  // CHAR(n)≠CHAR(m)
    return len(to) >= len(from) ? Direction::widen : Direction::narrow;
  }
  if (from.kind == TypeKind::timestamp && to.kind == TypeKind::timestamptz)
    return Direction::incompatible;  // the meaning of stored values changes
  if (from.kind == TypeKind::list && to.kind == TypeKind::list && from.element && to.element)
    return type_direction(*from.element, *to.element);
  return Direction::incompatible;
}

bool allowed_in(Compatibility mode, Direction d) {
  switch (mode) {
    case Compatibility::none: return true;
    case Compatibility::backward: return d == Direction::same || d == Direction::widen;
    case Compatibility::forward: return d == Direction::same || d == Direction::narrow;
    case Compatibility::full: return d == Direction::same;
  }
  return false;
}

std::string mode_reason(Compatibility mode, Direction d) {
  if (mode == Compatibility::none) return "compatibility mode 'none' checks nothing";
  switch (d) {
    case Direction::same: return "no effect on stored data";
    case Direction::widen:
      return mode == Compatibility::backward
                 ? "every stored value is still valid"
                 : "readers of the old schema cannot hold every new value (mode '" +
                       std::string(to_string(mode)) + "')";
    case Direction::narrow:
      return mode == Compatibility::forward ? "every new value is valid under the old schema"
                                            : "stored values may not fit the new schema (mode '" +
                                                  std::string(to_string(mode)) + "')";
    case Direction::incompatible: return "stored values cannot be read as the new type";
  }
  return {};
}

// A set of rules is `looser` when every value valid before is valid after.
Direction rules_direction(const schema::Constraints& a, const schema::Constraints& b) {
  bool looser = true, tighter = true;
  auto both = [&](bool loosens, bool tightens) {
    looser = looser && loosens;
    tighter = tighter && tightens;
  };
  std::set<std::string> ea(a.enum_values.begin(), a.enum_values.end());
  std::set<std::string> eb(b.enum_values.begin(), b.enum_values.end());
  if (ea != eb) {
    bool b_has_a = ea.empty()
                       ? eb.empty()
                       : (eb.empty() || std::includes(eb.begin(), eb.end(), ea.begin(), ea.end()));
    bool a_has_b = eb.empty()
                       ? ea.empty()
                       : (ea.empty() || std::includes(ea.begin(), ea.end(), eb.begin(), eb.end()));
    both(b_has_a, a_has_b);
  }
  auto bound = [&](const std::optional<double>& x, const std::optional<double>& y, bool is_min) {
    if (x == y) return;
    // looser: y absent, or y further out than x
    bool loosens = !y || (x && (is_min ? *y <= *x : *y >= *x));
    bool tightens = !x || (y && (is_min ? *y >= *x : *y <= *x));
    both(loosens, tightens);
  };
  bound(a.minimum, b.minimum, true);
  bound(a.maximum, b.maximum, false);
  if (a.max_length != b.max_length) {
    bool loosens = !b.max_length || (a.max_length && *b.max_length >= *a.max_length);
    bool tightens = !a.max_length || (b.max_length && *b.max_length <= *a.max_length);
    both(loosens, tightens);
  }
  if (a.pattern != b.pattern) both(!b.pattern, !a.pattern);
  if (looser && tighter) return Direction::same;
  if (looser) return Direction::widen;
  if (tighter) return Direction::narrow;
  return Direction::incompatible;
}

std::string rules_text(const schema::Constraints& c) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  if (!c.enum_values.empty()) {
    std::string e;
    for (const auto& v : c.enum_values) e += (e.empty() ? "" : "|") + v;
    add("enum " + e);
  }
  if (c.minimum) add("minimum " + std::to_string(*c.minimum));
  if (c.maximum) add("maximum " + std::to_string(*c.maximum));
  if (c.max_length) add("max_length " + std::to_string(*c.max_length));
  if (c.pattern) add("pattern " + *c.pattern);
  return out.empty() ? "none" : out;
}

}  // namespace

std::string_view to_string(Compatibility mode) {
  switch (mode) {
    case Compatibility::backward: return "backward";
    case Compatibility::forward: return "forward";
    case Compatibility::full: return "full";
    case Compatibility::none: return "none";
  }
  return "backward";
}

Compatibility compatibility_from_string(std::string_view text) {
  if (text == "backward") return Compatibility::backward;
  if (text == "forward") return Compatibility::forward;
  if (text == "full") return Compatibility::full;
  if (text == "none") return Compatibility::none;
  throw Error(ErrorCode::invalid_input,
              "compatibility mode '" + std::string(text) +
                  "' is not known: one of backward, forward, full, none",
              {{"field", "compatibility"}, {"value", std::string(text)}});
}

bool CompatibilityReport::compatible() const {
  return std::all_of(changes.begin(), changes.end(), [](const auto& c) { return c.allowed; });
}

boost::json::object CompatibilityReport::to_json() const {
  boost::json::array list;
  for (const auto& c : changes) {
    list.emplace_back(boost::json::object{{"column", c.column},
                                          {"change", c.change},
                                          {"from", c.from},
                                          {"to", c.to},
                                          {"allowed", c.allowed},
                                          {"reason", c.reason}});
  }
  return {{"mode", to_string(mode)}, {"compatible", compatible()}, {"changes", std::move(list)}};
}

CompatibilityReport check_compatibility(const schema::TableSchema& current,
                                        const schema::TableSchema& proposed, Compatibility mode) {
  CompatibilityReport report;
  report.mode = mode;
  bool none = mode == Compatibility::none;
  for (const auto& old_column : current.columns) {
    const auto* now = proposed.find(old_column.name);
    if (!now) {
      report.changes.push_back(
          {old_column.name, "dropped", old_column.type.name(), "", none,
           none ? "compatibility mode 'none' checks nothing"
                : "dropping a column loses its stored values for every reader; force to drop it"});
      continue;
    }
    auto d = type_direction(old_column.type, now->type);
    if (d != Direction::same) {
      bool ok = d == Direction::incompatible ? none : allowed_in(mode, d);
      report.changes.push_back({old_column.name, "type_changed", old_column.type.name(),
                                now->type.name(), ok, mode_reason(mode, d)});
    }
    if (old_column.nullable != now->nullable) {
      // optional → required tightens (old rows may hold NULL); the reverse loosens.
      auto nd = now->nullable ? Direction::widen : Direction::narrow;
      report.changes.push_back({old_column.name, "nullability_changed",
                                old_column.nullable ? "optional" : "required",
                                now->nullable ? "optional" : "required", allowed_in(mode, nd),
                                nd == Direction::widen && mode != Compatibility::backward && !none
                                    ? "readers of the old schema expect a value (mode '" +
                                          std::string(to_string(mode)) + "')"
                                : nd == Direction::narrow && mode != Compatibility::forward && !none
                                    ? "stored rows may hold NULL in a now required column (mode '" +
                                          std::string(to_string(mode)) + "')"
                                    : mode_reason(mode, Direction::same)});
    }
    auto rd = rules_direction(old_column.constraints, now->constraints);
    if (rd != Direction::same) {
      bool ok = rd == Direction::incompatible ? none : allowed_in(mode, rd);
      report.changes.push_back({old_column.name, "rule_changed", rules_text(old_column.constraints),
                                rules_text(now->constraints), ok,
                                rd == Direction::incompatible && !none
                                    ? "the rules change in both directions: stored values may "
                                      "break the new ones and new values the old ones"
                                    : mode_reason(mode, rd)});
    }
    bool defaults_differ =
        old_column.default_value.has_value() != now->default_value.has_value() ||
        (old_column.default_value && *old_column.default_value != *now->default_value);
    if (old_column.description != now->description || old_column.pii != now->pii ||
        defaults_differ) {
      report.changes.push_back({old_column.name, "metadata_changed", "", "", true,
                                "description, pii or default: no effect on stored data"});
    }
  }
  for (const auto& c : proposed.columns) {
    if (current.find(c.name)) continue;
    if (c.nullable || none) {
      report.changes.push_back({c.name, "added", "", c.type.name(), true,
                                c.nullable ? "an optional column: stored rows read it as NULL"
                                           : "compatibility mode 'none' checks nothing"});
    } else {
      report.changes.push_back(
          {c.name, "added", "", c.type.name(), false,
           "a required column has no value in stored rows; publish it as optional, or force"});
    }
  }
  return report;
}

}  // namespace duckmesh::ontology
