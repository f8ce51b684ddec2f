#include "ingest/validation_tape.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <array>
#include <boost/json/basic_parser_impl.hpp>
#include <limits>

#include "schema/value_text.hpp"

namespace duckmesh::ingest {
namespace {

// The code unit of a "\uXXXX" escape starting at text[i], or -1.
long escape_at(std::string_view text, std::size_t i) {
  if (i + 6 > text.size() || text[i] != '\\' || text[i + 1] != 'u') return -1;
  long v = 0;
  for (std::size_t k = 2; k < 6; ++k) {
    int h = schema::hex_digit_value(text[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// True when a string escape encodes half of a UTF-16 surrogate pair without
// its other half: text that cannot become UTF-8. Boost.JSON reports some of
// these as plain syntax errors, so failed parses are checked here.
bool has_unpaired_surrogate_escape(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') continue;
    long unit = escape_at(text, i);
    if (unit < 0) {
      ++i;  // some other escape: skip the escaped character
      continue;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) return true;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      long low = escape_at(text, i + 6);
      if (low < 0xDC00 || low > 0xDFFF) return true;
      i += 6;
    }
    i += 5;
  }
  return false;
}

}  // namespace

// Appends basic_parser events to the tape. Stops the parse (returning false
// with an error code set) on a duplicate key, recording it for parse().
struct EventTape::Handler {
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  explicit Handler(EventTape& tape) : t(tape) {}

  EventTape& t;
  // Arena offset where the text now being received in parts began, or
  // kNone when no text is in progress.
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::size_t part_start = kNone;
  // The event's member most recently started: its key in the arena.
  std::uint32_t top_key_offset = 0;
  std::uint32_t top_key_size = 0;
  bool in_member = false;
  // Set when the parse stopped on a duplicate key.
  bool duplicate = false;
  bool duplicate_top = false;
  std::string duplicate_key;

  void begin() {
    t.nodes_.clear();
    t.arena_.clear();
    t.open_.clear();
    part_start = kNone;
    in_member = false;
    duplicate = false;
    duplicate_top = false;
  }

  std::string top_field() const {
    return in_member ? std::string(t.arena_.data() + top_key_offset, top_key_size) : std::string();
  }

  void push_leaf(NodeKind kind, std::uint32_t offset = 0, std::uint32_t size = 0) {
    auto index = static_cast<std::uint32_t>(t.nodes_.size());
    t.nodes_.push_back({kind, offset, size, index + 1});
  }

  void push_text(NodeKind kind, boost::json::string_view s) {
    std::size_t start = part_start == kNone ? t.arena_.size() : part_start;
    t.arena_.append(s.data(), s.size());
    part_start = kNone;
    auto offset = static_cast<std::uint32_t>(start);
    auto size = static_cast<std::uint32_t>(t.arena_.size() - start);
    if (kind == NodeKind::key && t.open_.size() == 1) {
      top_key_offset = offset;
      top_key_size = size;
      in_member = true;
    }
    push_leaf(kind, offset, size);
  }

  void push_part(boost::json::string_view s) {
    if (part_start == kNone) part_start = t.arena_.size();
    t.arena_.append(s.data(), s.size());
  }

  void open(NodeKind kind) {
    t.open_.push_back(static_cast<std::uint32_t>(t.nodes_.size()));
    push_leaf(kind);
  }

  void close(std::size_t n) {
    Node& node = t.nodes_[t.open_.back()];
    t.open_.pop_back();
    node.size = static_cast<std::uint32_t>(n);
    node.end = static_cast<std::uint32_t>(t.nodes_.size());
  }

  // False when two members of the object at `index` share a key.
  bool unique_keys(std::uint32_t index) {
    std::string_view repeated;
    if (!t.find_repeated_key(index, repeated)) return true;
    duplicate_key = std::string(repeated);
    return false;
  }

  bool on_document_begin(boost::json::error_code&) {
    begin();
    return true;
  }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_array_begin(boost::json::error_code&) {
    open(NodeKind::array);
    return true;
  }
  bool on_array_end(std::size_t n, boost::json::error_code&) {
    close(n);
    return true;
  }
  bool on_object_begin(boost::json::error_code&) {
    open(NodeKind::object);
    return true;
  }
  bool on_object_end(std::size_t n, boost::json::error_code& ec) {
    std::uint32_t index = t.open_.back();
    close(n);
    if (n > 1 && !unique_keys(index)) {
      duplicate = true;
      // A repeated field of the event itself is reported as that field.
      if (t.open_.empty()) {
        top_key_offset = 0;
        top_key_size = 0;
        duplicate_top = true;
      }
      ec = boost::json::error::syntax;
      return false;
    }
    return true;
  }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    push_part(s);
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    push_text(NodeKind::string, s);
    return true;
  }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    push_part(s);
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    push_text(NodeKind::key, s);
    return true;
  }
  bool on_number_part(boost::json::string_view s, boost::json::error_code&) {
    push_part(s);
    return true;
  }
  bool on_int64(std::int64_t, boost::json::string_view s, boost::json::error_code&) {
    push_text(NodeKind::number, s);
    return true;
  }
  bool on_uint64(std::uint64_t, boost::json::string_view s, boost::json::error_code&) {
    push_text(NodeKind::number, s);
    return true;
  }
  bool on_double(double, boost::json::string_view s, boost::json::error_code&) {
    push_text(NodeKind::number, s);
    return true;
  }
  bool on_bool(bool b, boost::json::error_code&) {
    push_leaf(b ? NodeKind::true_ : NodeKind::false_);
    return true;
  }
  bool on_null(boost::json::error_code&) {
    push_leaf(NodeKind::null);
    return true;
  }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }
};

