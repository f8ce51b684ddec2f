// The ontology client and the ontology-governed tables, against the real
// binary and the real reference ontology server (duckmesh onto-serve).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "support/http_client.hpp"
#include "support/onto_serve_process.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

using boost::beast::http::verb;
namespace fs = std::filesystem;

fs::path sample_ontology() {
  return fs::path(DUCKMESH_SOURCE_DIR) / "examples/ontology";
}

// A private copy of the sample ontology that a test may publish new versions into.
fs::path copy_ontology(const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(sample_ontology()))
    fs::copy(e.path(), to / e.path().filename());
  return to;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

boost::json::object ontology_status(HttpClient& c) {
  auto r = c.get("/admin/ontology");
  EXPECT_EQ(r.status, 200u) << r.body;
  return r.json().as_object();
}

std::string source_of_create(HttpClient& c, const std::string& table) {
  auto r = c.post("/admin/tables", R"({"table": ")" + table + R"("})");
  EXPECT_TRUE(r.status == 200u || r.status == 201u) << r.body;
  return std::string(r.json().at("schema_source").as_string());
}

struct OntologyStack {
  TempDir dir;
  std::unique_ptr<OntoServeProcess> onto;
  std::unique_ptr<ServiceProcess> service;

  OntologyStack(const fs::path& ontology_dir, std::vector<std::string> onto_flags,
                std::vector<std::string> service_flags) {
    onto = std::make_unique<OntoServeProcess>(ontology_dir, std::move(onto_flags));
    std::vector<std::string> flags = {"--onto-server-url", onto->url()};
    flags.insert(flags.end(), service_flags.begin(), service_flags.end());
    service = std::make_unique<ServiceProcess>(dir.path() / "data", flags);
  }
  HttpClient client() { return HttpClient("127.0.0.1", service->port()); }
};

