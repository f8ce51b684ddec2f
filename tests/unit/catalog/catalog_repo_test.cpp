#include "catalog/catalog_repo.hpp"

#include <gtest/gtest.h>

#include "catalog/json_fields.hpp"
#include "catalog/names.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog {
namespace {

TEST(CatalogEnums, RoundTripThroughTheirNames) {
  for (auto kind : {TableKind::append, TableKind::keyed}) {
    EXPECT_EQ(table_kind_from_string(to_string(kind)), kind);
  }
  for (auto op : {Operation::ingest, Operation::compact, Operation::schema, Operation::drop}) {
    EXPECT_EQ(operation_from_string(to_string(op)), op);
  }
  EXPECT_EQ(to_string(TableKind::keyed), "keyed");
  EXPECT_EQ(to_string(Operation::compact), "compact");
}

TEST(CatalogEnums, UnknownNamesAreInvalidInput) {
  try {
    table_kind_from_string("upsert");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
    EXPECT_EQ(e.details().at("field").as_string(), "kind");
  }
  try {
    operation_from_string("INGEST");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  }
}

TEST(CatalogNames, ProductNames) {
  EXPECT_TRUE(is_valid_product_name("sales"));
  EXPECT_TRUE(is_valid_product_name("project-financing_2"));
  EXPECT_TRUE(is_valid_product_name("9lives"));
  EXPECT_TRUE(is_valid_product_name(std::string(63, 'a')));
  EXPECT_FALSE(is_valid_product_name(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_product_name(""));
  EXPECT_FALSE(is_valid_product_name("Sales"));
  EXPECT_FALSE(is_valid_product_name("-sales"));
  EXPECT_FALSE(is_valid_product_name("sales/eu"));
  EXPECT_FALSE(is_valid_product_name("../etc"));
  EXPECT_THROW(require_valid_product_name("a b"), Error);
}

TEST(CatalogNames, TableNames) {
  EXPECT_TRUE(is_valid_table_name("orders"));
  EXPECT_TRUE(is_valid_table_name("_Orders2"));
  EXPECT_FALSE(is_valid_table_name("2orders"));
  EXPECT_FALSE(is_valid_table_name("order-lines"));
  EXPECT_FALSE(is_valid_table_name("orders; DROP"));
  EXPECT_FALSE(is_valid_table_name(std::string(129, 'x')));
  try {
    require_valid_table_name("a\"b");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input);
  }
}

TEST(CatalogJsonFields, StringListRoundTrips) {
  const std::vector<std::string> keys{"id", "with \"quote\"", ""};
  EXPECT_EQ(decode_string_list(encode_string_list(keys)), keys);
  EXPECT_EQ(encode_string_list({}), "[]");
  EXPECT_TRUE(decode_string_list("[]").empty());
}

TEST(CatalogJsonFields, ColumnStatsRoundTripIncludingAbsentBounds) {
  std::vector<ColumnStats> stats(2);
  stats[0].column = "amount";
  stats[0].min = "1.5";
  stats[0].max = "99";
  stats[0].null_count = 3;
  stats[1].column = "note";
  stats[1].null_count = 7;  // all NULL: no bounds
  const auto decoded = decode_column_stats(encode_column_stats(stats));
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].column, "amount");
  EXPECT_EQ(decoded[0].min, "1.5");
  EXPECT_EQ(decoded[0].max, "99");
  EXPECT_EQ(decoded[0].null_count, 3);
  EXPECT_EQ(decoded[1].column, "note");
  EXPECT_FALSE(decoded[1].min.has_value());
  EXPECT_FALSE(decoded[1].max.has_value());
  EXPECT_EQ(decoded[1].null_count, 7);
}

TEST(CatalogJsonFields, MalformedStoredTextIsInternal) {
  for (const char* text : {"", "{", "{}", "[1]", R"([{"column":1,"null_count":0}])",
                           R"([{"column":"a"}])", R"([{"column":"a","null_count":0,"min":5}])"}) {
    try {
      decode_column_stats(text);
      FAIL() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::internal) << text;
    }
  }
  EXPECT_THROW(decode_string_list(R"(["a", 1])"), Error);
}

}  // namespace
}  // namespace duckmesh::catalog
