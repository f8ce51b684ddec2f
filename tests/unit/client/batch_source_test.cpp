// NDJSON input cut into batches deterministically, remembering input lines.
#include "client/batch_source.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace duckmesh::client {
namespace {

std::vector<Batch> all_batches(const std::string& text, BatchLimits limits) {
  std::istringstream in(text);
  NdjsonBatchSource source(in, limits);
  std::vector<Batch> out;
  Batch batch;
  while (source.next(batch)) out.push_back(batch);
  return out;
}

TEST(NdjsonBatchSource, SkipsBlankLinesAndKeepsLineNumbers) {
  auto batches = all_batches("{\"a\":1}\n\n   \n{\"a\":2}\r\n{\"a\":3}", BatchLimits{10, 1 << 20});
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].body, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  EXPECT_EQ(batches[0].lines, (std::vector<std::size_t>{1, 4, 5}));
  EXPECT_EQ(batches[0].line_of(1), 4u);
  EXPECT_EQ(batches[0].line_of(9), 0u);
}

TEST(NdjsonBatchSource, EndsABatchAtMaxEvents) {
  std::string text;
  for (int i = 1; i <= 5; ++i) text += "{\"i\":" + std::to_string(i) + "}\n";
  auto batches = all_batches(text, BatchLimits{2, 1 << 20});
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].first_line(), 1u);
  EXPECT_EQ(batches[1].first_line(), 3u);
  EXPECT_EQ(batches[2].first_line(), 5u);
  EXPECT_EQ(batches[2].size(), 1u);
  EXPECT_EQ(batches[2].bytes_read, text.size());
}

TEST(NdjsonBatchSource, EndsABatchBeforeItPassesMaxBytes) {
  // Each event is 9 bytes with its line break; 20 bytes hold two.
  auto batches = all_batches("{\"i\":11}\n{\"i\":22}\n{\"i\":33}\n", BatchLimits{100, 20});
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].lines, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(batches[1].lines, (std::vector<std::size_t>{3}));
  EXPECT_EQ(batches[1].body, "{\"i\":33}\n");
}

TEST(NdjsonBatchSource, AnEventLargerThanMaxBytesGetsABatchOfItsOwn) {
  auto batches = all_batches("{\"big\":\"xxxxxxxxxxxxxxxx\"}\n{\"i\":1}\n", BatchLimits{100, 10});
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].lines, (std::vector<std::size_t>{1}));
  EXPECT_EQ(batches[1].lines, (std::vector<std::size_t>{2}));
}

TEST(NdjsonBatchSource, SameInputSameBatches) {
  std::string text;
  for (int i = 0; i < 100; ++i)
    text += (i % 7 == 0 ? "\n" : "") + std::string("{\"i\":") + std::to_string(i) + "}\n";
  auto a = all_batches(text, BatchLimits{9, 1 << 20});
  auto b = all_batches(text, BatchLimits{9, 1 << 20});
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].body, b[i].body);
    EXPECT_EQ(a[i].lines, b[i].lines);
  }
}

TEST(NdjsonBatchSource, EmptyInputHasNoBatches) {
  EXPECT_TRUE(all_batches("", BatchLimits{}).empty());
  EXPECT_TRUE(all_batches("\n\n", BatchLimits{}).empty());
}

}  // namespace
}  // namespace duckmesh::client
