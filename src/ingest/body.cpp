#include "ingest/body.hpp"

#include <cstring>

#include "common/error.hpp"

namespace duckmesh::ingest {
namespace {

constexpr const char* kJsonShape =
    "a JSON body must be an array of event objects or {\"events\": [...]}";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

Error shape_error(const std::string& what, std::size_t offset) {
  return Error(ErrorCode::invalid_input,
               what + " at byte " + std::to_string(offset) + "; " + kJsonShape,
               {{"offset", offset}});
}

Error too_many(std::size_t max_events) {
  return Error(ErrorCode::payload_too_large,
               "the body holds more than " + std::to_string(max_events) +
                   " events; send at most that many per request",
               {{"max_events", max_events}});
}

Error no_events() {
  return Error(ErrorCode::invalid_input,
               "the body holds no events; send at least one event object");
}

// Cuts JSON bodies into element texts. Positions are byte offsets into body_.
class ArraySplitter {
 public:
  ArraySplitter(std::string_view body, std::size_t max_events)
      : body_(body), max_events_(max_events) {}

  std::vector<EventText> split() {
    skip_bom();
    skip_space();
    if (at_end()) throw no_events();
    bool wrapped = false;
    if (body_[pos_] == '{') {
      wrapped = true;
      ++pos_;
      skip_space();
      expect_literal("\"events\"", "expected the member \"events\"");
      skip_space();
      expect_literal(":", "expected ':' after \"events\"");
      skip_space();
      if (at_end() || body_[pos_] != '[') throw shape_error("\"events\" must be an array", pos_);
    } else if (body_[pos_] != '[') {
      throw shape_error("the body is neither an array nor an object", pos_);
    }
    ++pos_;  // '['
    std::vector<EventText> events;
    skip_space();
    if (!at_end() && body_[pos_] == ']') {
      ++pos_;
    } else {
      while (true) {
        if (events.size() == max_events_) throw too_many(max_events_);
        std::size_t start = pos_;
        skip_value(events.size());
        events.push_back({body_.substr(start, pos_ - start), 0});
        skip_space();
        if (at_end()) throw shape_error("the array of events is not closed", pos_);
        if (body_[pos_] == ']') {
          ++pos_;
          break;
        }
        if (body_[pos_] != ',') {
          throw shape_error("expected ',' or ']' after event " + std::to_string(events.size() - 1),
                            pos_);
        }
        ++pos_;
        skip_space();
      }
    }
    skip_space();
    if (wrapped) {
      if (at_end() || body_[pos_] != '}') {
        throw shape_error("expected '}' closing the body object (its only member is \"events\")",
                          pos_);
      }
      ++pos_;
      skip_space();
    }
    if (!at_end()) throw shape_error("unexpected data after the events", pos_);
    if (events.empty()) throw no_events();
    return events;
  }

 private:
  bool at_end() const { return pos_ >= body_.size(); }

  void skip_bom() {
    if (body_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  void skip_space() {
    while (!at_end() && is_space(body_[pos_])) ++pos_;
  }

  void expect_literal(std::string_view literal, const char* what) {
    if (body_.substr(pos_, literal.size()) != literal) throw shape_error(what, pos_);
    pos_ += literal.size();
  }

  // From an opening '"', past the closing one.
  void skip_string(std::size_t index) {
    std::size_t p = pos_ + 1;
    while (true) {
      const void* hit = nullptr;
      if (p < body_.size()) hit = std::memchr(body_.data() + p, '"', body_.size() - p);
      if (hit == nullptr)
        throw shape_error("event " + std::to_string(index) + " ends inside a string", pos_);
      std::size_t quote = static_cast<std::size_t>(static_cast<const char*>(hit) - body_.data());
      // The quote is escaped when an odd number of backslashes precede it.
      std::size_t backslashes = 0;
      while (quote - backslashes > p && body_[quote - backslashes - 1] == '\\') ++backslashes;
      p = quote + 1;
      if (backslashes % 2 == 0) break;
    }
    pos_ = p;
  }

  // Moves past one element. Containers end where their brackets balance;
  // bracket kinds are not matched here, the element's own parse does that.
  void skip_value(std::size_t index) {
    if (at_end()) throw shape_error("expected an event", pos_);
    char c = body_[pos_];
    if (c == ']' || c == ',' || c == '}') throw shape_error("expected an event", pos_);
    if (c == '"') {
      skip_string(index);
      return;
    }
    if (c != '{' && c != '[') {
      while (!at_end() && !is_space(body_[pos_]) && body_[pos_] != ',' && body_[pos_] != ']' &&
             body_[pos_] != '}') {
        ++pos_;
      }
      return;
    }
    std::size_t start = pos_;
    std::size_t depth = 0;
    while (!at_end()) {
      c = body_[pos_];
      if (c == '"') {
        skip_string(index);
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++pos_;
          return;
        }
      }
      ++pos_;
    }
    throw shape_error("event " + std::to_string(index) + " is not closed (the body ends inside it)",
                      start);
  }

  std::string_view body_;
  std::size_t max_events_;
  std::size_t pos_ = 0;
};

std::vector<EventText> split_lines(std::string_view body, std::size_t max_events) {
  std::vector<EventText> events;
  std::size_t pos = 0;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  std::size_t line = 0;
  while (pos < body.size()) {
    ++line;
    std::size_t newline = body.find('\n', pos);
    std::size_t end = newline == std::string_view::npos ? body.size() : newline;
    std::size_t first = pos;
    std::size_t last = end;
    while (first < last && is_space(body[first])) ++first;
    while (last > first && is_space(body[last - 1])) --last;
    if (first < last) {
      if (events.size() == max_events) throw too_many(max_events);
      events.push_back({body.substr(first, last - first), line});
    }
    pos = end + 1;
  }
  if (events.empty()) throw no_events();
  return events;
}

}  // namespace

std::vector<EventText> split_events(std::string_view body, BodyFormat format,
                                    std::size_t max_events) {
  if (format == BodyFormat::ndjson) return split_lines(body, max_events);
  return ArraySplitter(body, max_events).split();
}

}  // namespace duckmesh::ingest
