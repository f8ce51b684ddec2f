#include "ingest/validation.hpp"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <regex>
#include <unordered_map>

#include "common/error.hpp"
#include "common/json_string.hpp"
#include "ingest/body.hpp"
#include "ingest/validation_tape.hpp"
#include "schema/binary_payload.hpp"
#include "schema/value_text.hpp"

namespace duckmesh::ingest {
namespace {

using schema::TypeKind;

constexpr std::size_t kMaxIdempotencyKeyBytes = 256;
constexpr std::string_view kIdempotencyField = "_idempotency_key";
constexpr std::string_view kOpField = "_op";
constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();
// std::regex matches by recursion, about 250-500 bytes of stack per input
// character depending on the pattern: a few tens of kilobytes of text would
// overflow a thread's stack. Longer values are refused before matching.
constexpr std::size_t kMaxPatternInputBytes = 2048;
// How much of an offending value an error message quotes.
constexpr std::size_t kQuoteBytes = 64;
// How many allowed values or columns an error message lists.
constexpr std::size_t kListedNames = 20;

// One refusal found while checking an event.
struct Problem {
  const char* code = "";
  std::string field;
  std::string message;
};

// A column's rules, prepared once per call so that nothing per event
// compiles a regex or looks a name up twice.
struct ColumnRule {
  const schema::Column* column = nullptr;
  // The type every value is checked against: the element type for a list.
  const schema::ColumnType* scalar = nullptr;
  bool list = false;
  std::string member;  // the field's name as the payload spells it ("\"name\":" in JSON)
  std::optional<std::regex> pattern;
  bool primary_key = false;
  bool idempotency = false;
  std::optional<std::string> default_value;  // canonical value text
  std::string default_key;                   // the default as idempotency key text
};

// At most kQuoteBytes of `s`, cut at a character boundary.
std::string_view clip(std::string_view s) {
  if (s.size() <= kQuoteBytes) return s;
  std::size_t n = kQuoteBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, clip(s));
  if (s.size() > kQuoteBytes) out.insert(out.size() - 1, "...");
  return out;
}

std::string list_names(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kListedNames; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  if (names.size() > kListedNames) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

std::string expected_text(const schema::ColumnType& t) {
  switch (t.kind) {
    case TypeKind::boolean: return "true or false";
    case TypeKind::integer: return "a whole number from -2147483648 to 2147483647";
    case TypeKind::bigint: return "a whole number from -9223372036854775808 to 9223372036854775807";
    case TypeKind::double_: return "a number";
    case TypeKind::decimal:
      return "a " + t.name() + " number (a JSON number or a string such as \"12.34\")";
    case TypeKind::varchar: return "a string";
    case TypeKind::date: return "a date string \"YYYY-MM-DD\"";
    case TypeKind::timestamp:
    case TypeKind::timestamptz:
      return "an RFC 3339 timestamp string such as \"2026-11-25T10:00:00Z\"";
    case TypeKind::uuid: return "a UUID string such as \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"";
    case TypeKind::json: return "any JSON value";
    case TypeKind::list: return "an array of " + expected_text(*t.element) + " or null";
  }
  return "a value";
}

class Validator {
 public:
  Validator(const schema::TableSchema& schema, const ValidatorOptions& options)
      : options_(options) {
    // Tables of scalar columns get binary payloads (schema/binary_payload.hpp).
    binary_ = true;
    for (const auto& c : schema.columns) {
      if (c.type.kind == TypeKind::list || c.type.kind == TypeKind::json) binary_ = false;
    }
    rules_.reserve(schema.columns.size());
    for (const auto& c : schema.columns) {
      ColumnRule rule;
      rule.column = &c;
      rule.list = c.type.kind == TypeKind::list;
      rule.scalar = rule.list ? c.type.element.get() : &c.type;
      if (binary_) {
        schema::put_field_name(c.name, rule.member);
      } else {
        append_json_string(rule.member, c.name);
        rule.member += ':';
      }
      if (c.constraints.pattern) {
        try {
          rule.pattern.emplace(*c.constraints.pattern,
                               std::regex::ECMAScript | std::regex::optimize);
        } catch (const std::regex_error& e) {
          throw Error(
              ErrorCode::invalid_input,
              "column '" + c.name + "': pattern is not a valid regular expression: " + e.what(),
              {{"column", c.name}});
        }
      }
      by_name_.emplace(c.name, static_cast<std::uint32_t>(rules_.size()));
      rules_.push_back(std::move(rule));
      column_names_.push_back(c.name);
    }
    if (!options.idempotency_column.empty()) {
      rule_for_option(options.idempotency_column, "idempotency column").idempotency = true;
    }
    if (options.keyed) {
      if (options.primary_key.empty()) {
        throw Error(ErrorCode::invalid_input,
                    "a keyed table needs at least one primary key column");
      }
      for (const auto& k : options.primary_key)
        rule_for_option(k, "primary key column").primary_key = true;
    }
    for (auto& rule : rules_) {
      if (rule.column->default_value) prepare_default(rule);
    }
    slots_.resize(rules_.size());
    order_.assign(rules_.size(), kAbsent);
  }

  // Checks one event's text. True: its payload is appended to `out` and
  // `event.idempotency_key` is filled. False: `problem` says why, and `out`
  // may hold part of a payload (the caller cuts it off).
  bool check(std::string_view text, ValidEvent& event, std::string& out, Problem& problem) {
    if (text.front() != '{') {
      problem = {"not_an_object", "", "each event must be a JSON object {...}"};
      return false;
    }
    TapeFailure failure;
    if (!tape_.parse(text, failure)) {
      problem = {failure.code, std::move(failure.field), std::move(failure.message)};
      return false;
    }
    std::fill(slots_.begin(), slots_.end(), kAbsent);
    std::uint32_t key_node = kAbsent;
    std::uint32_t op_node = kAbsent;
    const Node& root = tape_[0];
    std::size_t member = 0;
    for (std::uint32_t i = 1; i < root.end; i = tape_[i + 1].end, ++member) {
      std::string_view name = tape_.text(tape_[i]);
      if (std::uint32_t column = column_of(name, member); column != kAbsent) {
        slots_[column] = i + 1;
      } else if (name == kIdempotencyField) {
        key_node = i + 1;
      } else if (name == kOpField && options_.keyed) {
        op_node = i + 1;
      } else if (options_.unknown_fields == UnknownFields::reject) {
        problem.code = "unknown_field";
        problem.field = std::string(name);
        problem.message =
            name == kOpField
                ? "field '_op' is only allowed on keyed tables; this table is append-only"
                : "field " + quoted(name) +
                      " is not a column of this table; columns: " + list_names(column_names_);
        return false;
      }
    }

    bool is_delete = false;
    if (op_node != kAbsent) {
      const Node& op = tape_[op_node];
      std::string_view value = op.kind == NodeKind::string ? tape_.text(op) : std::string_view();
      if (op.kind != NodeKind::string || (value != "upsert" && value != "delete")) {
        problem.code = "invalid_op";
        problem.field = std::string(kOpField);
        problem.message = "field '_op' must be \"upsert\" or \"delete\", got " + describe(op_node);
        return false;
      }
      is_delete = value == "delete";
    }

    event.idempotency_key.clear();
    bool key_from_field = false;
    if (key_node != kAbsent) {
      const Node& key = tape_[key_node];
      if (key.kind != NodeKind::string || key.size == 0 || key.size > kMaxIdempotencyKeyBytes) {
        problem.code = "invalid_idempotency_key";
        problem.field = std::string(kIdempotencyField);
        problem.message = "field '_idempotency_key' must be a non-empty string of at most " +
                          std::to_string(kMaxIdempotencyKeyBytes) + " bytes, got " +
                          describe(key_node);
        return false;
      }
      event.idempotency_key.assign(tape_.text(key));
      key_from_field = true;
    }

    if (binary_) {
      schema::begin_binary_payload(out);
    } else {
      out += '{';
    }
    // Before each field but the first, in JSON.
    bool first = true;
    auto separate = [&] {
      if (!first && !binary_) out += ',';
      first = false;
    };
    for (std::size_t c = 0; c < rules_.size(); ++c) {
      const ColumnRule& rule = rules_[c];
      const schema::Column& column = *rule.column;
      std::uint32_t node = slots_[c];
      bool null = node != kAbsent && tape_[node].kind == NodeKind::null;
      if (node == kAbsent || null) {
        if (rule.primary_key) {
          problem.code = null ? "null" : "required";
          problem.field = column.name;
          problem.message =
              "primary key column '" + column.name + "' is required and may not be null";
          return false;
        }
        if (is_delete) continue;
        if (!null && rule.default_value) {
          separate();
          out += rule.member;
          out += *rule.default_value;
          if (rule.idempotency && !key_from_field) {
            event.idempotency_key = rule.default_key;
            if (!take_key(rule, event, problem)) return false;
          }
          continue;
        }
        if (!column.nullable) {
          problem.code = null ? "null" : "required";
          problem.field = column.name;
          problem.message = null ? "column '" + column.name + "' may not be null"
                                 : "column '" + column.name +
                                       "' is required (it is not nullable and has no default)";
          return false;
        }
        continue;
      }
      separate();
      out += rule.member;
      std::size_t mark = out.size();
      if (!check_value(rule, node, out, problem)) return false;
      if (rule.idempotency && !key_from_field) {
        key_text(rule, node, std::string_view(out).substr(mark), event.idempotency_key);
        if (!take_key(rule, event, problem)) return false;
      }
    }
    if (is_delete) {
      separate();
      if (binary_) {
        schema::put_field_name(schema::kOperationColumn, out);
        schema::put_string("delete", out);
      } else {
        out += "\"";
        out += schema::kOperationColumn;
        out += "\":\"delete\"";
      }
    }
    if (!binary_) out += '}';
    return true;
  }

 private:
  // The column named `name`, the `member`-th field of its event, or kAbsent.
  // The events of a batch usually list their fields in one order: the
  // column the previous event had at this place is tried before the map.
  std::uint32_t column_of(std::string_view name, std::size_t member) {
    if (member < order_.size() && order_[member] != kAbsent &&
        rules_[order_[member]].column->name == name) {
      return order_[member];
    }
    auto it = by_name_.find(name);
    std::uint32_t column = it == by_name_.end() ? kAbsent : it->second;
    if (member < order_.size()) order_[member] = column;
    return column;
  }

  ColumnRule& rule_for_option(const std::string& name, const char* what) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) {
      throw Error(ErrorCode::invalid_input,
                  std::string(what) + " '" + name +
                      "' is not a column of the table; columns: " + list_names(column_names_),
                  {{"column", name}});
    }
    return rules_[it->second];
  }

