#include "ontology/compatibility.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/error.hpp"

namespace duckmesh::ontology {
namespace {

schema::TableSchema columns(const char* json) {
  return schema::TableSchema::from_json(boost::json::parse(json));
}

const char* kBase = R"J([
  {"name": "id", "type": "uuid", "nullable": false},
  {"name": "amount", "type": "decimal(20,2)"},
  {"name": "years", "type": "integer"},
  {"name": "code", "type": "varchar(10)"},
  {"name": "status", "type": "varchar", "enum": ["A", "B"]}
])J";

const SchemaChange* change_of(const CompatibilityReport& r, const std::string& column) {
  for (const auto& c : r.changes)
    if (c.column == column) return &c;
  return nullptr;
}

TEST(Compatibility, IdenticalSchemasAreUnchanged) {
  auto r = check_compatibility(columns(kBase), columns(kBase), Compatibility::full);
  EXPECT_TRUE(r.unchanged());
  EXPECT_TRUE(r.compatible());
}

TEST(Compatibility, AddingAnOptionalColumnIsAllowedEverywhere) {
  auto next = columns(R"J([
    {"name": "id", "type": "uuid", "nullable": false},
    {"name": "amount", "type": "decimal(20,2)"},
    {"name": "years", "type": "integer"},
    {"name": "code", "type": "varchar(10)"},
    {"name": "status", "type": "varchar", "enum": ["A", "B"]},
    {"name": "note", "type": "text"}
  ])J");
  for (auto mode : {Compatibility::backward, Compatibility::forward, Compatibility::full}) {
    auto r = check_compatibility(columns(kBase), next, mode);
    ASSERT_EQ(r.changes.size(), 1u);
    EXPECT_EQ(r.changes[0].change, "added");
    EXPECT_TRUE(r.compatible()) << to_string(mode);
  }
}

TEST(Compatibility, DroppingAndAddingRequiredAreRefusedWithReasons) {
  auto next = columns(R"J([
    {"name": "id", "type": "uuid", "nullable": false},
    {"name": "amount", "type": "decimal(20,2)"},
    {"name": "years", "type": "integer"},
    {"name": "status", "type": "varchar", "enum": ["A", "B"]},
    {"name": "owner", "type": "varchar", "nullable": false}
  ])J");
  auto r = check_compatibility(columns(kBase), next, Compatibility::backward);
  EXPECT_FALSE(r.compatible());
  ASSERT_TRUE(change_of(r, "code"));
  EXPECT_EQ(change_of(r, "code")->change, "dropped");
  EXPECT_FALSE(change_of(r, "code")->allowed);
  EXPECT_NE(change_of(r, "code")->reason.find("force"), std::string::npos);
  ASSERT_TRUE(change_of(r, "owner"));
  EXPECT_FALSE(change_of(r, "owner")->allowed);
  auto json = r.to_json();
  EXPECT_EQ(json.at("compatible"), false);
  EXPECT_EQ(json.at("mode"), "backward");
  EXPECT_TRUE(check_compatibility(columns(kBase), next, Compatibility::none).compatible());
}

TEST(Compatibility, WideningIsBackwardNarrowingIsNot) {
  auto wider = columns(R"J([
    {"name": "id", "type": "uuid", "nullable": false},
    {"name": "amount", "type": "decimal(22,2)"},
    {"name": "years", "type": "bigint"},
    {"name": "code", "type": "varchar"},
    {"name": "status", "type": "varchar", "enum": ["A", "B", "C"]}
  ])J");
  auto r = check_compatibility(columns(kBase), wider, Compatibility::backward);
  EXPECT_EQ(r.changes.size(), 4u);
  EXPECT_TRUE(r.compatible());
  EXPECT_FALSE(check_compatibility(columns(kBase), wider, Compatibility::forward).compatible());
  EXPECT_FALSE(check_compatibility(columns(kBase), wider, Compatibility::full).compatible());

  auto back = check_compatibility(wider, columns(kBase), Compatibility::backward);
  EXPECT_FALSE(back.compatible());
  EXPECT_EQ(change_of(back, "years")->change, "type_changed");
  EXPECT_EQ(change_of(back, "years")->from, "bigint");
  EXPECT_EQ(change_of(back, "years")->to, "integer");
  EXPECT_FALSE(change_of(back, "years")->allowed);
  EXPECT_FALSE(change_of(back, "status")->allowed) << "an enum value removed";
  EXPECT_TRUE(check_compatibility(wider, columns(kBase), Compatibility::forward).compatible());
}

TEST(Compatibility, IncompatibleTypeIsRefusedInEveryCheckedMode) {
  auto next = columns(R"J([
    {"name": "id", "type": "uuid", "nullable": false},
    {"name": "amount", "type": "decimal(20,2)"},
    {"name": "years", "type": "varchar"},
    {"name": "code", "type": "varchar(10)"},
    {"name": "status", "type": "varchar", "enum": ["A", "B"]}
  ])J");
  for (auto mode : {Compatibility::backward, Compatibility::forward, Compatibility::full}) {
    EXPECT_FALSE(check_compatibility(columns(kBase), next, mode).compatible());
  }
}

TEST(Compatibility, NullabilityDirections) {
  auto optional_id = columns(R"J([
    {"name": "id", "type": "uuid"},
    {"name": "amount", "type": "decimal(20,2)"},
    {"name": "years", "type": "integer"},
    {"name": "code", "type": "varchar(10)"},
    {"name": "status", "type": "varchar", "enum": ["A", "B"]}
  ])J");
  EXPECT_TRUE(
      check_compatibility(columns(kBase), optional_id, Compatibility::backward).compatible());
  EXPECT_FALSE(
      check_compatibility(columns(kBase), optional_id, Compatibility::forward).compatible());
  EXPECT_FALSE(
      check_compatibility(optional_id, columns(kBase), Compatibility::backward).compatible());
}

TEST(Compatibility, ModeNames) {
  EXPECT_EQ(compatibility_from_string("full"), Compatibility::full);
  EXPECT_THROW(compatibility_from_string("sideways"), Error);
}

}  // namespace
}  // namespace duckmesh::ontology