TEST(Ontology, DefaultProductIsCreatedFromTheServerOnFirstStart) {
  OntologyStack s(sample_ontology(), {}, {});
  auto c = s.client();
  auto tables = c.get("/admin/tables");
  ASSERT_EQ(tables.status, 200u) << tables.body;
  auto list = tables.json().at("tables").as_array();
  ASSERT_EQ(list.size(), 4u);
  std::set<std::string> names;
  for (const auto& t : list) {
    names.insert(std::string(t.at("name").as_string()));
    EXPECT_EQ(t.at("ontology").at("source"), "server");
    EXPECT_EQ(t.at("compatibility"), "backward");
  }
  EXPECT_EQ(names, (std::set<std::string>{"disbursements", "portfolio_projects", "portfolios",
                                          "projects"}));
  auto projects = c.get("/v1/products/default/tables/projects").json();
  EXPECT_EQ(projects.at("kind"), "keyed");
  auto disb = c.get("/v1/products/default/tables/disbursements").json();
  EXPECT_EQ(disb.at("partition_by").at("transform"), "month");
  auto health = c.get("/monitoring/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.json().at("checks").at("ontology").at("status"), "healthy");
  EXPECT_EQ(health.json().at("checks").at("ontology").at("breaker_state"), "closed");
  EXPECT_EQ(health.json().at("checks").at("bus").at("status"), "healthy");
  EXPECT_EQ(health.json().at("checks").at("bus").at("lag_events"), 0);
  // Far below the default limit (80% of the memory available).
  EXPECT_EQ(health.json().at("checks").at("memory").at("status"), "healthy");
  EXPECT_GT(health.json().at("checks").at("memory").at("limit_bytes").to_number<std::int64_t>(),
            0);
}

TEST(Ontology, SchemasAreCachedForTheTtl) {
  OntologyStack s(sample_ontology(), {}, {"--onto-cache-ttl", "600"});
  auto c = s.client();
  // Start fetched every schema from the server; within the TTL the cache answers.
  EXPECT_EQ(source_of_create(c, "projects"), "cache");
  s.onto->set_faults(R"({"down": true})");
  EXPECT_EQ(source_of_create(c, "projects"), "cache") << "no call needed while fresh";
  EXPECT_EQ(ontology_status(c).at("breaker_state"), "closed");
  auto metrics = c.get("/metrics").body;
  EXPECT_NE(metrics.find("duckmesh_ontology_answers_total{origin=\"cache\"}"), std::string::npos);
}

TEST(Ontology, ServerErrorsOpenTheBreakerFallBackAndRecover) {
  // The node's overall status is checked below: the machine's own disk (the
  // disk check's thresholds) must not decide it.
  OntologyStack s(sample_ontology(), {},
                  {"--onto-cache-ttl", "0.05", "--onto-breaker-failures", "2",
                   "--onto-breaker-cooldown", "1", "--onto-refresh-interval", "3600",
                   "--health-disk-degraded-free-percent", "0",
                   "--health-disk-unhealthy-free-percent", "0"});
  auto c = s.client();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  s.onto->set_faults(R"({"error_rate": 1})");
  EXPECT_EQ(source_of_create(c, "projects"), "stale_cache");
  EXPECT_EQ(ontology_status(c).at("breaker_state"), "closed");
  EXPECT_EQ(source_of_create(c, "projects"), "stale_cache");
  auto status = ontology_status(c);
  EXPECT_EQ(status.at("breaker_state"), "open");
  EXPECT_EQ(status.at("reachable"), false);
  EXPECT_NE(std::string(status.at("last_error").as_string()).find("500"), std::string::npos)
      << status;
  auto health = c.get("/monitoring/health");
  EXPECT_EQ(health.status, 200u) << "a fallback serves: degraded, not down";
  EXPECT_EQ(health.json().at("status"), "degraded") << health.body;
  EXPECT_EQ(health.json().at("checks").at("ontology").at("schema_source"), "stale_cache");
  s.onto->set_faults(R"({"error_rate": 0})");
  EXPECT_EQ(source_of_create(c, "projects"), "stale_cache") << "still cooling down";
  auto metrics = c.get("/metrics").body;
  EXPECT_NE(metrics.find("duckmesh_ontology_breaker_state 1"), std::string::npos);
  EXPECT_NE(metrics.find("duckmesh_ontology_requests_total{outcome=\"refused\"}"),
            std::string::npos)
      << "an open breaker refuses calls";
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(source_of_create(c, "projects"), "server") << "the half-open probe succeeds";
  EXPECT_EQ(ontology_status(c).at("breaker_state"), "closed");
  health = c.get("/monitoring/health");
  EXPECT_EQ(health.json().at("status"), "healthy") << health.body;
}

TEST(Ontology, SlowServerTimesOut) {
  OntologyStack s(
      sample_ontology(), {},
      {"--onto-cache-ttl", "0.05", "--onto-server-timeout", "0.3", "--onto-breaker-failures", "1",
       "--onto-breaker-cooldown", "60", "--onto-refresh-interval", "3600"});
  auto c = s.client();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  s.onto->set_faults(R"({"latency_ms": 3000})");
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(source_of_create(c, "projects"), "stale_cache");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  EXPECT_EQ(ontology_status(c).at("breaker_state"), "open");
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(source_of_create(c, "projects"), "stale_cache");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250))
      << "an open breaker does not wait for the server";
}

TEST(Ontology, ServerDownAtStartUsesBundledAndRecoversInTheBackground) {
  OntologyStack s(sample_ontology(), {"--down"},
                  {"--onto-breaker-failures", "1", "--onto-breaker-cooldown", "0.5",
                   "--onto-refresh-interval", "0.2"});
  auto c = s.client();
  auto tables = c.get("/admin/tables").json().at("tables").as_array();
  ASSERT_EQ(tables.size(), 4u) << "tables come from the bundled definitions";
  EXPECT_EQ(tables[0].at("ontology").at("source"), "bundled");
  auto status = ontology_status(c);
  EXPECT_EQ(status.at("breaker_state"), "open");
  EXPECT_EQ(status.at("cached_schemas"), 0) << "a bundled fallback is never cached";
  EXPECT_EQ(status.at("schema_source"), "bundled");

  s.onto->set_faults(R"({"down": false})");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ontology_status(c).at("breaker_state") != "closed" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(ontology_status(c).at("breaker_state"), "closed") << "the background probe closed it";
  EXPECT_EQ(source_of_create(c, "projects"), "server");
}

TEST(Ontology, MockModeNeedsNoServer) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data", {"--use-mock-onto-server", "true"});
  HttpClient c("127.0.0.1", service.port());
  EXPECT_EQ(c.get("/admin/tables").json().at("tables").as_array().size(), 4u);
  auto status = ontology_status(c);
  EXPECT_EQ(status.at("mode"), "bundled_only");
  EXPECT_EQ(status.at("status"), "healthy");
}