  // Validates the schema's default once, through the same rules as event
  // values, and keeps its canonical text.
  void prepare_default(ColumnRule& rule) {
    const auto& c = *rule.column;
    std::string text = boost::json::serialize(*c.default_value);
    TapeFailure failure;
    std::string value;
    Problem problem;
    bool ok = tape_.parse(text, failure);
    if (ok && tape_[0].kind == NodeKind::null) {
      problem.message = "null is not a default";
      ok = false;
    }
    if (ok) ok = check_value(rule, 0, value, problem);
    if (!ok) {
      throw Error(ErrorCode::invalid_input,
                  "column '" + c.name + "': the default " + text + " does not fit the column: " +
                      (failure.message.empty() ? problem.message : failure.message),
                  {{"column", c.name}});
    }
    key_text(rule, 0, value, rule.default_key);
    rule.default_value = std::move(value);
  }

  // Appends the idempotency column's value as key text to `key`: a
  // string's own characters, the canonical text of other values. `written`
  // is the value as the payload holds it, `node` its node in the tape.
  void key_text(const ColumnRule& rule, std::uint32_t node, std::string_view written,
                std::string& key) const {
    const std::string_view given = tape_.text(tape_[node]);
    switch (rule.column->type.kind) {
      case TypeKind::varchar: key.append(given); return;
      case TypeKind::uuid: schema::append_uuid(given, key); return;  // lower case (checked)
      case TypeKind::date: key.append(given); return;                // "YYYY-MM-DD" (checked)
      default: break;
    }
    std::string json;
    if (binary_) {
      // The value's canonical JSON, read back from its binary form.
      schema::BinaryField f;
      if (schema::read_binary_value(written, f)) schema::append_field_json(f, json);
      written = json;
    }
    switch (rule.column->type.kind) {
      case TypeKind::decimal:
      case TypeKind::timestamp:
      case TypeKind::timestamptz:
        key.append(written.substr(1, written.size() - 2));  // canonical: no escapes
        return;
      default: key.append(written); return;
    }
  }

