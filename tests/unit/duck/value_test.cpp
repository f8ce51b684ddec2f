#include "duck/value.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "duck/text.hpp"

namespace duckmesh::duck {
namespace {

Int128 int128_max() {
  return static_cast<Int128>(~static_cast<UInt128>(0) >> 1);
}

TEST(Value, DecimalTextIsExact) {
  EXPECT_EQ((Decimal{static_cast<Int128>(12345678901234567891ULL), 20, 2}).to_string(),
            "123456789012345678.91");
  EXPECT_EQ((Decimal{-5, 10, 2}).to_string(), "-0.05");
  EXPECT_EQ((Decimal{150, 10, 2}).to_string(), "1.50");
  EXPECT_EQ((Decimal{0, 10, 3}).to_string(), "0.000");
  EXPECT_EQ((Decimal{-42, 5, 0}).to_string(), "-42");
  EXPECT_EQ((Decimal{int128_max(), 38, 38}).to_string(),
            "1.70141183460469231731687303715884105727");
  EXPECT_DOUBLE_EQ((Decimal{-12345, 10, 2}).to_double(), -123.45);
}

TEST(Value, Int128TextCoversTheWholeRange) {
  EXPECT_EQ(int128_to_string(0), "0");
  EXPECT_EQ(int128_to_string(int128_max()), "170141183460469231731687303715884105727");
  EXPECT_EQ(int128_to_string(-int128_max() - 1), "-170141183460469231731687303715884105728");
  EXPECT_EQ(uint128_to_string(~static_cast<UInt128>(0)), "340282366920938463463374607431768211455");
}

TEST(Value, DoubleTextFollowsDuckDB) {
  EXPECT_EQ(format_double(1.0), "1.0");
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(1e15), "1000000000000000.0");
  EXPECT_EQ(format_double(1e16), "1e+16");
  EXPECT_EQ(format_double(0.0001), "0.0001");
  EXPECT_EQ(format_double(0.00001), "1e-05");
  EXPECT_EQ(format_double(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_double(-0.0), "-0.0");
  EXPECT_EQ(format_double(2.0 / 3.0), "0.6666666666666666");
  EXPECT_EQ(format_double(2.5e-300), "2.5e-300");
  EXPECT_EQ(format_double(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_double(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(format_double(std::nan("")), "nan");
  EXPECT_EQ(format_float(1.1f), "1.1");
  EXPECT_EQ(format_float(3.4e38f), "3.4e+38");
}

TEST(Value, BlobAndUuidText) {
  EXPECT_EQ(format_blob(std::string("\xAA"
                                    "A\\'\"\0 z",
                                    8)),
            "\\xAAA\\x5C\\x27\\x22\\x00 z");
  // UUID storage flips the top bit: all zeros is stored as INT128_MIN.
  EXPECT_EQ(format_uuid(-int128_max() - 1), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(format_uuid(int128_max()), "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

TEST(Value, NestedScalarsAreQuotedWhereDuckDBQuotes) {
  auto nested = [](std::string_view text) {
    std::string out;
    append_nested_scalar(out, text);
    return out;
  };
  EXPECT_EQ(nested("plain"), "plain");
  EXPECT_EQ(nested("b c"), "b c");
  EXPECT_EQ(nested("a\\b"), "a\\b");
  EXPECT_EQ(nested(""), "''");
  EXPECT_EQ(nested("NULL"), "'NULL'");
  EXPECT_EQ(nested("null"), "'null'");
  EXPECT_EQ(nested(" lead"), "' lead'");
  EXPECT_EQ(nested("trail "), "'trail '");
  EXPECT_EQ(nested("d,e"), "'d,e'");
  EXPECT_EQ(nested("it's"), "'it\\'s'");
  EXPECT_EQ(nested("a:b\\"), "'a:b\\\\'");
}

TEST(Value, ValueTextRendersNestedValues) {
  Value list = List{{std::int64_t{1}, std::monostate{}, std::string("x,y"), std::string("b c")}};
  EXPECT_EQ(value_text(list), "[1, NULL, 'x,y', b c]");
  Value st = Struct{{{"a", std::int64_t{1}}, {"b", Date{19844}}, {"c", List{}}}};
  EXPECT_EQ(value_text(st), "{'a': 1, 'b': 2024-05-01, 'c': []}");
  EXPECT_EQ(value_text(Value{TimestampTz{0}}), "1970-01-01 00:00:00+00");
  EXPECT_EQ(value_text(Value{}), "NULL");
  EXPECT_EQ(value_text(Value{std::string("top level, unquoted")}), "top level, unquoted");
}

TEST(Value, StructFindsFieldsByName) {
  Struct s{{{"a", std::int64_t{1}}, {"b", std::string("x")}}};
  ASSERT_NE(s.find("b"), nullptr);
  EXPECT_EQ(*s.find("b"), Value{std::string("x")});
  EXPECT_EQ(s.find("c"), nullptr);
}

}  // namespace
}  // namespace duckmesh::duck
