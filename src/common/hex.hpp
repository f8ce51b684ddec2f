// Bytes as lower-case hex digits, two per byte ("00ff").
#pragma once

#include <string>
#include <string_view>

namespace duckmesh {

std::string to_hex(std::string_view bytes);

}  // namespace duckmesh
