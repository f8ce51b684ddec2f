#include <gtest/gtest.h>

#include <regex>
#include <unordered_set>

#include "common/error.hpp"
#include "storage/object_store.hpp"

namespace duckmesh::storage {
namespace {

bool refused(std::string_view key) {
  try {
    check_key(key);
    return false;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_input) << key;
    return true;
  }
}

TEST(CheckKey, AcceptsRelativeKeys) {
  for (const char* key : {"a", "prod/table/data/2024-01-01/x.parquet", "a.b/c-d_e", ".hidden/x",
                          "x.tmp", "a/.tmp/b"}) {
    EXPECT_FALSE(refused(key)) << key;
  }
}

TEST(CheckKey, RefusesUnsafeKeys) {
  const std::string nul("a\0b", 3);
  for (const std::string& key :
       {std::string(""), std::string("/etc/passwd"), std::string(".."), std::string("../x"),
        std::string("a/../../x"), std::string("a/.."), std::string("a..b"), std::string("a\\b"),
        std::string("\\abs"), std::string("a//b"), std::string("a/"), std::string("./a"),
        std::string("a/./b"), std::string(".tmp"), std::string(".tmp/x"), nul, std::string("a\nb"),
        std::string(1025, 'k'), "a/" + std::string(256, 's')}) {
    EXPECT_TRUE(refused(key)) << key;
  }
}

TEST(UniqueKey, HasTheDocumentedShape) {
  const std::string key = unique_key("prod/table", ".parquet");
  EXPECT_TRUE(std::regex_match(key, std::regex(R"(prod/table/[0-9]{13}-[0-9a-f]{32}\.parquet)")))
      << key;
  EXPECT_TRUE(std::regex_match(unique_key("p/", ""), std::regex(R"(p/[0-9]{13}-[0-9a-f]{32})")));
  EXPECT_TRUE(std::regex_match(unique_key("", ".x"), std::regex(R"([0-9]{13}-[0-9a-f]{32}\.x)")));
  EXPECT_NO_THROW(check_key(key));
}

TEST(UniqueKey, RefusesAnUnsafePrefix) {
  EXPECT_THROW(unique_key("../escape", ".parquet"), Error);
  EXPECT_THROW(unique_key("/abs", ""), Error);
}

TEST(UniqueKey, IsUniqueOverManyCallsInTheSameMillisecond) {
  std::unordered_set<std::string> keys;
  std::unordered_set<std::string> random_parts;
  for (int i = 0; i < 10'000; ++i) {
    const std::string key = unique_key("t", ".parquet");
    EXPECT_TRUE(keys.insert(key).second) << key;
    // Uniqueness must come from the random part, not from the clock.
    const auto dash = key.find('-');
    EXPECT_TRUE(random_parts.insert(key.substr(dash + 1)).second) << key;
  }
  EXPECT_EQ(keys.size(), 10'000u);
}

}  // namespace
}  // namespace duckmesh::storage
