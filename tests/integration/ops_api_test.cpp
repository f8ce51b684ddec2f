// /ops/{entity}: records of the default product, against the real binary
// with the bundled sample ontology.
#include <gtest/gtest.h>

#include <set>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

using boost::beast::http::verb;

class OpsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = std::make_unique<ServiceProcess>(
        dir_.path() / "data", std::vector<std::string>{"--use-mock-onto-server", "true"});
  }
  HttpClient client() { return HttpClient("127.0.0.1", service_->port()); }
  // A fresh connection per call: the server may close one after an error.
  HttpResponse call(verb method, const std::string& target, const std::string& body = {}) {
    return client().request(method, target, body);
  }
  boost::json::object create_project(const std::string& name, const std::string& status = "ACTIVE",
                                     const std::string& amount = "1000.00") {
    auto r = call(verb::post, "/ops/projects",
                  R"({"project_name":")" + name + R"(","total_amount":")" + amount +
                      R"(","status":")" + status + R"("})");
    EXPECT_EQ(r.status, 201u) << r.body;
    return r.json().as_object();
  }

  TempDir dir_;
  std::unique_ptr<ServiceProcess> service_;
};

TEST_F(OpsApiTest, CreateSetsServerFieldsAndIsReadableAtOnce) {
  auto p = create_project("Solar farm");
  std::string id(p.at("project_id").as_string());
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4') << "a version 4 UUID";
  EXPECT_EQ(p.at("currency_code"), "USD") << "the ontology's default";
  EXPECT_TRUE(p.at("creation_date").is_string());
  EXPECT_TRUE(p.at("last_updated").is_string());
  EXPECT_EQ(p.at("total_amount"), "1000.00");
  // Read-your-writes: the next request sees it, without waiting.
  auto got = call(verb::get, "/ops/projects/" + id);
  ASSERT_EQ(got.status, 200u) << got.body;
  EXPECT_EQ(got.json().at("project_name"), "Solar farm");
  auto dup = call(
      verb::post, "/ops/projects",
      R"({"project_id":")" + id + R"(","project_name":"x","total_amount":"1","status":"ACTIVE"})");
  EXPECT_EQ(dup.status, 409u) << dup.body;
}

TEST_F(OpsApiTest, ValidationErrorsNameTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({"project_name":"a","total_amount":"123456789012345678901.00","status":"ACTIVE"})",
       "total_amount"},
      {R"({"project_name":"a","total_amount":"1.00","status":"LOST"})", "status"},
      {R"({"project_name":"a","total_amount":"1.00","status":"ACTIVE","currency_code":"EURO"})",
       "currency_code"},
      {R"({"total_amount":"1.00","status":"ACTIVE"})", "project_name"},
      {R"({"project_name":"a","total_amount":"1.00","status":"ACTIVE","nope":1})", "nope"},
  };
  for (const auto& c : cases) {
    auto r = call(verb::post, "/ops/projects", c.body);
    EXPECT_EQ(r.status, 422u) << c.body << " -> " << r.body;
    if (r.status == 422u) {
      EXPECT_EQ(r.json().at("error").at("details").at("field"), c.field.c_str()) << r.body;
    }
  }
  EXPECT_EQ(call(verb::post, "/ops/projects", "[1]").status, 400u);
  EXPECT_EQ(call(verb::post, "/ops/nope", "{}").status, 404u);
}

