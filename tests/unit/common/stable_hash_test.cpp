#include "common/stable_hash.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace duckmesh {
namespace {

// Stored hashes are compared across builds: these values must never change.
TEST(StableHash, GivesTheSameValuesInEveryBuild) {
  EXPECT_EQ(stable_hash64(""), 0x8d2543f5a32a78a0ull);
  EXPECT_EQ(stable_hash64("a"), 0xf29c13972f3853caull);
  EXPECT_EQ(stable_hash64("abcdefgh"), 0x10f557721dbf805aull);
  EXPECT_EQ(stable_hash64("abcdefghi"), 0x13bb8a94accde217ull);
  EXPECT_EQ(stable_hash64("{\"id\":1}\n{\"id\":2}\n"), 0x7ef2b8ed2beb9102ull);
  EXPECT_EQ(stable_hash64("abc", 1), 0xed3babd0ed792dbfull);
}

TEST(StableHash, EveryByteLengthAndSeedCounts) {
  const std::string base(40, 'x');
  std::set<std::uint64_t> seen{stable_hash64(base)};
  // One byte changed, at each place (whole words and the tail).
  for (std::size_t i = 0; i < base.size(); ++i) {
    std::string changed = base;
    changed[i] = 'y';
    EXPECT_TRUE(seen.insert(stable_hash64(changed)).second) << i;
  }
  // Trailing zero bytes are not the same as none.
  EXPECT_TRUE(seen.insert(stable_hash64(base + std::string(1, '\0'))).second);
  EXPECT_TRUE(seen.insert(stable_hash64(base + std::string(8, '\0'))).second);
  EXPECT_TRUE(seen.insert(stable_hash64(base, 2)).second);
  // Words in another order.
  EXPECT_NE(stable_hash64("aaaaaaaabbbbbbbb"), stable_hash64("bbbbbbbbaaaaaaaa"));
}

}  // namespace
}  // namespace duckmesh