  // Checks the key text in event.idempotency_key.
  bool take_key(const ColumnRule& rule, const ValidEvent& event, Problem& problem) {
    const std::string& key = event.idempotency_key;
    if (key.empty() || key.size() > kMaxIdempotencyKeyBytes) {
      problem.code = "invalid_idempotency_key";
      problem.field = rule.column->name;
      problem.message = "the idempotency column '" + rule.column->name +
                        "' must hold a non-empty value of at most " +
                        std::to_string(kMaxIdempotencyKeyBytes) + " bytes as text";
      return false;
    }
    return true;
  }

  // "a string \"abc\"", "the number 1.5", "an object", ... for messages.
  std::string describe(std::uint32_t node) const {
    const Node& n = tape_[node];
    switch (n.kind) {
      case NodeKind::object: return "an object";
      case NodeKind::array: return "an array";
      case NodeKind::key:
      case NodeKind::string: return "the string " + quoted(tape_.text(n));
      case NodeKind::number: return "the number " + std::string(clip(tape_.text(n)));
      case NodeKind::true_: return "true";
      case NodeKind::false_: return "false";
      case NodeKind::null: return "null";
    }
    return "a value";
  }

  static std::string subject(const ColumnRule& rule, std::int64_t element) {
    if (element < 0) return "column '" + rule.column->name + "'";
    return "element " + std::to_string(element) + " of column '" + rule.column->name + "'";
  }