TEST_F(OpsApiTest, UpdatePatchDeleteAndNotFound) {
  auto p = create_project("Hydro", "PROPOSED");
  std::string id(p.at("project_id").as_string());
  auto patched = call(verb::patch, "/ops/projects/" + id, R"({"status":"ACTIVE"})");
  ASSERT_EQ(patched.status, 200u) << patched.body;
  EXPECT_EQ(patched.json().at("status"), "ACTIVE");
  EXPECT_EQ(patched.json().at("project_name"), "Hydro") << "PATCH keeps the other fields";
  EXPECT_EQ(patched.json().at("creation_date"), p.at("creation_date"));
  EXPECT_NE(patched.json().at("last_updated"), p.at("last_updated"));

  auto put = call(verb::put, "/ops/projects/" + id,
                  R"({"project_name":"Hydro 2","total_amount":"5.00","status":"COMPLETED"})");
  ASSERT_EQ(put.status, 200u) << put.body;
  EXPECT_EQ(put.json().at("project_name"), "Hydro 2");
  EXPECT_EQ(put.json().at("creation_date"), p.at("creation_date"));
  EXPECT_EQ(call(verb::put, "/ops/projects/" + id, R"({"project_name":"x"})").status, 422u)
      << "PUT replaces: required fields must be there";
  EXPECT_EQ(call(verb::patch, "/ops/projects/" + id, R"({"status":"LOST"})").status, 422u);
  EXPECT_EQ(call(verb::patch, "/ops/projects/" + id,
                 R"({"project_id":"00000000-0000-4000-8000-000000000000"})")
                .status,
            422u);

  auto missing = "00000000-0000-4000-8000-000000000000";
  EXPECT_EQ(call(verb::get, std::string("/ops/projects/") + missing).status, 404u);
  EXPECT_EQ(call(verb::patch, std::string("/ops/projects/") + missing, "{}").status, 404u);
  EXPECT_EQ(call(verb::delete_, std::string("/ops/projects/") + missing).status, 404u);

  auto del = call(verb::delete_, "/ops/projects/" + id);
  ASSERT_EQ(del.status, 200u) << del.body;
  EXPECT_EQ(call(verb::get, "/ops/projects/" + id).status, 404u);
  EXPECT_EQ(call(verb::get, "/ops/disbursements/" + id).status, 405u) << "append-only";
}

TEST_F(OpsApiTest, ListFiltersSortsAndPages) {
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto p = create_project("p" + std::to_string(i), i % 2 ? "ACTIVE" : "PROPOSED",
                            std::to_string(100 + i) + ".00");
    ids.insert(std::string(p.at("project_id").as_string()));
  }
  auto active = call(verb::get, "/ops/projects?status=ACTIVE").json();
  EXPECT_EQ(active.at("count"), 2);
  auto sorted = call(verb::get, "/ops/projects?sort=-total_amount&limit=2").json();
  ASSERT_EQ(sorted.at("items").as_array().size(), 2u);
  EXPECT_EQ(sorted.at("items").as_array()[0].at("total_amount"), "104.00");
  EXPECT_EQ(sorted.at("items").as_array()[1].at("total_amount"), "103.00");
  auto offset = call(verb::get, "/ops/projects?sort=-total_amount&limit=2&offset=4").json();
  EXPECT_EQ(offset.at("items").as_array().size(), 1u);
  EXPECT_TRUE(offset.at("next_cursor").is_null());

  // Cursor pagination walks every record once.
  std::set<std::string> seen;
  std::string target = "/ops/projects?limit=2";
  for (int page = 0; page < 10; ++page) {
    auto r = call(verb::get, target);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto body = r.json().as_object();
    for (const auto& item : body.at("items").as_array())
      EXPECT_TRUE(seen.insert(std::string(item.at("project_id").as_string())).second);
    if (body.at("next_cursor").is_null()) break;
    target = "/ops/projects?limit=2&cursor=" + std::string(body.at("next_cursor").as_string());
  }
  EXPECT_EQ(seen, ids);

  EXPECT_EQ(call(verb::get, "/ops/projects?sort=nope").status, 400u);
  EXPECT_EQ(call(verb::get, "/ops/projects?nope=1").status, 400u);
  EXPECT_EQ(call(verb::get, "/ops/projects?limit=0").status, 400u);
  EXPECT_EQ(call(verb::get, "/ops/projects?cursor=zz").status, 400u);
  // A value is bound, never spliced: a quote is just a value that matches nothing.
  auto injected = call(verb::get, "/ops/projects?project_name=x%27%20OR%20%271%27%3D%271");
  ASSERT_EQ(injected.status, 200u) << injected.body;
  EXPECT_EQ(injected.json().at("count"), 0);
}