struct EventTape::Parser {
  static boost::json::parse_options options() {
    boost::json::parse_options o;
    o.max_depth = kMaxDepth;
    return o;
  }
  explicit Parser(EventTape& tape) : parser(options(), tape) {}
  boost::json::basic_parser<Handler> parser;
};

bool EventTape::find_repeated_key(std::uint32_t index, std::string_view& repeated) {
  auto& keys = keys_scratch_;
  keys.clear();
  const Node& object = nodes_[index];
  for (std::uint32_t i = index + 1; i < object.end; i = nodes_[i + 1].end) {
    keys.push_back(text(nodes_[i]));
  }
  // Small objects (the common case) compare pairwise; large ones sort.
  if (keys.size() <= 16) {
    for (std::size_t a = 1; a < keys.size(); ++a) {
      for (std::size_t b = 0; b < a; ++b) {
        if (keys[a] == keys[b]) {
          repeated = keys[a];
          return true;
        }
      }
    }
    return false;
  }
  std::sort(keys.begin(), keys.end());
  auto it = std::adjacent_find(keys.begin(), keys.end());
  if (it == keys.end()) return false;
  repeated = *it;
  return true;
}

namespace {

// How a byte inside a string is read by the fast reading.
enum StringByte : std::uint8_t { kPlain, kQuote, kBackslash, kControl, kNonAscii };

constexpr std::array<std::uint8_t, 256> string_bytes() {
  std::array<std::uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = c < 0x20 ? kControl : c >= 0x80 ? kNonAscii : kPlain;
  }
  table['"'] = kQuote;
  table['\\'] = kBackslash;
  return table;
}
constexpr auto kStringBytes = string_bytes();

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

// A recursive descent over the event; every member returns false to give
// up, leaving the decision to the exhaustive reading.
struct EventTape::Fast {
  EventTape& t;
  const char* begin;
  const char* p;
  const char* end;
  std::size_t depth = 0;

  void skip_space() {
    while (p < end && is_space(*p)) ++p;
  }

  [[gnu::always_inline]] void push(NodeKind kind, std::size_t offset, std::size_t size) {
    auto index = static_cast<std::uint32_t>(t.nodes_.size());
    t.nodes_.push_back(
        {kind, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(size), index + 1});
  }

  bool value() {
    if (p >= end) return false;
    switch (*p) {
      case '{': return object();
      case '[': return array();
      case '"': return string(NodeKind::string);
      case 't': return word("true", NodeKind::true_);
      case 'f': return word("false", NodeKind::false_);
      case 'n': return word("null", NodeKind::null);
      default: return number();
    }
  }