  bool fail(Problem& p, const char* code, const ColumnRule& rule, std::int64_t element,
            const std::string& what) {
    p.code = code;
    p.field = rule.column->name;
    p.message = subject(rule, element) + " " + what;
    return false;
  }

  bool type_error(Problem& p, const ColumnRule& rule, std::int64_t element, std::uint32_t node) {
    const schema::ColumnType& type = element < 0 ? rule.column->type : *rule.scalar;
    return fail(p, "type", rule, element,
                "must be " + expected_text(type) + ", got " + describe(node));
  }

  bool check_value(const ColumnRule& rule, std::uint32_t node, std::string& out, Problem& p) {
    if (!rule.list) return check_scalar(rule, node, -1, out, p);
    const Node& n = tape_[node];
    if (n.kind != NodeKind::array) return type_error(p, rule, -1, node);
    out += '[';
    std::int64_t element = 0;
    for (std::uint32_t i = node + 1; i < n.end; i = tape_[i].end, ++element) {
      if (element) out += ',';
      if (tape_[i].kind == NodeKind::null) {
        out += "null";
      } else if (!check_scalar(rule, i, element, out, p)) {
        return false;
      }
    }
    out += ']';
    return true;
  }

  bool check_bounds(const ColumnRule& rule, std::int64_t element, double value, Problem& p) {
    const auto& k = rule.column->constraints;
    if (k.minimum && value < *k.minimum) {
      return fail(p, "out_of_range", rule, element,
                  fmt::format("must be at least {}, got {}", *k.minimum, value));
    }
    if (k.maximum && value > *k.maximum) {
      return fail(p, "out_of_range", rule, element,
                  fmt::format("must be at most {}, got {}", *k.maximum, value));
    }
    return true;
  }

