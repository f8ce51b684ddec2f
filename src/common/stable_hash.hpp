// A 64-bit hash of bytes that is the same in every build and on every
// (little-endian) machine, for hashes that are stored or compared between
// processes; std::hash promises neither. Not for secrets: anyone can make
// two inputs collide on purpose.
#pragma once

#include <cstdint>
#include <string_view>

namespace duckmesh {

std::uint64_t stable_hash64(std::string_view bytes, std::uint64_t seed = 0);

}  // namespace duckmesh