  bool word(std::string_view w, NodeKind kind) {
    if (static_cast<std::size_t>(end - p) < w.size() || std::string_view(p, w.size()) != w) {
      return false;
    }
    p += w.size();
    push(kind, 0, 0);
    return true;
  }

  bool number() {
    const char* start = p;
    if (*p == '-') ++p;
    if (p >= end) return false;
    if (*p == '0') {
      ++p;
    } else if (*p >= '1' && *p <= '9') {
      while (p < end && is_digit(*p)) ++p;
    } else {
      return false;
    }
    if (p < end && *p == '.') {
      ++p;
      if (p >= end || !is_digit(*p)) return false;
      while (p < end && is_digit(*p)) ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      const char* digits = p;
      while (p < end && is_digit(*p)) ++p;
      // An empty exponent is an error; a long one may overflow.
      if (p == digits || p - digits > 6) return false;
    }
    if (p - start > 1'000'000) return false;
    push(NodeKind::number, static_cast<std::size_t>(start - begin),
         static_cast<std::size_t>(p - start));
    return true;
  }

  // Moves p to the first byte at or after it that is a quote, a backslash,
  // a control character or not ASCII, sixteen bytes at a time; stops short
  // of the last sixteen bytes of the text, which the caller reads bytewise.
  void skip_plain() {
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      // Signed: bytes from 0x80 compare below 0x20 too.
      const __m128i stop =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                       _mm_cmplt_epi8(v, space));
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p += 16;
    }
  }

  // Moves p over a string's bytes up to its next quote or backslash;
  // false at a control character, bytes that are not UTF-8, or the end of
  // the text.
  bool skip_string_bytes() {
    for (;;) {
      skip_plain();
      if (p >= end) return false;
      switch (kStringBytes[static_cast<unsigned char>(*p)]) {
        case kPlain: ++p; continue;
        case kQuote:
        case kBackslash: return true;
        case kNonAscii: {
          const auto n = schema::utf8_sequence_length(reinterpret_cast<const unsigned char*>(p),
                                                      reinterpret_cast<const unsigned char*>(end));
          if (n == 0) return false;
          p += n;
          continue;
        }
        default: return false;  // a control character
      }
    }
  }

  // At the opening quote. A string without escapes stays where it is in
  // the arena's copy of the text; one with escapes is unescaped after it.
  bool string(NodeKind kind) {
    const char* run = ++p;
    if (!skip_string_bytes()) return false;
    if (*p == '"') {
      push(kind, static_cast<std::size_t>(run - begin), static_cast<std::size_t>(p - run));
      ++p;
      return true;
    }
    std::string& arena = t.arena_;
    const std::size_t offset = arena.size();
    for (;;) {
      arena.append(run, static_cast<std::size_t>(p - run));
      if (*p == '"') {
        push(kind, offset, arena.size() - offset);
        ++p;
        return true;
      }
      if (!unescape(arena)) return false;
      run = p;
      if (!skip_string_bytes()) return false;
    }
  }

  // The escape at p (a backslash), appended to `out` unescaped.
  bool unescape(std::string& out) {
    if (end - p < 2) return false;
    if (p[1] == 'u') {
      const long unit = escape_at(std::string_view(begin, static_cast<std::size_t>(end - begin)),
                                  static_cast<std::size_t>(p - begin));
      // Surrogates, paired or not, are left to the exhaustive reading.
      if (unit < 0 || (unit >= 0xD800 && unit <= 0xDFFF)) return false;
      schema::append_utf8(static_cast<std::uint32_t>(unit), out);
      p += 6;
      return true;
    }
    const int c = schema::json_escape_value(p[1]);
    if (c < 0) return false;
    out += static_cast<char>(c);
    p += 2;
    return true;
  }

  // A container at p: items read by `item`, separated by commas, up to
  // `close`; its node gets their count and its end.
  template <class Item>
  bool container(NodeKind kind, char close, Item item) {
    if (++depth > kMaxDepth) return false;
    const auto index = static_cast<std::uint32_t>(t.nodes_.size());
    push(kind, 0, 0);
    ++p;
    skip_space();
    std::uint32_t items = 0;
    if (p < end && *p == close) {
      ++p;
    } else {
      for (;;) {
        if (!item()) return false;
        ++items;
        skip_space();
        if (p >= end) return false;
        if (*p == ',') {
          ++p;
          skip_space();
          continue;
        }
        if (*p != close) return false;
        ++p;
        break;
      }
    }
    Node& node = t.nodes_[index];
    node.size = items;
    node.end = static_cast<std::uint32_t>(t.nodes_.size());
    --depth;
    return true;
  }

  // "key": value
  bool member() {
    if (p >= end || *p != '"' || !string(NodeKind::key)) return false;
    skip_space();
    if (p >= end || *p != ':') return false;
    ++p;
    skip_space();
    return value();
  }

  bool object() {
    const auto index = static_cast<std::uint32_t>(t.nodes_.size());
    if (!container(NodeKind::object, '}', [this] { return member(); })) return false;
    std::string_view repeated;
    return t.nodes_[index].size < 2 || !t.find_repeated_key(index, repeated);
  }

  bool array() {
    return container(NodeKind::array, ']', [this] { return value(); });
  }
};