  bool check_text(const ColumnRule& rule, std::int64_t element, std::string_view s, Problem& p) {
    const auto& type = *rule.scalar;
    const auto& k = rule.column->constraints;
    if (type.max_length > 0 || k.max_length) {
      std::size_t length = schema::count_code_points(s);
      auto limit = static_cast<std::size_t>(type.max_length);
      if (type.fixed_length && length != limit) {
        return fail(p, "length", rule, element,
                    "must be exactly " + std::to_string(limit) + " characters (" + type.name() +
                        "), got " + std::to_string(length));
      }
      if (limit > 0 && length > limit) {
        return fail(p, "max_length", rule, element,
                    "must be at most " + std::to_string(limit) + " characters (" + type.name() +
                        "), got " + std::to_string(length));
      }
      if (k.max_length && length > *k.max_length) {
        return fail(p, "max_length", rule, element,
                    "must be at most " + std::to_string(*k.max_length) + " characters, got " +
                        std::to_string(length));
      }
    }
    if (!k.enum_values.empty()) {
      bool found = false;
      for (const auto& v : k.enum_values) {
        if (v == s) {
          found = true;
          break;
        }
      }
      if (!found) {
        std::vector<std::string_view> allowed(k.enum_values.begin(), k.enum_values.end());
        std::string listed;
        for (std::size_t i = 0; i < allowed.size() && i < kListedNames; ++i) {
          if (i) listed += ", ";
          listed += quoted(allowed[i]);
        }
        if (allowed.size() > kListedNames)
          listed += ", ... (" + std::to_string(allowed.size()) + " in all)";
        return fail(p, "enum", rule, element, "must be one of " + listed + ", got " + quoted(s));
      }
    }
    if (rule.pattern && s.size() > kMaxPatternInputBytes) {
      return fail(p, "pattern", rule, element,
                  "is " + std::to_string(s.size()) +
                      " bytes long; values checked against a pattern may be at most " +
                      std::to_string(kMaxPatternInputBytes) + " bytes");
    }
    if (rule.pattern && !std::regex_match(s.begin(), s.end(), *rule.pattern)) {
      return fail(p, "pattern", rule, element,
                  "must match the pattern " + quoted(*k.pattern) + " as a whole, got " + quoted(s));
    }
    return true;
  }

