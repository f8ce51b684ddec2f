// The metric names operators build on: every name docs/operations.md lists
// and every name the Grafana dashboard under deploy/ queries is one the real
// binary exposes, and every family it exposes is documented.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Families in a Prometheus exposition ("# HELP <name> ...").
std::set<std::string> exposed_families(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) out.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  return out;
}

// Metric names in the first column of the tables of the operations guide.
std::set<std::string> documented_families() {
  std::set<std::string> out;
  std::regex row(R"(^\| `((duckmesh|process)_[a-z_]+)` \|)");
  std::istringstream in(
      read_file(std::filesystem::path(DUCKMESH_SOURCE_DIR) / "docs/operations.md"));
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, row)) out.insert(m[1]);
  }
  return out;
}

// Families the dashboard's queries use (histogram series name their family).
std::set<std::string> dashboard_families() {
  std::set<std::string> out;
  std::string text =
      read_file(std::filesystem::path(DUCKMESH_SOURCE_DIR) / "deploy/grafana-dashboard.json");
  std::regex name(R"((duckmesh|process)_[a-z_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    std::string n = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s(suffix);
      if (n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0) {
        n.resize(n.size() - s.size());
      }
    }
    out.insert(n);
  }
  return out;
}

TEST(MetricNames, DocsDashboardAndExpositionAgree) {
  TempDir dir;
  auto data = dir.path() / "data";
  auto created =
      run_binary({"keys", "create", "--data-dir", data.string(), "--role", "superadmin"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::map<std::string, std::string> auth = {
      {"Authorization", "Bearer " + created.out.substr(0, created.out.find('\n'))}};
  ServiceProcess service(data,
                         {"--onto-server-url", "http://127.0.0.1:9", "--maintenance-interval-ms",
                          "200", "--rate-limit-ip", "20", "--rate-limit-ip-burst", "200"},
                         {}, Auth::required);
  HttpClient c("127.0.0.1", service.port());
  auto get = [&](const std::string& target) {
    return c.request(boost::beast::http::verb::get, target, "", auth);
  };
  // Traffic that gives every labelled family a first sample.
  ASSERT_EQ(c.post("/v1/products", R"({"name":"shop"})", auth).status, 201u);
  ASSERT_EQ(
      c.post("/v1/products/shop/tables",
             R"({"name":"t","kind":"append","columns":[{"name":"id","type":"bigint"}]})", auth)
          .status,
      201u);
  auto ingest = c.post("/v1/products/shop/tables/t/events?atomic=false&wait_for_visibility=true",
                       R"([{"id":1},{"id":"x"}])", auth);
  ASSERT_EQ(ingest.status, 200u) << ingest.body;
  ASSERT_EQ(c.post("/v1/products/shop/query", R"({"sql":"SELECT count(*) FROM t"})", auth).status,
            200u);
  ASSERT_EQ(c.get("/v1/products").status, 401u);  // an authentication failure
  // Wait for a maintenance pass to publish the per-table figures.
  std::set<std::string> exposed;
  for (int i = 0; i < 100; ++i) {
    exposed = exposed_families(get("/metrics").body);
    if (exposed.count("duckmesh_table_files") && exposed.count("duckmesh_maintenance_runs_total")) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // A refusal by the rate limiter, from a burst of requests: more than the
  // burst left, faster than 20 per second come back, however slow the machine.
  bool limited = false;
  for (int i = 0; i < 1000 && !limited; ++i) limited = get("/openapi.json").status == 429;
  ASSERT_TRUE(limited);
  // The limiter still refuses this client for a moment; wait for a token.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::string text;
  for (int i = 0; i < 50; ++i) {
    auto r = get("/metrics");
    if (r.status == 200) {
      text = r.body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  exposed = exposed_families(text);

  auto documented = documented_families();
  ASSERT_GT(documented.size(), 20u) << "the metric table of docs/operations.md was not found";
  for (const auto& name : documented) {
    EXPECT_TRUE(exposed.count(name)) << name << " is documented but not exposed";
  }
  for (const auto& name : exposed) {
    EXPECT_TRUE(documented.count(name)) << name << " is exposed but not in docs/operations.md";
  }
  auto dashboard = dashboard_families();
  ASSERT_GT(dashboard.size(), 10u);
  for (const auto& name : dashboard) {
    EXPECT_TRUE(exposed.count(name)) << name << " is on the dashboard but not exposed";
  }
}

}  // namespace
}  // namespace duckmesh::testing
