#include "ontology/ontology_schema.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/error.hpp"
#include "ontology/bundled_source.hpp"
#include "product/product_service.hpp"

namespace duckmesh::ontology {
namespace {

ErrorCode code_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no error";
  return ErrorCode::internal;
}

TEST(OntologySchema, ParsesTheSeedShapeAndMapsTypes) {
  auto s = OntologySchema::parse_text(R"J({
    "name": "projects", "description": "d", "version": "1.0.0",
    "columns": [
      {"name": "project_id", "type": "UUID", "description": "id", "required": true},
      {"name": "project_name", "type": "VARCHAR", "required": true},
      {"name": "description", "type": "TEXT", "required": false},
      {"name": "total_amount", "type": "DECIMAL(20,2)", "required": true},
      {"name": "maturity_years", "type": "INTEGER"},
      {"name": "creation_date", "type": "DATE"},
      {"name": "last_updated", "type": "TIMESTAMP"},
      {"name": "currency_code", "type": "CHAR(3)"}
    ]})J");
  EXPECT_EQ(s.name, "projects");
  EXPECT_EQ(s.version, "1.0.0");
  EXPECT_EQ(s.kind, "append");
  ASSERT_EQ(s.columns.size(), 8u);
  EXPECT_EQ(s.find("project_id")->type.kind, schema::TypeKind::uuid);
  EXPECT_TRUE(s.find("project_id")->required);
  EXPECT_EQ(s.find("description")->type.kind, schema::TypeKind::varchar);
  EXPECT_EQ(s.find("total_amount")->type.name(), "decimal(20,2)");
  EXPECT_EQ(s.find("total_amount")->type_literal, "DECIMAL(20,2)");
  EXPECT_EQ(s.find("currency_code")->type.name(), "char(3)");
  EXPECT_EQ(s.find("maturity_years")->type.kind, schema::TypeKind::integer);
}

TEST(OntologySchema, KeepsUnknownFieldsAndReadsExtensions) {
  auto s = OntologySchema::parse_text(R"J({
    "name": "t", "version": 3, "x_team": {"slack": "#t"}, "primary_key": "id",
    "columns": [
      {"name": "id", "type": "UUID", "required": true, "x_source": "crm"},
      {"name": "status", "type": "VARCHAR", "enum": ["A", "B"], "tags": ["core"]},
      {"name": "other_id", "type": "UUID", "references": "others.id", "pii": true}
    ]})J");
  EXPECT_EQ(s.version, "3");
  EXPECT_EQ(s.kind, "keyed");
  EXPECT_EQ(s.primary_key, std::vector<std::string>{"id"});
  EXPECT_EQ(s.find("status")->enum_values, (std::vector<std::string>{"A", "B"}));
  ASSERT_TRUE(s.find("other_id")->references);
  EXPECT_EQ(s.find("other_id")->references->table, "others");
  EXPECT_EQ(s.find("other_id")->references->column, "id");
  auto json = s.to_json();
  EXPECT_EQ(json.at("x_team").at("slack").as_string(), "#t");
  EXPECT_EQ(json.at("columns").as_array()[0].at("x_source").as_string(), "crm");
  // Round trip through the published form.
  auto again = OntologySchema::parse(json);
  EXPECT_EQ(again.to_json(), json);
}

TEST(OntologySchema, RefusesBadTypesNamingTheColumn) {
  std::string message;
  auto code = code_of(
      [] {
        OntologySchema::parse_text(
            R"J({"name": "t", "columns": [{"name": "amount", "type": "DECIMAL(50,2)"}]})J");
      },
      &message);
  EXPECT_EQ(code, ErrorCode::invalid_input);
  EXPECT_NE(message.find("column 'amount'"), std::string::npos) << message;
  EXPECT_NE(message.find("DECIMAL(50,2)"), std::string::npos) << message;

  code = code_of(
      [] {
        OntologySchema::parse_text(
            R"J({"name": "t", "columns": [{"name": "x", "type": "VARCHAR); DROP TABLE t; --"}]})J");
      },
      &message);
  EXPECT_EQ(code, ErrorCode::invalid_input);
  EXPECT_EQ(code_of([] { OntologySchema::parse_text(R"J({"name": "t", "columns": []})J"); }),
            ErrorCode::invalid_input);
  EXPECT_EQ(
      code_of([] {
        OntologySchema::parse_text(
            R"J({"name": "t", "primary_key": ["nope"], "columns": [{"name": "a", "type": "INTEGER"}]})J");
      }),
      ErrorCode::invalid_input);
  EXPECT_EQ(code_of([] {
              OntologySchema::parse_text(
                  R"J({"name": "Bad Name", "columns": [{"name": "a", "type": "INTEGER"}]})J");
            }),
            ErrorCode::invalid_input);
}

TEST(OntologySchema, BundledSampleBecomesValidTableDefinitions) {
  BundledSchemaSource bundled(std::filesystem::path(DUCKMESH_SOURCE_DIR) / "examples/ontology");
  auto ids = bundled.list_schemas();
  EXPECT_EQ(ids, (std::vector<std::string>{"disbursements", "portfolio_projects", "portfolios",
                                           "projects"}));
  for (const auto& id : ids) {
    auto def = product::parse_table_definition(bundled.fetch_schema(id).table_definition());
    EXPECT_EQ(def.name, id);
  }
  auto projects = bundled.fetch_schema("projects");
  EXPECT_EQ(projects.kind, "keyed");
  EXPECT_EQ(projects.find("status")->enum_values,
            (std::vector<std::string>{"PROPOSED", "ACTIVE", "COMPLETED"}));
  EXPECT_EQ(projects.find("currency_code")->default_value->as_string(), "USD");
  auto disbursements =
      product::parse_table_definition(bundled.fetch_schema("disbursements").table_definition());
  EXPECT_EQ(disbursements.partition.column, "disbursed_at");
  EXPECT_EQ(disbursements.partition.transform, "month");
  EXPECT_EQ(code_of([&] { bundled.fetch_schema("nope"); }), ErrorCode::not_found);
}

}  // namespace
}  // namespace duckmesh::ontology