bool EventTape::parse_fast(std::string_view text) {
  nodes_.clear();
  // The arena starts as the text itself, so offsets into the text are
  // offsets into the arena; the reading walks the caller's text, which
  // stays put while unescaped strings are appended to the arena.
  arena_.assign(text);
  Fast fast{*this, text.data(), text.data(), text.data() + text.size()};
  fast.skip_space();
  if (!fast.value()) return false;
  fast.skip_space();
  return fast.p == fast.end;
}

EventTape::EventTape() : parser_(std::make_unique<Parser>(*this)) {}
EventTape::~EventTape() = default;

bool EventTape::parse(std::string_view text, TapeFailure& failure) {
  if (text.size() < std::numeric_limits<std::uint32_t>::max() && parse_fast(text)) return true;
  return parse_exhaustively(text, failure);
}

bool EventTape::parse_exhaustively(std::string_view text, TapeFailure& failure) {
  auto& parser = parser_->parser;
  auto& handler = parser.handler();
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
    failure = {"invalid_json", "", "the event is larger than 4 GiB"};
    return false;
  }
  parser.reset();
  boost::json::error_code ec;
  std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used == text.size()) return true;

  failure.field = handler.top_field();
  if (handler.duplicate) {
    if (handler.duplicate_top) failure.field = handler.duplicate_key;
    failure.code = "duplicate_key";
    failure.message = handler.duplicate_top
                          ? "the field \"" + handler.duplicate_key +
                                "\" appears more than once; each field may appear once"
                          : "the key \"" + handler.duplicate_key +
                                "\" appears more than once in one object inside field '" +
                                failure.field + "'; each key may appear once";
    return false;
  }
  if (!ec) {
    failure.code = "invalid_json";
    failure.field.clear();
    failure.message = "unexpected data after the event at byte " + std::to_string(used) +
                      "; each event is one JSON object";
    return false;
  }
  if (ec == boost::json::error::too_deep) {
    failure.code = "too_deep";
    failure.message = "arrays and objects nest more than " + std::to_string(kMaxDepth) +
                      " levels deep (the event object included); at most that many are allowed";
    return false;
  }
  if (ec == boost::json::error::exponent_overflow) {
    failure.code = "out_of_range";
    failure.message = "a number's exponent is too large; numbers must fit a double";
    return false;
  }
  if (ec == boost::json::error::illegal_leading_surrogate ||
      ec == boost::json::error::illegal_trailing_surrogate || !schema::valid_utf8(text) ||
      has_unpaired_surrogate_escape(text)) {
    failure.code = "invalid_utf8";
    failure.message =
        "the event is not valid UTF-8 (invalid bytes or an unpaired \\u surrogate escape); "
        "text must be UTF-8";
    return false;
  }
  failure.code = "invalid_json";
  failure.message =
      "the event is not valid JSON (" + ec.message() +
      "); each event must be one JSON object, and NaN or Infinity are not JSON numbers";
  return false;
}

}  // namespace duckmesh::ingest
