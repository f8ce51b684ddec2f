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

}  // namespace duckmesh
