// append_json_string: JSON string text for any bytes, whichever of its
// scans (16, 8 or 1 byte at a time) meets the byte that needs escaping.
#include "common/json_string.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace duckmesh {
namespace {

std::string as_json(std::string_view text) {
  std::string out = "prefix:";
  append_json_string(out, text);
  return out.substr(7);
}

TEST(JsonStringTest, EscapesWhatJsonRequiresAndNothingElse) {
  EXPECT_EQ(as_json(""), R"("")");
  EXPECT_EQ(as_json("plain text"), R"("plain text")");
  EXPECT_EQ(as_json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(as_json("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(as_json(std::string("\x01\x1f\x00", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(as_json("\x7f h\xC3\xA9llo /"), "\"\x7f h\xC3\xA9llo /\"");
}

TEST(JsonStringTest, EveryByteThatNeedsEscapingIsFoundAtEveryOffset) {
  // Offsets 0-47 cover the 16-byte scan, the 8-byte one and the tail, and a
  // special byte right after another; neighbours that need no escape (0x20,
  // 0x7F, multi-byte characters) must pass through unchanged.
  const std::string specials[] = {"\"", "\\", "\n", "\x01", "\x1f", std::string(1, '\0')};
  const std::string neighbours[] = {"a", " ", "\x7f", "\xC3\xA9"};
  for (const auto& special : specials) {
    for (const auto& filler : neighbours) {
      for (std::size_t at = 0; at < 48; ++at) {
        for (std::size_t length : {at + 1, at + 9, at + 17, std::size_t{64}}) {
          std::string text;
          while (text.size() + filler.size() <= at) text += filler;
          text.resize(at, 'a');  // whole characters, then 'a' up to the offset
          text += special;
          text += special;
          while (text.size() < length) text += 'z';
          const std::string out = as_json(text);
          boost::system::error_code ec;
          const boost::json::value back = boost::json::parse(out, ec);
          ASSERT_FALSE(ec) << "offset " << at << ": " << out;
          ASSERT_EQ(std::string(back.as_string()), text) << "offset " << at << ": " << out;
        }
      }
    }
  }
}

}  // namespace
}  // namespace duckmesh