  bool check_scalar(const ColumnRule& rule, std::uint32_t node, std::int64_t element,
                    std::string& out, Problem& p) {
    const Node& n = tape_[node];
    const schema::ColumnType& type = *rule.scalar;
    switch (type.kind) {
      case TypeKind::boolean:
        if (n.kind != NodeKind::true_ && n.kind != NodeKind::false_)
          return type_error(p, rule, element, node);
        if (binary_) {
          schema::put_bool(n.kind == NodeKind::true_, out);
        } else {
          out += n.kind == NodeKind::true_ ? "true" : "false";
        }
        return true;

      case TypeKind::integer:
      case TypeKind::bigint: {
        if (n.kind != NodeKind::number) return type_error(p, rule, element, node);
        bool wide = type.kind == TypeKind::bigint;
        std::int64_t min = wide ? std::numeric_limits<std::int64_t>::min()
                                : std::numeric_limits<std::int32_t>::min();
        std::int64_t max = wide ? std::numeric_limits<std::int64_t>::max()
                                : std::numeric_limits<std::int32_t>::max();
        schema::ExactNumber exact;
        std::int64_t value = 0;
        bool fractional = false;
        schema::parse_exact_number(tape_.text(n), exact);
        if (!schema::exact_to_int64(exact, min, max, value, fractional)) {
          if (fractional) return type_error(p, rule, element, node);
          return fail(p, "out_of_range", rule, element,
                      "must be from " + std::to_string(min) + " to " + std::to_string(max) + " (" +
                          type.name() + "), got " + std::string(clip(tape_.text(n))));
        }
        if (!check_bounds(rule, element, static_cast<double>(value), p)) return false;
        if (binary_) {
          if (wide) {
            schema::put_int64(value, out);
          } else {
            schema::put_int32(static_cast<std::int32_t>(value), out);
          }
          return true;
        }
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
        out.append(buf, end);
        return true;
      }

      case TypeKind::double_: {
        if (n.kind != NodeKind::number) return type_error(p, rule, element, node);
        double value = 0;
        if (!schema::parse_finite_double(tape_.text(n), value)) {
          return fail(p, "out_of_range", rule, element,
                      "must fit a double (magnitude at most 1.7976931348623157e308), got " +
                          std::string(clip(tape_.text(n))));
        }
        if (!check_bounds(rule, element, value, p)) return false;
        if (binary_) {
          schema::put_float64(value, out);
        } else {
          schema::append_double(value, out);
        }
        return true;
      }

      case TypeKind::decimal: {
        if (n.kind != NodeKind::number && n.kind != NodeKind::string)
          return type_error(p, rule, element, node);
        std::string_view text = tape_.text(n);
        schema::ExactNumber exact;
        if (!schema::parse_exact_number(text, exact)) return type_error(p, rule, element, node);
        std::int64_t integer_room = type.precision - type.scale;
        if (exact.fraction_digits() > type.scale) {
          return fail(p, "precision", rule, element,
                      "has " + std::to_string(exact.fraction_digits()) +
                          " digits after the decimal point; " + type.name() + " allows at most " +
                          std::to_string(type.scale) + ", got " + std::string(clip(text)));
        }
        if (exact.integer_digits() > integer_room) {
          return fail(p, "precision", rule, element,
                      "has " + std::to_string(exact.integer_digits()) +
                          " digits before the decimal point; " + type.name() + " allows at most " +
                          std::to_string(integer_room) + ", got " + std::string(clip(text)));
        }
        const auto& k = rule.column->constraints;
        if (k.minimum || k.maximum) {
          double value = 0;
          schema::parse_finite_double(text, value);
          if (!check_bounds(rule, element, value, p)) return false;
        }
        if (binary_) {
          schema::Int128 scaled = 0;
          // Holds: the digit counts were checked above.
          schema::exact_to_scaled(exact, type.precision, type.scale, scaled);
          schema::put_decimal(scaled, type.precision, type.scale, out);
          return true;
        }
        out += '"';
        schema::append_decimal(exact, type.scale, out);
        out += '"';
        return true;
      }

      case TypeKind::varchar: {
        if (n.kind != NodeKind::string) return type_error(p, rule, element, node);
        std::string_view s = tape_.text(n);
        if (!check_text(rule, element, s, p)) return false;
        if (binary_) {
          schema::put_string(s, out);
        } else {
          append_json_string(out, s);
        }
        return true;
      }

      case TypeKind::date: {
        if (n.kind != NodeKind::string) return type_error(p, rule, element, node);
        std::string_view s = tape_.text(n);
        std::int32_t days = 0;
        if (!schema::parse_date_days(s, days)) {
          return fail(
              p, "invalid_date", rule, element,
              "must be a calendar date \"YYYY-MM-DD\" in years 0001-9999, got " + quoted(s));
        }
        if (binary_) {
          schema::put_date(days, out);
          return true;
        }
        out += '"';
        out += s;
        out += '"';
        return true;
      }

      case TypeKind::timestamp:
      case TypeKind::timestamptz: {
        if (n.kind != NodeKind::string) return type_error(p, rule, element, node);
        std::string_view s = tape_.text(n);
        const char* why = "";
        std::int64_t micros = 0;
        if (!schema::parse_utc_micros(s, type.kind == TypeKind::timestamptz, micros, why)) {
          return fail(p, "invalid_timestamp", rule, element,
                      "must be an RFC 3339 timestamp: " + std::string(why) + "; got " + quoted(s));
        }
        if (binary_) {
          schema::put_timestamp(micros, out);
          return true;
        }
        out += '"';
        schema::append_utc_micros(micros, out);
        out += '"';
        return true;
      }

      case TypeKind::uuid: {
        if (n.kind != NodeKind::string) return type_error(p, rule, element, node);
        std::string_view s = tape_.text(n);
        // Binary: the 128-bit number. JSON: the text lower-cased in place.
        std::uint64_t high = 0, low = 0;
        const std::size_t mark = out.size();
        const bool ok =
            binary_ ? schema::parse_uuid(s, high, low) : (out += '"', schema::append_uuid(s, out));
        if (!ok) {
          out.resize(mark);
          return fail(p, "invalid_uuid", rule, element,
                      "must be a UUID of 32 hex digits as 8-4-4-4-12, such as "
                      "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\", got " +
                          quoted(s));
        }
        if (binary_) {
          schema::put_uuid(high, low, out);
        } else {
          out += '"';
        }
        return true;
      }

      case TypeKind::json: return write_json(rule, element, node, out, p);

      case TypeKind::list:
        // Lists of lists are refused by ColumnType::parse.
        return type_error(p, rule, element, node);
    }
    return type_error(p, rule, element, node);
  }