const char* kDisbursementsV2 = R"J({
  "name": "disbursements", "version": "2.0.0", "kind": "append",
  "partition_by": {"column": "disbursed_at", "transform": "month"},
  "columns": [
    {"name": "project_id", "type": "UUID", "required": true},
    {"name": "amount", "type": "DECIMAL(22,2)", "required": true, "minimum": 0},
    {"name": "currency", "type": "CHAR(3)", "required": true, "pattern": "[A-Z]{3}"},
    {"name": "disbursed_at", "type": "TIMESTAMP", "required": true},
    {"name": "note", "type": "TEXT", "required": false}
  ]})J";

const char* kDisbursementsV3 = R"J({
  "name": "disbursements", "version": "3.0.0", "kind": "append",
  "partition_by": {"column": "disbursed_at", "transform": "month"},
  "columns": [
    {"name": "project_id", "type": "UUID", "required": true},
    {"name": "amount", "type": "DECIMAL(12,2)", "required": true},
    {"name": "disbursed_at", "type": "TIMESTAMP", "required": true},
    {"name": "note", "type": "TEXT", "required": false}
  ]})J";

TEST(Ontology, EvolutionAllowedRefusedAndForced) {
  TempDir onto_dir;
  auto dir = copy_ontology(onto_dir.path() / "ontology");
  OntologyStack s(dir, {}, {"--onto-cache-ttl", "0.05"});
  auto c = s.client();
  auto ingest = c.post(
      "/v1/products/default/tables/disbursements/events?wait_for_visibility=true",
      R"([{"project_id":"6f1c2d3e-0000-4000-8000-000000000001","amount":"100.00","currency":"USD","disbursed_at":"2026-11-01T10:00:00"}])");
  ASSERT_EQ(ingest.status, 200u) << ingest.body;

  write_file(dir / "disbursements.json", kDisbursementsV2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto v2 = c.request(verb::put, "/admin/tables/disbursements");
  ASSERT_EQ(v2.status, 200u) << v2.body;
  auto report = v2.json().as_object();
  EXPECT_EQ(report.at("outcome"), "updated");
  EXPECT_EQ(report.at("schema_version"), 2);
  EXPECT_EQ(report.at("ontology_version"), "2.0.0");
  EXPECT_TRUE(report.contains("snapshot_id"));
  std::map<std::string, std::string> changes;
  for (const auto& ch : report.at("compatibility").at("changes").as_array()) {
    EXPECT_EQ(ch.at("allowed"), true) << ch;
    if (ch.at("change") != "metadata_changed")
      changes[std::string(ch.at("column").as_string())] = std::string(ch.at("change").as_string());
  }
  EXPECT_EQ(changes,
            (std::map<std::string, std::string>{{"amount", "type_changed"}, {"note", "added"}}))
      << report;

  // Old files read the new column as NULL.
  auto q =
      c.post("/v1/products/default/query", R"({"sql": "SELECT amount, note FROM disbursements"})");
  ASSERT_EQ(q.status, 200u) << q.body;
  auto rows = q.json().at("rows").as_array();
  ASSERT_EQ(rows.size(), 1u) << q.body;
  EXPECT_EQ(rows[0].as_array()[0], "100.00") << q.body;
  EXPECT_TRUE(rows[0].as_array()[1].is_null()) << q.body;
  auto history = c.get("/v1/products/default/tables/disbursements").json();
  EXPECT_EQ(history.at("schema_history").as_array().size(), 2u);

  // Unchanged the second time.
  auto again = c.request(verb::put, "/admin/tables/disbursements");
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(again.json().at("outcome"), "unchanged");

  write_file(dir / "disbursements.json", kDisbursementsV3);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto refused = c.request(verb::put, "/admin/tables/disbursements");
  ASSERT_EQ(refused.status, 409u) << refused.body;
  auto details = refused.json().at("error").at("details").as_object();
  EXPECT_EQ(details.at("outcome"), "refused");
  std::set<std::string> refused_columns;
  for (const auto& ch : details.at("compatibility").at("changes").as_array()) {
    if (ch.at("allowed") == false) refused_columns.insert(std::string(ch.at("column").as_string()));
  }
  EXPECT_EQ(refused_columns, (std::set<std::string>{"amount", "currency"})) << details;
  EXPECT_EQ(c.get("/v1/products/default/tables/disbursements").json().at("schema_version"), 2);

  auto init = c.post("/ops/initialize", "");
  ASSERT_EQ(init.status, 200u) << init.body;
  EXPECT_EQ(init.json().at("summary").at("refused"), 1);
  EXPECT_EQ(init.json().at("summary").at("unchanged"), 3);

  auto none = c.request(verb::put, "/admin/tables/disbursements?compatibility=none");
  ASSERT_EQ(none.status, 200u) << none.body;
  EXPECT_EQ(none.json().at("outcome"), "updated");
  EXPECT_EQ(none.json().at("schema_version"), 3);
}

TEST(Ontology, ForceAppliesARefusedChange) {
  TempDir onto_dir;
  auto dir = copy_ontology(onto_dir.path() / "ontology");
  OntologyStack s(dir, {}, {"--onto-cache-ttl", "0.05"});
  auto c = s.client();
  write_file(dir / "disbursements.json", kDisbursementsV3);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(c.request(verb::put, "/admin/tables/disbursements").status, 409u);
  auto forced = c.request(verb::put, "/admin/tables/disbursements?force=true");
  ASSERT_EQ(forced.status, 200u) << forced.body;
  EXPECT_EQ(forced.json().at("outcome"), "updated");
  EXPECT_EQ(forced.json().at("forced"), true);
  EXPECT_EQ(forced.json().at("compatibility").at("compatible"), false);
}

TEST(Ontology, AdminTablesRoutesGoodAndBad) {
  TempDir onto_dir;
  auto dir = copy_ontology(onto_dir.path() / "ontology");
  OntologyStack s(dir, {}, {"--onto-cache-ttl", "0.05"});
  auto c = s.client();
  // A fresh connection for each refused request: the server may close one
  // after an error.
  auto status_of = [&s](verb method, const std::string& target, const std::string& body = {}) {
    return s.client().request(method, target, body).status;
  };
  EXPECT_EQ(status_of(verb::post, "/admin/tables", "{}"), 400u);
  EXPECT_EQ(status_of(verb::post, "/admin/tables", "not json"), 400u);
  EXPECT_EQ(status_of(verb::post, "/admin/tables", R"({"table": "nope"})"), 404u);
  EXPECT_EQ(status_of(verb::post, "/admin/tables",
                      R"({"table": "projects", "compatibility": "sideways"})"),
            400u);
  EXPECT_EQ(status_of(verb::put, "/admin/tables/projects?compatibility=sideways"), 400u);
  EXPECT_EQ(status_of(verb::delete_, "/admin/tables/nope"), 404u);

  auto unchanged = c.post("/admin/tables", R"({"table": "projects"})");
  EXPECT_EQ(unchanged.status, 200u) << unchanged.body;
  EXPECT_EQ(unchanged.json().at("outcome"), "unchanged");

  auto dropped = c.request(verb::delete_, "/admin/tables/portfolios");
  ASSERT_EQ(dropped.status, 200u) << dropped.body;
  EXPECT_EQ(c.get("/admin/tables").json().at("tables").as_array().size(), 3u);
  auto created = c.post("/admin/tables", R"({"table": "portfolios", "compatibility": "full"})");
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(created.json().at("outcome"), "created");
  bool found = false;
  auto listed = c.get("/admin/tables").json();
  for (const auto& t : listed.at("tables").as_array()) {
    if (t.at("name") == "portfolios") {
      found = true;
      EXPECT_EQ(t.at("compatibility"), "full");
    }
  }
  EXPECT_TRUE(found);

  write_file(dir / "disbursements.json", kDisbursementsV2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto differs = c.post("/admin/tables", R"({"table": "disbursements"})");
  EXPECT_EQ(differs.status, 409u) << differs.body;
  EXPECT_TRUE(differs.json().at("error").at("details").as_object().contains("compatibility"));

  // A published definition that is not a valid table is refused by name.
  write_file(dir / "broken.json",
             R"J({"name": "broken", "columns": [{"name": "x", "type": "DECIMAL(99,2)"}]})J");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto broken = c.post("/admin/tables", R"({"table": "broken"})");
  EXPECT_EQ(broken.status, 503u) << broken.body;
  EXPECT_NE(broken.body.find("DECIMAL(99,2)"), std::string::npos) << broken.body;
}

}  // namespace
}  // namespace duckmesh::testing
