#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "common/error.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::schema {
namespace {

TEST(ColumnType, ParsesEverySupportedSpelling) {
  struct Case {
    const char* text;
    const char* sql;
    const char* name;
  };
  const Case cases[] = {
      {"BOOLEAN", "BOOLEAN", "boolean"},
      {"bool", "BOOLEAN", "boolean"},
      {"INTEGER", "INTEGER", "integer"},
      {"int", "INTEGER", "integer"},
      {"BIGINT", "BIGINT", "bigint"},
      {"double", "DOUBLE", "double"},
      {"DECIMAL(20,2)", "DECIMAL(20,2)", "decimal(20,2)"},
      {"numeric( 5 , 2 )", "DECIMAL(5,2)", "decimal(5,2)"},
      {"VARCHAR", "VARCHAR", "varchar"},
      {"TEXT", "VARCHAR", "varchar"},
      {"varchar(40)", "VARCHAR", "varchar(40)"},
      {"CHAR(3)", "VARCHAR", "char(3)"},
      {"DATE", "DATE", "date"},
      {"TIMESTAMP", "TIMESTAMP", "timestamp"},
      {"timestamptz", "TIMESTAMPTZ", "timestamptz"},
      {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "timestamptz"},
      {"UUID", "UUID", "uuid"},
      {"json", "JSON", "json"},
      {"INTEGER[]", "INTEGER[]", "integer[]"},
      {"decimal(10,3)[]", "DECIMAL(10,3)[]", "decimal(10,3)[]"},
  };
  for (const auto& c : cases) {
    auto t = ColumnType::parse(c.text);
    EXPECT_EQ(t.sql(), c.sql) << c.text;
    EXPECT_EQ(t.name(), c.name) << c.text;
    EXPECT_EQ(ColumnType::parse(t.name()), t) << c.text;  // canonical names round-trip
  }
  auto ch = ColumnType::parse("CHAR(3)");
  EXPECT_EQ(ch.max_length, 3);
  EXPECT_TRUE(ch.fixed_length);
}

TEST(ColumnType, RefusesAnythingElseSayingWhatIsAllowed) {
  for (auto bad : {"", "blob", "decimal(0,0)", "decimal(39,2)", "decimal(5,6)", "int(3)",
                   "varchar(0)", "integer[][]", "text(5)", "BIGINT); DROP TABLE x; --"}) {
    try {
      ColumnType::parse(bad);
      FAIL() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_input);
      EXPECT_NE(std::string(e.what()).find("allowed"), std::string::npos);
    }
  }
}

TEST(TableSchema, RoundTripsThroughJson) {
  auto schema = TableSchema::from_json(boost::json::parse(R"J([
    {"name": "id", "type": "UUID", "required": true, "description": "key"},
    {"name": "status", "type": "varchar", "enum": ["PROPOSED", "ACTIVE"]},
    {"name": "amount", "type": "DECIMAL(20,2)", "constraints": {"minimum": 0, "maximum": 1e12}},
    {"name": "email", "type": "varchar", "pii": true, "constraints": {"pattern": "^[^@]+@[^@]+$", "max_length": 200}},
    {"name": "currency", "type": "CHAR(3)", "default": "USD"}
  ])J"));
  ASSERT_EQ(schema.columns.size(), 5u);
  EXPECT_FALSE(schema.find("id")->nullable);
  EXPECT_TRUE(schema.find("status")->nullable);
  EXPECT_EQ(schema.find("status")->constraints.enum_values.size(), 2u);
  EXPECT_EQ(*schema.find("amount")->constraints.maximum, 1e12);
  EXPECT_TRUE(schema.find("email")->pii);
  EXPECT_EQ(schema.find("currency")->default_value->as_string(), "USD");
  auto again = TableSchema::from_json_text(schema.to_json_text());
  EXPECT_EQ(again.to_json_text(), schema.to_json_text());
}

TEST(TableSchema, RefusesBadColumnsNamingTheColumnAndField) {
  auto refuse = [](const char* json, const char* field) {
    try {
      TableSchema::from_json(boost::json::parse(json));
      ADD_FAILURE() << "accepted " << json;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_input);
      EXPECT_EQ(e.details().at("field").as_string(), field) << e.what();
    }
  };
  refuse(R"([])", "columns");
  refuse(R"([{"type": "int"}])", "name");
  refuse(R"([{"name": "a", "type": "int"}, {"name": "a", "type": "int"}])", "name");
  refuse(R"([{"name": "a"}])", "type");
  refuse(R"([{"name": "a", "type": "nope"}])", "type");
  refuse(R"([{"name": "a", "type": "int", "minimum": 5, "maximum": 1}])", "minimum");
  refuse(R"J([{"name": "a", "type": "varchar", "pattern": "("}])J", "pattern");
  refuse(R"([{"name": "a", "type": "varchar", "enum": []}])", "enum");
  refuse(R"([{"name": "a", "type": "varchar", "nullable": "yes"}])", "nullable");
}

TEST(Identifiers, OnlySafeNamesPass) {
  for (auto good : {"a", "orders", "order_items_2", "select"})
    EXPECT_NO_THROW(check_identifier("table name", good));
  for (auto bad : {"", "Orders", "1abc", "_dm_position", "a-b", "a b", "a\"b", "x;drop",
                   "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"}) {
    EXPECT_THROW(check_identifier("table name", bad), Error) << bad;
  }
  EXPECT_EQ(quote_identifier("order"), "\"order\"");
}

}  // namespace
}  // namespace duckmesh::schema
