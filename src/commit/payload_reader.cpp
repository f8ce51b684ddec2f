#include "commit/payload_reader.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>

#include "common/error.hpp"
#include "common/json_string.hpp"
#include "schema/binary_payload.hpp"
#include "schema/value_text.hpp"

namespace duckmesh::commit {

using schema::TypeKind;

namespace {

duck::SourceColumn source_column(const schema::Column& c) {
  duck::SourceColumn s;
  s.name = c.name;
  switch (c.type.kind) {
    case TypeKind::boolean: s.type = duck::SourceType::boolean; break;
    case TypeKind::integer: s.type = duck::SourceType::integer; break;
    case TypeKind::bigint: s.type = duck::SourceType::bigint; break;
    case TypeKind::double_: s.type = duck::SourceType::double_; break;
    case TypeKind::decimal:
      s.type = duck::SourceType::decimal;
      s.width = static_cast<std::uint8_t>(c.type.precision);
      s.scale = static_cast<std::uint8_t>(c.type.scale);
      break;
    case TypeKind::varchar: s.type = duck::SourceType::varchar; break;
    case TypeKind::date: s.type = duck::SourceType::date; break;
    case TypeKind::timestamp: s.type = duck::SourceType::timestamp; break;
    case TypeKind::timestamptz: s.type = duck::SourceType::timestamptz; break;
    case TypeKind::uuid: s.type = duck::SourceType::uuid; break;
    case TypeKind::json:
    case TypeKind::list:
      throw Error(ErrorCode::internal, "payload reader: column '" + c.name + "' has type " +
                                           c.type.name() + ", which it does not read");
  }
  return s;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

// A JSON token reader over one payload. Every failure throws with the
// record's position; `column` names the column being read, if any.
struct PayloadReader::Cursor {
  enum class Kind { string, number, true_, false_, null, container };

  const char* p;
  const char* end;
  bus::Position position;
  const std::string* column = nullptr;

  [[noreturn]] void fail(const std::string& why) const {
    std::string where = "event at bus position " + std::to_string(position);
    if (column != nullptr) where += ", column '" + *column + "'";
    throw Error(ErrorCode::invalid_input, where + ": " + why);
  }

  // What was wrong with a value, quoting (the start of) what was there.
  [[noreturn]] void fail_value(const std::string& what, Kind kind, std::string_view text) const {
    std::string got(text.substr(0, 64));
    if (text.size() > 64) got += "...";
    fail(what + ", got " + (kind == Kind::string ? "\"" + got + "\"" : got));
  }

  void skip_space() {
    while (p < end && is_space(*p)) ++p;
  }

  void expect(char c, const char* what) {
    skip_space();
    if (p >= end || *p != c) fail(std::string("invalid JSON: expected ") + what);
    ++p;
  }

  // After the opening quote: the raw text up to the closing quote (which is
  // consumed); `escaped` says whether it holds backslashes.
  std::string_view raw_string(bool& escaped) {
    const char* start = p;
    escaped = false;
    // Straight to the first quote, backslash or control character (the
    // usual case is the closing quote), then byte by byte.
    p = skip_plain_json_text(p, end);
    for (;;) {
      if (p >= end) fail("invalid JSON: unterminated string");
      char c = *p;
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("invalid JSON: control character in a string");
      if (c == '\\') {
        escaped = true;
        if (++p >= end) fail("invalid JSON: unterminated string");
      }
      ++p;
    }
    std::string_view s(start, static_cast<std::size_t>(p - start));
    ++p;
    return s;
  }

  std::uint32_t hex4(std::string_view s, std::size_t i) const {
    if (i + 4 > s.size()) fail("invalid JSON: short \\u escape");
    std::uint32_t v = 0;
    for (std::size_t k = i; k < i + 4; ++k) {
      const int digit = schema::hex_digit_value(s[k]);
      if (digit < 0) fail("invalid JSON: bad \\u escape");
      v = (v << 4) | static_cast<std::uint32_t>(digit);
    }
    return v;
  }

  // Unescapes raw string text (as raw_string returned it) into `out`.
  void unescape(std::string_view s, std::string& out) const {
    out.clear();
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = s[++i];
      if (const int simple = schema::json_escape_value(e); simple >= 0) {
        out += static_cast<char>(simple);
        continue;
      }
      if (e != 'u') fail(std::string("invalid JSON: bad escape \\") + e);
      std::uint32_t cp = hex4(s, i + 1);
      i += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (i + 2 >= s.size() || s[i + 1] != '\\' || s[i + 2] != 'u') {
          fail("not valid UTF-8: an unpaired surrogate escape");
        }
        std::uint32_t low = hex4(s, i + 3);
        if (low < 0xDC00 || low > 0xDFFF) fail("not valid UTF-8: an unpaired surrogate escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        i += 6;
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail("not valid UTF-8: an unpaired surrogate escape");
      }
      schema::append_utf8(cp, out);
    }
  }

  // Reads the next value's kind; for a string, `text` is its raw text; for
  // a number, its text; a container is skipped whole.
  Kind value(std::string_view& text, bool& escaped) {
    skip_space();
    if (p >= end) fail("invalid JSON: a value is missing");
    escaped = false;
    const char* start = p;
    switch (*p) {
      case '"':
        ++p;
        text = raw_string(escaped);
        return Kind::string;
      case 't': literal(text = "true"); return Kind::true_;
      case 'f': literal(text = "false"); return Kind::false_;
      case 'n': literal(text = "null"); return Kind::null;
      case '{':
      case '[':
        skip_container();
        text = std::string_view(start, static_cast<std::size_t>(p - start));
        return Kind::container;
      default: break;
    }
    while (p < end && (*p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E' ||
                       (*p >= '0' && *p <= '9'))) {
      ++p;
    }
    if (p == start) fail(std::string("invalid JSON: unexpected character '") + *p + "'");
    text = std::string_view(start, static_cast<std::size_t>(p - start));
    return Kind::number;
  }

  void literal(std::string_view word) {
    if (static_cast<std::size_t>(end - p) < word.size() ||
        std::string_view(p, word.size()) != word) {
      fail("invalid JSON: unexpected character '" + std::string(1, *p) + "'");
    }
    p += word.size();
  }

  // Skips an object or array (p at its opening bracket), nested ones and
  // strings inside included. Checks bracket balance, not the full grammar:
  // ingest validated the payload, and this value is not stored.
  void skip_container() {
    std::vector<char> open;
    do {
      if (p >= end) fail("invalid JSON: unterminated object or array");
      char c = *p++;
      if (c == '"') {
        bool escaped;
        raw_string(escaped);
      } else if (c == '{' || c == '[') {
        open.push_back(c == '{' ? '}' : ']');
      } else if (c == '}' || c == ']') {
        if (open.empty() || open.back() != c) fail("invalid JSON: mismatched brackets");
        open.pop_back();
      }
    } while (!open.empty());
  }
};

bool PayloadReader::supports(const schema::TableSchema& schema) {
  for (const auto& c : schema.columns) {
    if (c.type.kind == TypeKind::json || c.type.kind == TypeKind::list) return false;
  }
  return true;
}

std::vector<duck::SourceColumn> PayloadReader::columns_of(const schema::TableSchema& schema,
                                                          bool keyed) {
  std::vector<duck::SourceColumn> columns;
  for (const auto& c : schema.columns) columns.push_back(source_column(c));
  columns.push_back({schema::kPositionColumn, duck::SourceType::ubigint});
  columns.push_back({schema::kIngestedAtColumn, duck::SourceType::timestamptz});
  if (keyed) columns.push_back({schema::kOperationColumn, duck::SourceType::varchar});
  return columns;
}

PayloadReader::PayloadReader(const schema::TableSchema& schema, bool keyed)
    : columns_(columns_of(schema, keyed)), keyed_(keyed) {
  for (const auto& c : schema.columns) {
    targets_.push_back({c.type.kind, c.type.precision, c.type.scale, c.type.name()});
  }
  position_column_ = targets_.size();
  for (std::size_t i = 0; i < targets_.size(); ++i) by_name_.emplace(columns_[i].name, i);
  if (keyed_) by_name_.emplace(columns_.back().name, columns_.size() - 1);
  seen_.assign(columns_.size(), 0);
}

std::size_t PayloadReader::column_of(std::string_view key, std::size_t expected) const {
  // Canonical payloads list the columns in schema order: try the next one
  // before the map.
  if (expected < targets_.size() && columns_[expected].name == key) return expected;
  auto it = by_name_.find(key);
  return it == by_name_.end() ? columns_.size() : it->second;
}

void PayloadReader::read(const bus::Record& record, duck::ChunkWriter& out, idx_t row) {
  std::fill(seen_.begin(), seen_.end(), 0);
  if (schema::is_binary_payload(record.payload)) {
    read_binary(record, out, row);
  } else {
    read_json(record, out, row);
  }
  for (std::size_t c = 0; c < targets_.size(); ++c) {
    if (!seen_[c]) out.set_null(c, row);
  }
  out.set_uint64(position_column_, row, record.position);
  out.set_timestamp(position_column_ + 1, row, record.ingested_unix_us);
  if (keyed_ && !seen_[position_column_ + 2]) out.set_string(position_column_ + 2, row, "upsert");
}

void PayloadReader::read_binary(const bus::Record& record, duck::ChunkWriter& out, idx_t row) {
  schema::BinaryPayloadCursor fields(record.payload);
  schema::BinaryField f;
  const char* error = nullptr;
  std::size_t expected = 0;
  while (fields.next(f, error)) {
    const std::size_t column = column_of(f.name, expected);
    if (column >= columns_.size()) continue;  // names no column (any more)
    seen_[column] = 1;
    expected = column + 1;
    if (write_binary_value(column, f, record, out, row)) continue;
    // Validated for another type than the column has now: read as its
    // canonical JSON would be, with the same conversions.
    json_scratch_.clear();
    schema::append_field_json(f, json_scratch_);
    Cursor in{json_scratch_.data(), json_scratch_.data() + json_scratch_.size(), record.position};
    in.column = &columns_[column].name;
    write_value(column, in, out, row);
  }
  if (error != nullptr) {
    Cursor in{nullptr, nullptr, record.position};
    in.fail(error);
  }
}

bool PayloadReader::write_binary_value(std::size_t column, const schema::BinaryField& f,
                                       const bus::Record& record, duck::ChunkWriter& out,
                                       idx_t row) {
  using schema::FieldType;
  if (column >= targets_.size()) {  // _dm_op
    if (f.type != FieldType::string) return false;
    out.set_string(column, row, f.text);
    return true;
  }
  const Target& t = targets_[column];
  switch (t.kind) {
    case TypeKind::boolean:
      if (f.type != FieldType::boolean) return false;
      out.set_bool(column, row, f.boolean);
      return true;
    case TypeKind::integer:
      if (f.type != FieldType::int32) return false;
      out.set_int32(column, row, static_cast<std::int32_t>(f.integer));
      return true;
    case TypeKind::bigint:
      if (f.type != FieldType::int64) return false;
      out.set_int64(column, row, f.integer);
      return true;
    case TypeKind::double_:
      if (f.type != FieldType::float64) return false;
      out.set_double(column, row, f.float64);
      return true;
    case TypeKind::decimal:
      if (f.type != FieldType::decimal || f.precision != t.precision || f.scale != t.scale)
        return false;
      out.set_decimal(column, row, f.decimal);
      return true;
    case TypeKind::varchar:
      if (f.type != FieldType::string) return false;
      if (!schema::valid_utf8(f.text)) {
        Cursor in{nullptr, nullptr, record.position};
        in.column = &columns_[column].name;
        in.fail("the text is not valid UTF-8");
      }
      // Lent, not copied: see Lifetime in the header.
      out.set_string_ref(column, row, f.text);
      return true;
    case TypeKind::date:
      if (f.type != FieldType::date) return false;
      out.set_date(column, row, static_cast<std::int32_t>(f.integer));
      return true;
    case TypeKind::timestamp:
    case TypeKind::timestamptz:
      if (f.type != FieldType::timestamp) return false;
      out.set_timestamp(column, row, f.integer);
      return true;
    case TypeKind::uuid:
      if (f.type != FieldType::uuid) return false;
      out.set_uuid(column, row, f.high, f.low);
      return true;
    case TypeKind::json:
    case TypeKind::list: return false;
  }
  return false;
}

void PayloadReader::read_json(const bus::Record& record, duck::ChunkWriter& out, idx_t row) {
  Cursor in{record.payload.data(), record.payload.data() + record.payload.size(), record.position};
  in.expect('{', "an object");
  in.skip_space();
  std::size_t expected = 0;
  if (in.p < in.end && *in.p == '}') {
    ++in.p;
  } else {
    for (;;) {
      in.expect('"', "a key");
      bool escaped;
      std::string_view key = in.raw_string(escaped);
      if (escaped) {
        in.unescape(key, key_scratch_);
        key = key_scratch_;
      }
      in.expect(':', "':'");
      std::size_t column = column_of(key, expected);
      if (column < columns_.size()) {
        in.column = &columns_[column].name;
        write_value(column, in, out, row);
        in.column = nullptr;
        seen_[column] = 1;
        expected = column + 1;
      } else {
        std::string_view ignored;
        in.value(ignored, escaped);
      }
      in.skip_space();
      if (in.p < in.end && *in.p == ',') {
        ++in.p;
        continue;
      }
      in.expect('}', "',' or '}'");
      break;
    }
  }
  in.skip_space();
  if (in.p != in.end) in.fail("invalid JSON: text after the object");
}

void PayloadReader::write_value(std::size_t column, Cursor& in, duck::ChunkWriter& out, idx_t row) {
  std::string_view text;
  bool escaped;
  Cursor::Kind kind = in.value(text, escaped);
  if (kind == Cursor::Kind::null) {
    out.set_null(column, row);
    return;
  }
  if (column >= targets_.size()) {  // _dm_op
    if (kind != Cursor::Kind::string) in.fail("expected \"upsert\" or \"delete\"");
    if (escaped) {
      in.unescape(text, scratch_);
      text = scratch_;
    }
    out.set_string(column, row, text);
    return;
  }
  const Target& t = targets_[column];
  // Numbers may arrive as JSON numbers or as strings holding one; so may
  // everything read from a string.
  auto string_text = [&]() -> std::string_view {
    if (kind != Cursor::Kind::string) return {};
    if (!escaped) return text;
    in.unescape(text, scratch_);
    return scratch_;
  };
  auto number_text = [&]() -> std::string_view {
    if (kind == Cursor::Kind::number) return text;
    if (kind == Cursor::Kind::string) return string_text();
    in.fail("expected a number for type " + t.type_name);
  };
  switch (t.kind) {
    case TypeKind::boolean:
      if (kind == Cursor::Kind::true_ || kind == Cursor::Kind::false_) {
        out.set_bool(column, row, kind == Cursor::Kind::true_);
        return;
      }
      in.fail_value("expected true or false", kind, text);
    case TypeKind::integer:
    case TypeKind::bigint: {
      bool is_int = t.kind == TypeKind::integer;
      schema::ExactNumber n;
      std::int64_t v;
      bool fractional;
      auto s = number_text();
      if (!schema::parse_exact_number(s, n) ||
          !schema::exact_to_int64(n, is_int ? INT32_MIN : INT64_MIN, is_int ? INT32_MAX : INT64_MAX,
                                  v, fractional)) {
        in.fail_value("expected a whole number within the range of " + t.type_name, kind, text);
      }
      if (is_int) {
        out.set_int32(column, row, static_cast<std::int32_t>(v));
      } else {
        out.set_int64(column, row, v);
      }
      return;
    }
    case TypeKind::double_: {
      double v;
      auto s = number_text();
      schema::ExactNumber syntax;
      if (!schema::parse_exact_number(s, syntax) || !schema::parse_finite_double(s, v)) {
        in.fail_value("expected a finite number for type double", kind, text);
      }
      out.set_double(column, row, v);
      return;
    }
    case TypeKind::decimal: {
      schema::ExactNumber n;
      schema::Int128 v;
      auto s = number_text();
      if (!schema::parse_exact_number(s, n) ||
          !schema::exact_to_scaled(n, t.precision, t.scale, v)) {
        in.fail_value("expected a number with at most " + std::to_string(t.precision - t.scale) +
                          " integer and " + std::to_string(t.scale) + " fraction digits for type " +
                          t.type_name,
                      kind, text);
      }
      out.set_decimal(column, row, v);
      return;
    }
    case TypeKind::varchar: {
      if (kind == Cursor::Kind::container) in.fail_value("expected a string", kind, text);
      auto s = kind == Cursor::Kind::string ? string_text() : text;
      if (!schema::valid_utf8(s)) in.fail("the text is not valid UTF-8");
      out.set_string(column, row, s);
      return;
    }
    case TypeKind::date: {
      std::int32_t days;
      if (kind != Cursor::Kind::string || !schema::parse_date_days(string_text(), days)) {
        in.fail_value("expected a date as \"YYYY-MM-DD\"", kind, text);
      }
      out.set_date(column, row, days);
      return;
    }
    case TypeKind::timestamp:
    case TypeKind::timestamptz: {
      std::int64_t micros;
      const char* why = "expected RFC 3339 text";
      if (kind != Cursor::Kind::string ||
          !schema::parse_utc_micros(string_text(), false, micros, why)) {
        in.fail_value(why, kind, text);
      }
      out.set_timestamp(column, row, micros);
      return;
    }
    case TypeKind::uuid: {
      std::uint64_t high, low;
      if (kind != Cursor::Kind::string || !schema::parse_uuid(string_text(), high, low)) {
        in.fail_value("expected a UUID as 8-4-4-4-12 hex digits", kind, text);
      }
      out.set_uuid(column, row, high, low);
      return;
    }
    case TypeKind::json:
    case TypeKind::list: break;
  }
  in.fail("type " + t.type_name + " is not read here");
}

}  // namespace duckmesh::commit
