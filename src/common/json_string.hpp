// JSON string literals written straight into an output buffer, for the hot
// paths (ingest normalization, query result encoding) that build JSON text
// by hand instead of through a DOM.
#pragma once

#include <string>
#include <string_view>

namespace duckmesh {

// Appends `text` as a JSON string literal, quotes included: '"' and '\'
// escaped, control characters as \n, \r, \t, \b, \f or \u00XX, every other
// byte as it is. Thread-safe; allocates only by growing `out`.
// REQUIRES `text` is valid UTF-8 (bytes are copied, not checked).
void append_json_string(std::string& out, std::string_view text);

// The first byte in [p, end) that JSON string text cannot hold as it is (a
// quote, a backslash or a control character below 0x20), or `end`: 16
// bytes at a time where the CPU has SSE2, then 8, then 1. For writing
// strings and for finding where one ends when reading them.
const char* skip_plain_json_text(const char* p, const char* end);

}  // namespace duckmesh
