// Bytes as lower-case hex digits, two per byte ("00ff"), and back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace duckmesh {

std::string to_hex(std::string_view bytes);
// The bytes of an even number of hex digits (either case); nullopt for
// anything else.
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace duckmesh
