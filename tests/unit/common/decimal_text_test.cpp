// DECIMAL text from the stored scaled integer.
#include "common/decimal_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace duckmesh {
namespace {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

TEST(DecimalTextTest, DecimalsAtTheEdgesOfTheirWidth) {
  Int128 max38 = 0;
  for (int k = 0; k < 38; ++k) max38 = max38 * 10 + 9;
  std::string text;
  append_scaled_decimal(max38, 38, text);
  EXPECT_EQ(text, "0." + std::string(38, '9'));
  text.clear();
  append_scaled_decimal(-max38, 0, text);
  EXPECT_EQ(text, "-" + std::string(38, '9'));
  text.clear();
  append_scaled_decimal(-1, 4, text);
  EXPECT_EQ(text, "-0.0001");
  text.clear();
  append_scaled_decimal(0, 0, text);
  EXPECT_EQ(text, "0");
}

TEST(DecimalTextTest, TheMostNegativeValueKeepsItsDigits) {
  const auto most_negative = static_cast<Int128>(static_cast<UInt128>(1) << 127);
  std::string text;
  append_scaled_decimal(most_negative, 0, text);
  EXPECT_EQ(text, "-170141183460469231731687303715884105728");
}

}  // namespace
}  // namespace duckmesh
