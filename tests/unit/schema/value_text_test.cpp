// Canonical value text written by ingest: code points counted for length
// limits, UUIDs and timestamps in their one stored spelling.
#include "schema/value_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace duckmesh::schema {
namespace {

std::size_t count_slowly(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

TEST(ValueTextTest, CodePointsAreCountedAtEveryOffsetOfTheWideCount) {
  const std::string pieces[] = {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\x7f"};
  for (const auto& head : pieces) {
    for (const auto& tail : pieces) {
      std::string text;
      for (std::size_t i = 0; i < 40; ++i) {
        text += (i % 3 == 0) ? head : tail;
        ASSERT_EQ(count_code_points(text), count_slowly(text)) << text.size() << " bytes";
      }
    }
  }
  EXPECT_EQ(count_code_points(""), 0u);
  EXPECT_EQ(count_code_points("h\xC3\xA9llo!"), 6u);
}

TEST(ValueTextTest, UuidsAreStoredInLowerCaseAndAnythingElseIsRefused) {
  std::string out = "x";
  EXPECT_TRUE(append_uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", out));
  EXPECT_EQ(out, "xa0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  out.clear();
  EXPECT_TRUE(append_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", out));
  EXPECT_EQ(out, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  for (const char* bad :
       {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
        "a0eebc999c0b-4ef8-bb6d-6bb9bd380a11-", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1G", "a0eebc99_9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1 "}) {
    out.clear();
    EXPECT_FALSE(append_uuid(bad, out)) << bad;
    EXPECT_TRUE(out.empty()) << bad;
  }
  std::uint64_t high = 0, low = 0;
  ASSERT_TRUE(parse_uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", high, low));
  EXPECT_EQ(high, 0xa0eebc999c0b4ef8ULL);
  EXPECT_EQ(low, 0xbb6d6bb9bd380a11ULL);
}

TEST(ValueTextTest, TimestampsAreStoredInUtcWithTheirFraction) {
  auto canonical = [](std::string_view in) {
    std::string out;
    const char* why = "";
    EXPECT_TRUE(append_utc_timestamp(in, false, out, why)) << in << ": " << why;
    return out;
  };
  EXPECT_EQ(canonical("2026-11-25T10:00:00Z"), "2026-11-25 10:00:00+00:00");
  EXPECT_EQ(canonical("2026-11-25T10:00:00.5+02:00"), "2026-11-25 08:00:00.500000+00:00");
  EXPECT_EQ(canonical("2026-01-01T00:30:00.000001+01:00"), "2025-12-31 23:30:00.000001+00:00");
  EXPECT_EQ(canonical("0001-01-01 00:00:00"), "0001-01-01 00:00:00+00:00");
  EXPECT_EQ(canonical("9999-12-31T23:59:59.999999Z"), "9999-12-31 23:59:59.999999+00:00");
  std::string out;
  const char* why = "";
  EXPECT_FALSE(append_utc_timestamp("0001-01-01T00:00:00+00:01", false, out, why));
  EXPECT_TRUE(out.empty());
}

TEST(ValueTextTest, OneLetterJsonEscapesAndUtf8SequencesFollowTheStandards) {
  const std::string letters = "\"\\/bfnrt";
  const std::string meant = "\"\\/\b\f\n\r\t";
  for (std::size_t i = 0; i < letters.size(); ++i) {
    EXPECT_EQ(json_escape_value(letters[i]), meant[i]) << letters[i];
  }
  for (char other : std::string("uaxN0'")) EXPECT_EQ(json_escape_value(other), -1) << other;

  auto length = [](std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    return utf8_sequence_length(p, p + s.size());
  };
  EXPECT_EQ(length("\xC3\xA9"), 2u);
  EXPECT_EQ(length("\xE2\x82\xAC"), 3u);
  EXPECT_EQ(length("\xF0\x9F\x98\x80"), 4u);
  EXPECT_EQ(length("\xC0\x80"), 0u);          // overlong
  EXPECT_EQ(length("\xED\xA0\x80"), 0u);      // a UTF-16 surrogate
  EXPECT_EQ(length("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(length("\xE2\x82"), 0u);          // cut short
  EXPECT_EQ(length("\x80"), 0u);              // a continuation byte first
}

}  // namespace
}  // namespace duckmesh::schema
