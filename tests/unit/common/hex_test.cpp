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

TEST(Hex, DecodesEitherCaseAndRefusesWhatIsNotHex) {
  EXPECT_EQ(from_hex(""), "");
  EXPECT_EQ(from_hex("000ff0ff"), std::string("\0\x0f\xf0\xff", 4));
  EXPECT_EQ(from_hex("6B31"), "k1");
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  EXPECT_EQ(from_hex(to_hex(every_byte)), every_byte);
  EXPECT_EQ(from_hex("abc"), std::nullopt) << "odd number of digits";
  EXPECT_EQ(from_hex("0g"), std::nullopt);
  EXPECT_EQ(from_hex("g0"), std::nullopt);
  EXPECT_EQ(from_hex(" 0"), std::nullopt);
}

}  // namespace
}  // namespace duckmesh