  // Writes the value at `node` as minified JSON. Nesting is bounded by the
  // tape's depth limit, so the recursion is too.
  bool write_json(const ColumnRule& rule, std::int64_t element, std::uint32_t node,
                  std::string& out, Problem& p) {
    const Node& n = tape_[node];
    switch (n.kind) {
      case NodeKind::object: {
        out += '{';
        bool first = true;
        for (std::uint32_t i = node + 1; i < n.end; i = tape_[i + 1].end) {
          if (!first) out += ',';
          first = false;
          append_json_string(out, tape_.text(tape_[i]));
          out += ':';
          if (!write_json(rule, element, i + 1, out, p)) return false;
        }
        out += '}';
        return true;
      }
      case NodeKind::array: {
        out += '[';
        for (std::uint32_t i = node + 1; i < n.end; i = tape_[i].end) {
          if (i != node + 1) out += ',';
          if (!write_json(rule, element, i, out, p)) return false;
        }
        out += ']';
        return true;
      }
      case NodeKind::key:
      case NodeKind::string: append_json_string(out, tape_.text(n)); return true;
      case NodeKind::number: {
        double value = 0;
        if (!schema::parse_finite_double(tape_.text(n), value)) {
          return fail(
              p, "out_of_range", rule, element,
              "holds a number that does not fit a double: " + std::string(clip(tape_.text(n))));
        }
        out += tape_.text(n);
        return true;
      }
      case NodeKind::true_: out += "true"; return true;
      case NodeKind::false_: out += "false"; return true;
      case NodeKind::null: out += "null"; return true;
    }
    return true;
  }

  const ValidatorOptions& options_;
  bool binary_ = false;  // binary payloads, or canonical JSON
  std::vector<ColumnRule> rules_;
  std::vector<std::string_view> column_names_;
  std::unordered_map<std::string_view, std::uint32_t> by_name_;
  EventTape tape_;
  std::vector<std::uint32_t> slots_;  // per column: its value's node, or kAbsent
  std::vector<std::uint32_t> order_;  // per field place: the column last found there
};

}  // namespace

ValidationResult validate_events(std::string_view body, BodyFormat format,
                                 const schema::TableSchema& schema,
                                 const ValidatorOptions& options) {
  Validator validator(schema, options);
  auto events = split_events(body, format, options.max_events);
  ValidationResult result;
  result.total = events.size();
  result.valid.reserve(events.size());
  // The accepted events' payloads, one after the other in one block:
  // payloads are about as long as their text, a little more at most.
  auto block = std::make_shared<std::string>();
  block->reserve(body.size() + 32 * events.size());
  std::vector<std::pair<std::size_t, std::size_t>> slices;  // offset, size
  slices.reserve(events.size());
  Problem problem;
  for (std::size_t i = 0; i < events.size(); ++i) {
    ValidEvent event{i, {}, {}};
    const std::size_t start = block->size();
    if (validator.check(events[i].text, event, *block, problem)) {
      slices.emplace_back(start, block->size() - start);
      result.valid.push_back(std::move(event));
      continue;
    }
    block->resize(start);
    std::string message = std::move(problem.message);
    if (events[i].line != 0) message = "line " + std::to_string(events[i].line) + ": " + message;
    result.rejected.push_back({i, std::move(problem.field), problem.code, std::move(message)});
    problem = Problem{};
  }
  std::shared_ptr<const std::string> shared = std::move(block);
  for (std::size_t k = 0; k < result.valid.size(); ++k) {
    result.valid[k].payload = bus::Payload(shared, slices[k].first, slices[k].second);
  }
  return result;
}

boost::json::array event_errors_json(const std::vector<EventError>& errors) {
  boost::json::array out;
  out.reserve(errors.size());
  for (const auto& e : errors) {
    out.emplace_back(boost::json::object{
        {"index", e.index}, {"field", e.field}, {"code", e.code}, {"message", e.message}});
  }
  return out;
}

}  // namespace duckmesh::ingest
