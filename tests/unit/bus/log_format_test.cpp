#include "bus/local/log_format.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "bus/local/crc32c.hpp"
#include "bus/local/position_set.hpp"

namespace duckmesh::bus::local {
namespace {

TEST(Crc32c, MatchesPublishedCheckValues) {
  // RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ExtendEqualsOneShotAtEverySplit) {
  std::string data;
  std::mt19937 rng(7);
  for (int i = 0; i < 100; ++i) data.push_back(static_cast<char>(rng()));
  const std::uint32_t whole = crc32c(data);
  for (std::size_t split = 0; split <= data.size(); ++split) {
    const std::uint32_t head = crc32c(std::string_view(data).substr(0, split));
    EXPECT_EQ(crc32c_extend(head, data.data() + split, data.size() - split), whole) << split;
  }
}

TEST(Crc32c, TheCpuInstructionAgreesWithTheTable) {
  std::mt19937 rng(11);
  for (std::size_t n = 0; n < 300; ++n) {
    std::string data;
    for (std::size_t i = 0; i < n; ++i) data.push_back(static_cast<char>(rng()));
    const std::uint32_t init = static_cast<std::uint32_t>(rng());
    EXPECT_EQ(crc32c_extend(init, data.data(), n), crc32c_extend_portable(init, data.data(), n))
        << n;
  }
  EXPECT_EQ(crc32c_extend_portable(0, "123456789", 9), 0xE3069283u);
}

TEST(LogFormat, RecordRoundTripAndSizes) {
  Record r;
  r.position = 77;
  r.ingested_unix_us = -5;
  r.product = "p";
  r.table = "t";
  r.idempotency_key = "k";
  r.payload = std::string("x\0y", 3);
  std::string out;
  format::encode_record(out, r, 9, 100, 200);
  EXPECT_EQ(out.size(), format::record_body_bytes(r));
  const auto back = format::decode_record(out);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->record.position, 77u);
  EXPECT_EQ(back->record.ingested_unix_us, -5);
  EXPECT_EQ(back->record.payload, r.payload);
  EXPECT_EQ(back->record.idempotency_key, "k");
  EXPECT_EQ(back->replayed_from, 9u);
  EXPECT_EQ(back->group_start, 100u);
  EXPECT_EQ(back->group_end, 200u);
  EXPECT_FALSE(format::decode_record(out.substr(0, out.size() - 1)).has_value());
  EXPECT_FALSE(format::decode_record(out + "x").has_value());
}

TEST(LogFormat, FramesDetectEveryKindOfDamage) {
  std::string data;
  format::append_frame(data, format::kSegmentMagic, "hello body");
  const auto ok = format::parse_frame(data, 0, format::kSegmentMagic);
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.body, "hello body");
  EXPECT_EQ(ok.next, data.size());

  EXPECT_FALSE(format::parse_frame(data, 0, format::kStateMagic).ok);  // other file kind
  EXPECT_FALSE(format::parse_frame(data.substr(0, 11), 0, format::kSegmentMagic).ok);
  EXPECT_FALSE(format::parse_frame(data.substr(0, data.size() - 1), 0, format::kSegmentMagic).ok);
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::string flipped = data;
    flipped[i] ^= 0x04;
    EXPECT_FALSE(format::parse_frame(flipped, 0, format::kSegmentMagic).ok) << "byte " << i;
  }
}

TEST(LogFormat, StateEntriesRoundTrip) {
  const auto settle = format::decode_state_entry(format::encode_settle({1, 5, 9}));
  ASSERT_TRUE(settle.has_value());
  EXPECT_EQ(settle->type, format::EntryType::settle);
  EXPECT_EQ(settle->positions, (std::vector<Position>{1, 5, 9}));

  DeadLetter d;
  d.record.position = 4;
  d.record.attempts = 3;
  d.record.payload = "{}";
  d.record.table = "t";
  d.reason = "why";
  d.dead_unix_us = 123;
  const auto dead = format::decode_state_entry(format::encode_dead(d));
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->dead.record.position, 4u);
  EXPECT_EQ(dead->dead.record.attempts, 3u);
  EXPECT_EQ(dead->dead.reason, "why");
  EXPECT_EQ(dead->dead.record.payload, "{}");
  EXPECT_EQ(dead->dead.dead_unix_us, 123);

  const auto ranges = format::decode_state_entry(format::encode_settled_ranges({{1, 3}, {7, 7}}));
  ASSERT_TRUE(ranges.has_value());
  EXPECT_EQ(ranges->ranges.size(), 2u);
  EXPECT_FALSE(format::decode_state_entry(format::encode_settled_ranges({{5, 3}})).has_value());
  EXPECT_FALSE(format::decode_state_entry(std::string("\x63", 1)).has_value());  // unknown type
}

TEST(PositionSet, MergesAndTrimsRanges) {
  PositionSet s;
  EXPECT_FALSE(s.contains(1));
  EXPECT_EQ(s.max(), 0u);
  for (Position p : {5, 1, 3, 2, 10, 4}) s.insert(p);
  EXPECT_EQ(s.ranges().size(), 2u);  // [1,5] [10,10]
  EXPECT_TRUE(s.contains(1));
  EXPECT_TRUE(s.contains(5));
  EXPECT_FALSE(s.contains(6));
  EXPECT_TRUE(s.contains(10));
  EXPECT_EQ(s.max(), 10u);
  s.insert_range(6, 9);
  ASSERT_EQ(s.ranges().size(), 1u);
  EXPECT_EQ(s.ranges().begin()->first, 1u);
  EXPECT_EQ(s.ranges().begin()->second, 10u);
  s.insert_range(3, 4);  // already inside
  EXPECT_EQ(s.ranges().size(), 1u);
  s.erase_below(4);
  EXPECT_FALSE(s.contains(3));
  EXPECT_TRUE(s.contains(4));
  s.erase_below(11);
  EXPECT_TRUE(s.empty());
}

TEST(PositionSet, AgreesWithAPlainSet) {
  std::mt19937 rng(11);
  PositionSet s;
  std::set<Position> plain;
  for (int i = 0; i < 5000; ++i) {
    const Position lo = 1 + rng() % 2000;
    const Position hi = lo + rng() % 4;
    s.insert_range(lo, hi);
    for (Position p = lo; p <= hi; ++p) plain.insert(p);
    if (i % 1000 == 999) {
      const Position floor = 1 + rng() % 500;
      s.erase_below(floor);
      plain.erase(plain.begin(), plain.lower_bound(floor));
    }
  }
  for (Position p = 0; p <= 2010; ++p) EXPECT_EQ(s.contains(p), plain.contains(p)) << p;
  Position last = 0;
  for (const auto& [first, end] : s.ranges()) {
    EXPECT_GT(first, last + 1);  // disjoint and not adjacent
    last = end;
  }
}

}  // namespace
}  // namespace duckmesh::bus::local
