// CsvReader: RFC 4180 records, streamed.
#include "client/csv_reader.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "common/error.hpp"

namespace duckmesh::client {
namespace {

std::vector<std::vector<std::string>> read_all(const std::string& text,
                                               std::vector<std::size_t>* lines = nullptr) {
  std::istringstream in(text);
  CsvReader reader(in);
  std::vector<std::vector<std::string>> out;
  std::vector<CsvField> fields;
  while (reader.next(fields)) {
    std::vector<std::string> row;
    for (auto& f : fields) row.push_back(f.text);
    out.push_back(row);
    if (lines) lines->push_back(reader.record_line());
  }
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(CsvReader, SplitsFieldsAndRecords) {
  EXPECT_EQ(read_all("a,b,c\n1,2,3\n"), (Rows{{"a", "b", "c"}, {"1", "2", "3"}}));
  EXPECT_EQ(read_all("a,,c\n,,\n"), (Rows{{"a", "", "c"}, {"", "", ""}}));
}

TEST(CsvReader, LastRecordNeedsNoLineBreak) {
  EXPECT_EQ(read_all("a,b\n1,2"), (Rows{{"a", "b"}, {"1", "2"}}));
}

TEST(CsvReader, CrlfEndsRecordsAndIsNotData) {
  EXPECT_EQ(read_all("a,b\r\n1,2\r\n"), (Rows{{"a", "b"}, {"1", "2"}}));
}

TEST(CsvReader, QuotedFieldsHoldSeparatorsQuotesAndLineBreaks) {
  EXPECT_EQ(read_all("\"a,b\",\"say \"\"hi\"\"\"\n"), (Rows{{"a,b", "say \"hi\""}}));
  EXPECT_EQ(read_all("\"line1\nline2\",x\n"), (Rows{{"line1\nline2", "x"}}));
  // Inside quotes a CRLF is data, kept exactly as written.
  EXPECT_EQ(read_all("\"line1\r\nline2\",x\r\n"), (Rows{{"line1\r\nline2", "x"}}));
}

TEST(CsvReader, QuotedEmptyFieldIsMarkedQuoted) {
  std::istringstream in("\"\",\n");
  CsvReader reader(in);
  std::vector<CsvField> fields;
  ASSERT_TRUE(reader.next(fields));
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_TRUE(fields[0].quoted);
  EXPECT_EQ(fields[0].text, "");
  EXPECT_FALSE(fields[1].quoted);
}

TEST(CsvReader, RecordLinesCountEmbeddedLineBreaksAndSkippedBlankLines) {
  std::vector<std::size_t> lines;
  auto rows = read_all("h1,h2\n\"a\nb\",1\n\n\r\nc,2\n", &lines);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 6}));
}

TEST(CsvReader, ByteOrderMarkIsDropped) {
  EXPECT_EQ(read_all("\xEF\xBB\xBFid,name\n1,x\n"), (Rows{{"id", "name"}, {"1", "x"}}));
}

TEST(CsvReader, UnclosedQuoteNamesTheLineWhereItOpened) {
  try {
    read_all("a,b\n1,2\n3,\"never\nclosed\n");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
}

TEST(CsvReader, TextAfterClosingQuoteIsAnError) {
  try {
    read_all("a\n\"x\"y\n");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(CsvReader, QuoteInsideAnUnquotedFieldIsData) {
  EXPECT_EQ(read_all("5\"7,x\n"), (Rows{{"5\"7", "x"}}));
}

TEST(CsvReader, CountsBytesRead) {
  std::istringstream in("a,b\n1,2\n");
  CsvReader reader(in);
  std::vector<CsvField> fields;
  while (reader.next(fields)) {
  }
  EXPECT_EQ(reader.bytes_read(), 8u);
}

TEST(CsvReader, EmptyInputHasNoRecords) {
  EXPECT_TRUE(read_all("").empty());
  EXPECT_TRUE(read_all("\n\r\n\n").empty());
}

}  // namespace
}  // namespace duckmesh::client
