// Query results as aligned text tables.
#include "client/text_table.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/server_error.hpp"

namespace duckmesh::client {
namespace {

boost::json::object result(const std::string& text) {
  return boost::json::parse(text).as_object();
}

TEST(TextTable, AlignsColumnsShowsNullAndNamesRowsAndSnapshot) {
  auto r = result(R"J({"columns":[{"name":"id","type":"BIGINT"},{"name":"name","type":"VARCHAR"},
      {"name":"amount","type":"DECIMAL(12,2)"}],
      "rows":[[1,"alpha","10.50"],[22,null,"2.00"]],"row_count":2,"truncated":false,"snapshot_id":7})J");
  EXPECT_EQ(render_result(r),
            " id | name  | amount\n"
            "----+-------+--------\n"
            "  1 | alpha |  10.50\n"
            " 22 | NULL  |   2.00\n"
            "(2 rows, snapshot 7)\n");
}

TEST(TextTable, OneRowIsSingularAndTruncationIsNoted) {
  auto r = result(R"J({"columns":[{"name":"n","type":"INTEGER"}],"rows":[[5]],"row_count":1,
      "truncated":true,"snapshot_id":3})J");
  const std::string text = render_result(r);
  EXPECT_NE(text.find("(1 row, snapshot 3)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("truncated at 1 row "), std::string::npos) << text;
}

TEST(TextTable, EmptyResultStillShowsTheHeader) {
  auto r = result(
      R"J({"columns":[{"name":"a","type":"VARCHAR"}],"rows":[],"row_count":0,"truncated":false,"snapshot_id":1})J");
  EXPECT_EQ(render_result(r), " a\n---\n(0 rows, snapshot 1)\n");
}

TEST(TextTable, ValuesOfEveryJsonKind) {
  auto r = result(R"J({"columns":[{"name":"b","type":"BOOLEAN"},{"name":"d","type":"DOUBLE"},
      {"name":"l","type":"INTEGER[]"},{"name":"s","type":"STRUCT(a INTEGER)"}],
      "rows":[[true,0.1,[1,2],{"a":1}]]})J");
  auto table = result_table(r);
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(*table.rows[0][0], "true");
  EXPECT_EQ(*table.rows[0][1], "0.1");
  EXPECT_EQ(*table.rows[0][2], "[1,2]");
  EXPECT_EQ(*table.rows[0][3], "{\"a\":1}");
  EXPECT_EQ(table.right_aligned, (std::vector<bool>{false, true, false, false}));
}

TEST(TextTable, LineBreaksInValuesAreShownEscaped) {
  TextTable t;
  t.headers = {"v"};
  t.rows = {{std::string("a\nb\tc")}};
  EXPECT_EQ(t.render(), "    v\n---------\n a\\nb\\tc\n");
}

TEST(TextTable, WidthsCountCharactersNotBytes) {
  TextTable t;
  t.headers = {"name", "x"};
  t.rows = {{std::string("héllo"), std::string("1")}, {std::string("ab"), std::string("2")}};
  EXPECT_EQ(t.render(),
            " name  | x\n"
            "-------+---\n"
            " héllo | 1\n"
            " ab    | 2\n");
}

TEST(TextTable, NumericTypes) {
  for (const char* t :
       {"BIGINT", "integer", "DOUBLE", "DECIMAL(38,4)", "HUGEINT", "UBIGINT", "FLOAT"}) {
    EXPECT_TRUE(numeric_type(t)) << t;
  }
  for (const char* t :
       {"VARCHAR", "DATE", "TIMESTAMP WITH TIME ZONE", "INTEGER[]", "BOOLEAN", ""}) {
    EXPECT_FALSE(numeric_type(t)) << t;
  }
}

TEST(TextTable, ResultWithoutColumnsIsAProtocolError) {
  EXPECT_THROW(result_table(result(R"({"rows":[]})")), ProtocolError);
}

}  // namespace
}  // namespace duckmesh::client
