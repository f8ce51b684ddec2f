// EventTape: one parsed event as a flat, reusable list of nodes.
//
// The validator needs each number's exact text (decimals are checked digit
// by digit, never through a double), and every key of every object to catch
// duplicates; boost::json::value keeps neither. So events are read into
// this tape instead: nodes in document order, strings and number texts in
// one arena. Both buffers are reused from event to event, so a warm tape
// parses without allocating.
//
// Two readings fill it. A fast one takes the event as it comes: the arena
// starts as a copy of the text, so a string without escapes and a number
// are just their place in it, and numbers are never converted. It gives up
// on anything unusual (any error, a \u surrogate escape, an exponent of
// more than six digits, a repeated key) and the exhaustive reading, built
// on boost::json::basic_parser, decides and names the failure. The fast
// reading is stricter, never looser, than the exhaustive one, and where
// both accept an event they fill the tape with the same nodes and texts.
//
// Not thread-safe: one tape per thread (the validator makes one per call).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace duckmesh::ingest {

enum class NodeKind : std::uint8_t { object, array, key, string, number, true_, false_, null };

struct Node {
  NodeKind kind = NodeKind::null;
  // key, string, number: the (unescaped) text in the arena.
  std::uint32_t offset = 0;
  // key, string, number: text length. object: members. array: elements.
  std::uint32_t size = 0;
  // Index one past the last node of this value, so a value is skipped by
  // jumping to tape[i].end. An object's member is a key node followed by
  // its value.
  std::uint32_t end = 0;
};

// Why an event could not be parsed: code is one of invalid_json,
// invalid_utf8, duplicate_key, too_deep, out_of_range; field is the event's
// top-level member being read when parsing stopped ("" if none).
struct TapeFailure {
  const char* code = "";
  std::string field;
  std::string message;
};

class EventTape {
 public:
  // Containers may nest this deep, the event object included.
  static constexpr std::size_t kMaxDepth = 33;

  EventTape();
  ~EventTape();
  EventTape(const EventTape&) = delete;
  EventTape& operator=(const EventTape&) = delete;

  // Parses `text` as exactly one JSON value (surrounding whitespace
  // allowed) into the tape, replacing its previous content. Returns false
  // and fills `failure` on bad syntax, invalid UTF-8 (in raw bytes or as
  // unpaired surrogate escapes), a key repeated within one object, nesting
  // past kMaxDepth, or a text too large for the tape (4 GiB).
  bool parse(std::string_view text, TapeFailure& failure);
  // The exhaustive reading alone: what parse() falls back to. The same
  // contract; slower.
  bool parse_exhaustively(std::string_view text, TapeFailure& failure);

  const Node& operator[](std::uint32_t index) const { return nodes_[index]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(nodes_.size()); }
  std::string_view text(const Node& node) const { return {arena_.data() + node.offset, node.size}; }

 private:
  struct Handler;
  struct Parser;
  struct Fast;

  // The fast reading; false when it gave up (the tape is then undefined).
  bool parse_fast(std::string_view text);
  // A key that appears twice among the members of the object at `index`.
  bool find_repeated_key(std::uint32_t index, std::string_view& repeated);

  std::vector<Node> nodes_;
  std::string arena_;
  std::vector<std::uint32_t> open_;  // indices of the containers being filled
  std::vector<std::string_view> keys_scratch_;
  std::unique_ptr<Parser> parser_;
};

}  // namespace duckmesh::ingest