TEST_F(OpsApiTest, DisbursementsJoinProjects) {
  auto p = create_project("Bridge");
  std::string id(p.at("project_id").as_string());
  auto d =
      call(verb::post, "/ops/disbursements",
           R"({"project_id":")" + id +
               R"(","amount":"250.00","currency":"USD","disbursed_at":"2026-11-20T09:00:00"})");
  ASSERT_EQ(d.status, 201u) << d.body;
  auto q = call(
      verb::post, "/v1/products/default/query",
      R"({"sql":"SELECT p.project_name, sum(d.amount) AS paid FROM projects p JOIN disbursements d USING (project_id) GROUP BY 1"})");
  ASSERT_EQ(q.status, 200u) << q.body;
  auto rows = q.json().at("rows").as_array();
  ASSERT_EQ(rows.size(), 1u) << q.body;
  EXPECT_EQ(rows[0].as_array()[0], "Bridge");
  auto listed = call(verb::get, "/ops/disbursements?project_id=" + id).json();
  EXPECT_EQ(listed.at("count"), 1);
}

}  // namespace
}  // namespace duckmesh::testing

namespace duckmesh::testing {
namespace {

TEST_F(OpsApiTest, WelcomeOpenApiDocsAndMetadata) {
  auto welcome = call(verb::get, "/");
  ASSERT_EQ(welcome.status, 200u);
  EXPECT_EQ(welcome.json().at("links").at("openapi"), "/openapi.json");

  auto doc = call(verb::get, "/openapi.json").json();
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  const auto& paths = doc.at("paths").as_object();
  std::vector<std::pair<std::string, std::string>> expected = {
      {"/", "get"},
      {"/openapi.json", "get"},
      {"/docs", "get"},
      {"/metadata", "get"},
      {"/ops/initialize", "post"},
      {"/ops/{entity}", "post"},
      {"/ops/{entity}", "get"},
      {"/ops/{entity}/{id}", "get"},
      {"/ops/{entity}/{id}", "put"},
      {"/ops/{entity}/{id}", "patch"},
      {"/ops/{entity}/{id}", "delete"},
      {"/admin/tables", "get"},
      {"/admin/tables", "post"},
      {"/admin/tables/{table}", "put"},
      {"/admin/tables/{table}", "delete"},
      {"/admin/logging/level", "get"},
      {"/admin/logging/level", "post"},
      {"/monitoring/health", "get"},
      {"/monitoring/metrics", "get"},
      {"/monitoring/metrics/system", "get"},
      {"/metrics", "get"},
      {"/v1/products/{product}/query", "post"},
  };
  for (const auto& [path, method] : expected) {
    ASSERT_TRUE(paths.contains(path)) << path;
    EXPECT_TRUE(paths.at(path).as_object().contains(method)) << method << " " << path;
  }
  // Every documented operation is served: no documented path is unknown to
  // the router (a request to it never answers "no route" 404 or 405).
  for (const auto& [path, item] : paths) {
    std::string target(path);
    for (auto at = target.find('{'); at != std::string::npos; at = target.find('{')) {
      target.replace(at, target.find('}', at) - at + 1, "x");
    }
    for (const auto& [method, op] : item.as_object()) {
      if (method != "get") continue;
      auto r = call(verb::get, target);
      EXPECT_NE(r.status, 405u) << "GET " << target;
      if (r.status == 404u) {
        EXPECT_EQ(r.body.find("no route"), std::string::npos) << "GET " << target << r.body;
      }
    }
  }
  auto docs = call(verb::get, "/docs");
  EXPECT_EQ(docs.status, 200u);
  EXPECT_NE(docs.header("content-type").find("text/html"), std::string::npos);

  auto meta = call(verb::get, "/metadata");
  ASSERT_EQ(meta.status, 200u) << meta.body;
  EXPECT_EQ(meta.header("content-type"), "application/ld+json");
  auto m = meta.json().as_object();
  EXPECT_EQ(m.at("@type"), "dcat:Catalog");
  auto datasets = m.at("dcat:dataset").as_array();
  ASSERT_EQ(datasets.size(), 4u);
  for (const auto& d : datasets) {
    EXPECT_EQ(d.at("@type"), "dcat:Dataset");
    EXPECT_FALSE(d.at("dct:description").as_string().empty()) << d;
    EXPECT_NE(std::string(d.at("dcat:distribution").as_array()[0].at("dcat:accessURL").as_string())
                  .find("/v1/products/default/query"),
              std::string::npos);
    EXPECT_FALSE(d.at("dct:conformsTo").at("columns").as_array().empty());
  }
}

}  // namespace
}  // namespace duckmesh::testing
