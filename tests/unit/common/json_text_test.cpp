#include "common/json_text.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace duckmesh {
namespace {

TEST(JsonText, DoublesInTheirShortestPlainForm) {
  EXPECT_EQ(to_json_text(100.0), "100");
  EXPECT_EQ(to_json_text(0.0), "0");
  EXPECT_EQ(to_json_text(0.5), "0.5");
  EXPECT_EQ(to_json_text(39.39), "39.39");
  EXPECT_EQ(to_json_text(-2147483648.0), "-2147483648");
  EXPECT_EQ(to_json_text(19.385414707854878), "19.385414707854878");
  EXPECT_EQ(to_json_text(1e300), "1e+300");
  EXPECT_EQ(to_json_text(1.5e-7), "1.5e-07");
}

TEST(JsonText, ADoubleJsonCannotHoldIsNull) {
  EXPECT_EQ(to_json_text(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(to_json_text(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(to_json_text(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonText, DoublesReadBackToTheSameValue) {
  std::mt19937_64 random(7);
  std::uniform_int_distribution<std::uint64_t> bits;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t b = bits(random);
    double d;
    static_assert(sizeof d == sizeof b);
    std::memcpy(&d, &b, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = to_json_text(d);
    // JSON number syntax, and exactly the value (boost::json's own reader
    // may be off by one unit in the last place, so from_chars checks it).
    ASSERT_TRUE(boost::json::parse(text).is_number()) << text;
    double back = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
    ASSERT_EQ(ec, std::errc()) << text;
    EXPECT_EQ(end, text.data() + text.size()) << text;
    EXPECT_EQ(back, d) << text;
  }
}

TEST(JsonText, EverythingButDoublesAsBoostWritesIt) {
  const auto value = boost::json::parse(R"({
    "name": "quote \" backslash \\ tab \t newline \n bell \u0007 é 日本",
    "int": -9223372036854775808, "big": 18446744073709551615,
    "yes": true, "no": false, "nothing": null,
    "list": [1, "two", [], {}, [null]], "empty": {}, "": "empty key"})");
  EXPECT_EQ(to_json_text(value), boost::json::serialize(value));
  EXPECT_EQ(boost::json::parse(to_json_text(value)), value);
}

TEST(JsonText, DoublesInsideContainers) {
  const boost::json::value value{{"cpu", {{"usage_percent", 0.0}, {"count", 2}}},
                                 {"ratios", {0.25, 1.0, 12.5}}};
  EXPECT_EQ(to_json_text(value), R"({"cpu":{"usage_percent":0,"count":2},"ratios":[0.25,1,12.5]})");
}

}  // namespace
}  // namespace duckmesh
