#include "common/hex.hpp"

#include <gtest/gtest.h>

#include <string>

namespace duckmesh {
namespace {

TEST(Hex, TwoLowerCaseDigitsPerByteWhateverTheByte) {
  EXPECT_EQ(to_hex(""), "");
  EXPECT_EQ(to_hex("k1"), "6b31");
  EXPECT_EQ(to_hex(std::string("\0\x0f\xf0\xff", 4)), "000ff0ff");
}

}  // namespace
}  // namespace duckmesh
