// CSV cells typed by the table schema, and CSV input cut into NDJSON batches.
#include "client/csv_events.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "client/batch_source.hpp"
#include "common/error.hpp"

namespace duckmesh::client {
namespace {

std::string cell(CellEncoding encoding, const std::string& text, bool quoted = false) {
  std::string out;
  if (!append_cell(encoding, CsvField{text, quoted}, out)) return "<absent>";
  return out;
}

boost::json::array schema() {
  return boost::json::parse(R"J([
    {"name":"id","type":"bigint"},{"name":"n","type":"integer"},{"name":"score","type":"double"},
    {"name":"amount","type":"decimal(12,2)"},{"name":"flag","type":"boolean"},
    {"name":"note","type":"varchar"},{"name":"code","type":"char(3)"},{"name":"day","type":"date"},
    {"name":"at","type":"timestamptz"},{"name":"attrs","type":"json"},{"name":"tags","type":"varchar[]"}
  ])J")
      .as_array();
}

TEST(CellEncoding, FollowsTheApiTypeNames) {
  EXPECT_EQ(cell_encoding("bigint"), CellEncoding::number);
  EXPECT_EQ(cell_encoding("integer"), CellEncoding::number);
  EXPECT_EQ(cell_encoding("double"), CellEncoding::number);
  EXPECT_EQ(cell_encoding("BOOLEAN"), CellEncoding::boolean);
  EXPECT_EQ(cell_encoding("decimal(20,4)"), CellEncoding::literal);
  EXPECT_EQ(cell_encoding("date"), CellEncoding::literal);
  EXPECT_EQ(cell_encoding("timestamp"), CellEncoding::literal);
  EXPECT_EQ(cell_encoding("timestamptz"), CellEncoding::literal);
  EXPECT_EQ(cell_encoding("uuid"), CellEncoding::literal);
  EXPECT_EQ(cell_encoding("json"), CellEncoding::json);
  EXPECT_EQ(cell_encoding("integer[]"), CellEncoding::list);
  EXPECT_EQ(cell_encoding("varchar"), CellEncoding::text);
  EXPECT_EQ(cell_encoding("varchar(40)"), CellEncoding::text);
  EXPECT_EQ(cell_encoding("char(3)"), CellEncoding::text);
  EXPECT_EQ(cell_encoding("something-new"), CellEncoding::text);
}

TEST(AppendCell, NumbersBecomeJsonNumbersWithTheirDigitsKept) {
  EXPECT_EQ(cell(CellEncoding::number, "42"), "42");
  EXPECT_EQ(cell(CellEncoding::number, "-42"), "-42");
  EXPECT_EQ(cell(CellEncoding::number, "+7"), "7");
  EXPECT_EQ(cell(CellEncoding::number, "007"), "7");
  EXPECT_EQ(cell(CellEncoding::number, "0"), "0");
  EXPECT_EQ(cell(CellEncoding::number, " 12 "), "12");
  EXPECT_EQ(cell(CellEncoding::number, ".5"), "0.5");
  EXPECT_EQ(cell(CellEncoding::number, "5."), "5");
  EXPECT_EQ(cell(CellEncoding::number, "-0.50"), "-0.50");
  EXPECT_EQ(cell(CellEncoding::number, "1e3"), "1e3");
  EXPECT_EQ(cell(CellEncoding::number, "1.5E+10"), "1.5e+10");
  // Beyond double precision: passed on exactly, for the server to judge.
  EXPECT_EQ(cell(CellEncoding::number, "9223372036854775807"), "9223372036854775807");
}

TEST(AppendCell, NonNumbersInNumberColumnsGoAsStringsForTheServerToReject) {
  EXPECT_EQ(cell(CellEncoding::number, "abc"), "\"abc\"");
  EXPECT_EQ(cell(CellEncoding::number, "1,5"), "\"1,5\"");
  EXPECT_EQ(cell(CellEncoding::number, "NaN"), "\"NaN\"");
  EXPECT_EQ(cell(CellEncoding::number, "1e"), "\"1e\"");
  EXPECT_EQ(cell(CellEncoding::number, "."), "\".\"");
  EXPECT_EQ(cell(CellEncoding::number, "-"), "\"-\"");
}

TEST(AppendCell, Booleans) {
  for (const char* t : {"true", "TRUE", "t", "1", "yes", "Y"})
    EXPECT_EQ(cell(CellEncoding::boolean, t), "true") << t;
  for (const char* f : {"false", "F", "0", "no", "n"})
    EXPECT_EQ(cell(CellEncoding::boolean, f), "false") << f;
  EXPECT_EQ(cell(CellEncoding::boolean, "maybe"), "\"maybe\"");
}

TEST(AppendCell, LiteralsAreTrimmedStrings) {
  EXPECT_EQ(cell(CellEncoding::literal, " 12.50 "), "\"12.50\"");
  EXPECT_EQ(cell(CellEncoding::literal, "2024-02-29"), "\"2024-02-29\"");
}

TEST(AppendCell, TextIsKeptAsWrittenAndEscaped) {
  EXPECT_EQ(cell(CellEncoding::text, " padded "), "\" padded \"");
  EXPECT_EQ(cell(CellEncoding::text, "say \"hi\"\\\n\t\x01"),
            "\"say \\\"hi\\\"\\\\\\n\\t\\u0001\"");
  EXPECT_EQ(cell(CellEncoding::text, "héllo"), "\"héllo\"");
}

TEST(AppendCell, EmptyCellsAreAbsentExceptQuotedEmptyText) {
  EXPECT_EQ(cell(CellEncoding::text, ""), "<absent>");
  EXPECT_EQ(cell(CellEncoding::text, "", true), "\"\"");
  EXPECT_EQ(cell(CellEncoding::number, "", true), "<absent>");
  EXPECT_EQ(cell(CellEncoding::number, "   "), "<absent>");
  EXPECT_EQ(cell(CellEncoding::boolean, ""), "<absent>");
}

TEST(AppendCell, JsonCellsAreEmbeddedOnOneLine) {
  EXPECT_EQ(cell(CellEncoding::json, "{\n  \"a\": [1, 2],\n  \"b\": \"x y\"\n}"),
            "{\"a\":[1,2],\"b\":\"x y\"}");
  EXPECT_EQ(cell(CellEncoding::json, "12.50"), "12.50");
  EXPECT_EQ(cell(CellEncoding::json, "plain words"), "\"plain words\"");
  EXPECT_EQ(cell(CellEncoding::list, "[\"a\", \"b\"]"), "[\"a\",\"b\"]");
  EXPECT_EQ(cell(CellEncoding::list, "{\"a\":1}"), "\"{\\\"a\\\":1}\"");
}

TEST(CsvEventEncoder, TypesEachColumnFromTheSchema) {
  std::vector<CsvField> header;
  for (const char* n : {"id", "n", "score", "amount", "flag", "note", "code", "day", "at", "attrs",
                        "tags", "extra"}) {
    header.push_back({n, false});
  }
  CsvEventEncoder encoder(header, schema());
  std::vector<CsvField> record = {
      {"1", false},        {"-2", false},         {"2.5", false},
      {"10.25", false},    {"true", false},       {"a,b", true},
      {"USD", false},      {"2024-01-31", false}, {"2024-01-31T10:00:00Z", false},
      {"{\"k\":1}", true}, {"[\"x\"]", true},     {"5", false}};
  std::string out;
  encoder.encode(record, 2, out);
  auto event = boost::json::parse(out).as_object();
  EXPECT_EQ(event.at("id").as_int64(), 1);
  EXPECT_EQ(event.at("n").as_int64(), -2);
  EXPECT_DOUBLE_EQ(event.at("score").as_double(), 2.5);
  EXPECT_EQ(event.at("amount").as_string(), "10.25");
  EXPECT_EQ(event.at("flag").as_bool(), true);
  EXPECT_EQ(event.at("note").as_string(), "a,b");
  EXPECT_EQ(event.at("code").as_string(), "USD");
  EXPECT_EQ(event.at("day").as_string(), "2024-01-31");
  EXPECT_EQ(event.at("at").as_string(), "2024-01-31T10:00:00Z");
  EXPECT_EQ(event.at("attrs").at("k").as_int64(), 1);
  EXPECT_EQ(event.at("tags").at(0).as_string(), "x");
  // Not a column of the table: a string, for the server's unknown-field policy.
  EXPECT_EQ(event.at("extra").as_string(), "5");
}

TEST(CsvEventEncoder, LeavesEmptyCellsOut) {
  CsvEventEncoder encoder({{"id", false}, {"note", false}, {"score", false}}, schema());
  std::string out;
  encoder.encode({{"", false}, {"x", false}, {"", false}}, 2, out);
  EXPECT_EQ(out, "{\"note\":\"x\"}");
  out.clear();
  encoder.encode({{"", false}, {"", false}, {"", false}}, 3, out);
  EXPECT_EQ(out, "{}");
}

TEST(CsvEventEncoder, RefusesBadHeadersAndRaggedRecords) {
  EXPECT_THROW(CsvEventEncoder({{"id", false}, {"id", false}}, schema()), Error);
  EXPECT_THROW(CsvEventEncoder({{"id", false}, {" ", false}}, schema()), Error);
  CsvEventEncoder encoder({{"id", false}, {"note", false}}, schema());
  std::string out;
  try {
    encoder.encode({{"1", false}}, 17, out);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 17"), std::string::npos) << e.what();
  }
}

TEST(CsvEventEncoder, TrimsHeaderNames) {
  CsvEventEncoder encoder({{" id", false}, {"note ", false}}, schema());
  std::string out;
  encoder.encode({{"7", false}, {"x", false}}, 2, out);
  EXPECT_EQ(out, "{\"id\":7,\"note\":\"x\"}");
}

TEST(CsvBatchSource, BatchesRecordsWithTheirInputLines) {
  std::istringstream in("id,note\r\n1,\"two\r\nlines\"\r\n\r\n2,b\r\n3,c\r\n");
  CsvBatchSource source(in, BatchLimits{2, 1 << 20}, schema());
  Batch batch;
  ASSERT_TRUE(source.next(batch));
  EXPECT_EQ(batch.body, "{\"id\":1,\"note\":\"two\\r\\nlines\"}\n{\"id\":2,\"note\":\"b\"}\n");
  EXPECT_EQ(batch.lines, (std::vector<std::size_t>{2, 5}));
  EXPECT_EQ(batch.first_line(), 2u);
  ASSERT_TRUE(source.next(batch));
  EXPECT_EQ(batch.body, "{\"id\":3,\"note\":\"c\"}\n");
  EXPECT_EQ(batch.lines, (std::vector<std::size_t>{6}));
  EXPECT_FALSE(source.next(batch));
}

TEST(CsvBatchSource, EmptyInputHasNoHeader) {
  std::istringstream in("");
  EXPECT_THROW(CsvBatchSource(in, BatchLimits{}, schema()), Error);
}

}  // namespace
}  // namespace duckmesh::client
