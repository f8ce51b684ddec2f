// The outer shape of an ingest body: where each event's text starts and ends.
//
// Splitting first and parsing each event on its own is what lets one broken
// event (bad syntax, invalid UTF-8, a duplicate key) be refused alone while
// its neighbours are still validated.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "ingest/validation.hpp"

namespace duckmesh::ingest {

// One event's text inside the body. `line` is its 1-based line for NDJSON
// bodies and 0 for JSON bodies.
struct EventText {
  std::string_view text;
  std::size_t line = 0;
};

// Splits `body` into event texts, without parsing the events themselves.
//
// json: the body is `[e, e, ...]` or `{"events": [e, e, ...]}` (only that
// member), optionally after a UTF-8 byte order mark. Each element is cut out
// by balancing brackets outside strings; its own syntax is checked later, so
// an element whose brackets do not balance is the only way an element's
// content can fail the whole body.
// ndjson: each non-blank line (a trailing '\r' removed) is an event.
//
// Throws Error(invalid_input) naming the byte offset when the outer shape is
// wrong or the body holds no event, and Error(payload_too_large) as soon as
// more than max_events events are found.
std::vector<EventText> split_events(std::string_view body, BodyFormat format,
                                    std::size_t max_events);

}  // namespace duckmesh::ingest
