#include "common/stable_hash.hpp"

#include <bit>
#include <cstring>

namespace duckmesh {
namespace {

constexpr std::uint64_t kOdd1 = 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio
constexpr std::uint64_t kOdd2 = 0xC2B2AE3D27D4EB4Full;
constexpr std::uint64_t kOdd3 = 0xFF51AFD7ED558CCDull;

// Spreads every input bit over the whole word.
std::uint64_t avalanche(std::uint64_t h) {
  h ^= h >> 33;
  h *= kOdd3;
  h ^= h >> 29;
  h *= kOdd2;
  h ^= h >> 32;
  return h;
}

}  // namespace

std::uint64_t stable_hash64(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = (seed + kOdd3) ^ (static_cast<std::uint64_t>(bytes.size()) * kOdd1);
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  // Eight bytes at a time, read as a little-endian word.
  for (; left >= 8; p += 8, left -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    h = std::rotl(h ^ (word * kOdd2), 31) * kOdd1;
  }
  if (left > 0) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, left);
    h = std::rotl(h ^ (word * kOdd2), 31) * kOdd1;
  }
  return avalanche(h);
}

}  // namespace duckmesh
