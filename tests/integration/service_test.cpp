// The service as a user meets it: the real binary on a loopback port.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

using boost::beast::http::verb;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No ontology server: a port nothing listens on, whatever runs on the
    // machine's default 8001.
    auto args = extra_args();
    args.insert(args.end(), {"--onto-server-url", "http://127.0.0.1:9"});
    service_ = std::make_unique<ServiceProcess>(dir_.path() / "data", args);
  }
  virtual std::vector<std::string> extra_args() { return {}; }
  HttpClient client() { return HttpClient("127.0.0.1", service_->port()); }

  // Value of a Prometheus sample line "name{labels} value", or -1 if absent.
  static double sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
  }

  TempDir dir_;
  std::unique_ptr<ServiceProcess> service_;
};

// The node's overall status is checked: the machine's own disk must not
// decide it, so the disk check's thresholds are off.
class HealthTest : public ServiceTest {
  std::vector<std::string> extra_args() override {
    return {"--health-disk-degraded-free-percent", "0", "--health-disk-unhealthy-free-percent",
            "0"};
  }
};

TEST_F(HealthTest, HealthReportsVersionsAndALiveDuckDBCheck) {
  auto c = client();
  auto r = c.get("/monitoring/health");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto body = r.json().as_object();
  // No ontology server runs here: the bundled fallback serves, so the node
  // is degraded on that check alone.
  EXPECT_EQ(body.at("checks").at("ontology").at("status").as_string(), "degraded");
  EXPECT_EQ(body.at("status").as_string(), "degraded") << r.body;
  auto& disk = body.at("checks").at("disk");
  EXPECT_EQ(disk.at("status").as_string(), "healthy");
  EXPECT_GT(disk.at("total_bytes").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(disk.at("degraded_below_percent").as_int64(), 0);
  EXPECT_EQ(body.at("version").as_string(), DUCKMESH_VERSION);
  EXPECT_EQ(body.at("duckdb_version").as_string(), "v1.5.6");
  EXPECT_GE(body.at("uptime_seconds").as_double(), 0.0);
  EXPECT_EQ(body.at("checks").at("duckdb").at("status").as_string(), "healthy");
  auto& coordinator = body.at("checks").at("coordinator");
  EXPECT_EQ(coordinator.at("status").as_string(), "healthy") << r.body;
  EXPECT_TRUE(coordinator.at("running").as_bool());
  EXPECT_LT(coordinator.at("heartbeat_age_ms").as_int64(), 10'000);
  EXPECT_TRUE(body.at("checks").at("maintenance").at("enabled").as_bool());
}

// The disk check compares the data directory's free share with its two
// thresholds: below the first the node is degraded (200), below the second
// unhealthy (503). At 100% every real filesystem is below.
TEST(DiskHealth, FollowsItsThresholds) {
  TempDir dir;
  const std::vector<std::string> common = {"--onto-server-url", "http://127.0.0.1:9"};
  auto health_with = [&](const std::string& degraded, const std::string& unhealthy) {
    auto args = common;
    args.insert(args.end(), {"--health-disk-degraded-free-percent", degraded,
                             "--health-disk-unhealthy-free-percent", unhealthy});
    ServiceProcess service(dir.path() / "data", args);
    return HttpClient("127.0.0.1", service.port()).get("/monitoring/health");
  };
  auto off = health_with("0", "0");
  ASSERT_EQ(off.status, 200u) << off.body;
  const double free_percent = off.json().at("checks").at("disk").at("free_percent").as_double();
  ASSERT_GT(free_percent, 0.0);
  ASSERT_LT(free_percent, 100.0);
  EXPECT_EQ(off.json().at("checks").at("disk").at("status").as_string(), "healthy");

  auto degraded = health_with("100", "0");
  EXPECT_EQ(degraded.status, 200u) << "degraded still serves: " << degraded.body;
  EXPECT_EQ(degraded.json().at("checks").at("disk").at("status").as_string(), "degraded");
  EXPECT_EQ(degraded.json().at("status").as_string(), "degraded");

  auto unhealthy = health_with("100", "100");
  EXPECT_EQ(unhealthy.status, 503u) << unhealthy.body;
  EXPECT_EQ(unhealthy.json().at("checks").at("disk").at("status").as_string(), "unhealthy");
  EXPECT_EQ(unhealthy.json().at("status").as_string(), "unhealthy");
}

// Health shows each maintenance task's last run once the loop has run.
class MaintenanceHealthTest : public ServiceTest {
  std::vector<std::string> extra_args() override { return {"--maintenance-interval-ms", "200"}; }
};

TEST_F(MaintenanceHealthTest, HealthShowsTheLastRunOfEachTask) {
  auto c = client();
  boost::json::object maintenance;
  for (int i = 0; i < 100; ++i) {
    auto r = c.get("/monitoring/health");
    maintenance = r.json().at("checks").at("maintenance").as_object();
    if (maintenance.at("last_runs").as_object().size() == 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(maintenance.at("last_runs").as_object().size(), 4u)
      << boost::json::serialize(maintenance);
  EXPECT_EQ(maintenance.at("status").as_string(), "healthy");
  for (const char* task : {"compact", "expire", "idempotency", "gc"}) {
    auto& run = maintenance.at("last_runs").at(task);
    EXPECT_EQ(run.at("outcome").as_string(), "nothing_to_do") << task;
    EXPECT_GT(run.at("finished_unix_us").as_int64(), 0) << task;
  }
}

TEST_F(ServiceTest, UnknownRouteAnswersTheErrorShape) {
  auto c = client();
  auto r = c.get("/no/such/thing");
  EXPECT_EQ(r.status, 404u);
  auto error = r.json().at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "not_found");
  EXPECT_NE(std::string(error.at("message").as_string()).find("/no/such/thing"), std::string::npos);
  EXPECT_TRUE(error.at("details").is_object());
  EXPECT_EQ(error.at("request_id").as_string(), r.header("x-request-id"));
}

TEST_F(ServiceTest, WrongMethodAnswers405WithAllow) {
  auto c = client();
  auto r = c.request(verb::delete_, "/monitoring/health");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.header("allow"), "GET");
  EXPECT_EQ(r.json().at("error").at("code").as_string(), "method_not_allowed");
}

TEST_F(ServiceTest, MalformedJsonIsRefusedClearly) {
  auto c = client();
  auto r = c.post("/admin/logging/level", "{\"level\": ");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json().at("error").at("code").as_string(), "invalid_input");
  auto bad = c.post("/admin/logging/level", R"({"level": "loud"})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.json().at("error").at("details").at("field").as_string(), "level");
}

TEST_F(ServiceTest, LogLevelCanBeChangedAtRunTime) {
  auto c = client();
  EXPECT_EQ(c.get("/admin/logging/level").json().at("level").as_string(), "info");
  auto r = c.post("/admin/logging/level", R"({"level": "debug"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.json().at("previous").as_string(), "info");
  EXPECT_EQ(c.get("/admin/logging/level").json().at("level").as_string(), "debug");
}

TEST_F(ServiceTest, RequestIdIsEchoedOrMade) {
  auto c = client();
  auto given = c.request(verb::get, "/monitoring/health", "", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(given.header("x-request-id"), "abc-123");
  auto bad =
      c.request(verb::get, "/monitoring/health", "", {{"X-Request-Id", "no spaces allowed"}});
  EXPECT_TRUE(std::regex_match(bad.header("x-request-id"), std::regex("[0-9a-f]{32}")))
      << bad.header("x-request-id");
  auto made = c.get("/monitoring/health");
  EXPECT_TRUE(std::regex_match(made.header("x-request-id"), std::regex("[0-9a-f]{32}")));
  EXPECT_NE(made.header("x-request-id"), bad.header("x-request-id"));
  // The id ties the access log line to the request.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(service_->logs().find("\"request_id\":\"abc-123\""), std::string::npos);
}

TEST_F(ServiceTest, LogsAreOneJsonObjectPerLine) {
  client().get("/monitoring/health");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::istringstream in(service_->logs());
  std::string line;
  int lines = 0;
  bool saw_version = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto v = boost::json::parse(line).as_object();
    EXPECT_TRUE(v.contains("time") && v.contains("level") && v.contains("message")) << line;
    if (v.at("message") == "starting") {
      saw_version = v.at("duckdb_version") == "v1.5.6";
      EXPECT_TRUE(v.at("config").is_object());
    }
    ++lines;
  }
  EXPECT_GE(lines, 3);
  EXPECT_TRUE(saw_version);
}

TEST_F(ServiceTest, MetricsCountRequestsByRouteMethodAndStatus) {
  auto c = client();
  const std::string series =
      R"(duckmesh_http_requests_total{route="/monitoring/health",method="GET",status="200"})";
  double before = sample(c.get("/metrics").body, series);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(c.get("/monitoring/health").status, 200u);
  c.get("/nope");
  auto text = c.get("/metrics");
  EXPECT_EQ(text.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(sample(text.body, series), std::max(before, 0.0) + 5);
  EXPECT_EQ(sample(text.body,
                   R"(duckmesh_http_requests_total{route="unmatched",method="GET",status="404"})"),
            1);
  EXPECT_NE(text.body.find("# TYPE duckmesh_http_request_duration_seconds histogram"),
            std::string::npos);
  EXPECT_GT(sample(text.body, "process_resident_memory_bytes"), 0);
  EXPECT_GT(sample(text.body, "process_open_fds"), 0);
  EXPECT_GT(sample(text.body, "process_start_time_seconds"), 1.7e9);
}

TEST_F(ServiceTest, SystemMetricsArePlausible) {
  auto body = client().get("/monitoring/metrics/system").json().as_object();
  EXPECT_GT(body.at("memory").at("total_bytes").to_number<double>(), 0);
  EXPECT_GT(body.at("disk").at("total_bytes").to_number<double>(), 0);
  EXPECT_GE(body.at("cpu").at("count").to_number<double>(), 1);
  EXPECT_GT(body.at("process").at("rss_bytes").to_number<double>(), 0);
}

TEST_F(ServiceTest, MalformedHttpGets400AndClose) {
  RawConnection raw("127.0.0.1", service_->port());
  raw.send("THIS IS NOT HTTP\r\n\r\n");
  auto reply = raw.read_all();
  EXPECT_NE(reply.find("HTTP/1.1 400"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\"invalid_input\""), std::string::npos) << reply;
}

TEST_F(ServiceTest, HeadIsAnsweredWithoutBody) {
  auto r = client().request(verb::head, "/monitoring/health");
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.body.empty());
}

class SmallLimitsTest : public ServiceTest {
  std::vector<std::string> extra_args() override {
    return {"--body-limit-bytes", "2048", "--read-timeout-ms", "300"};
  }
};

TEST_F(SmallLimitsTest, OversizedBodyIs413InTheErrorShape) {
  auto r = client().post("/admin/logging/level", std::string(4096, 'x'));
  EXPECT_EQ(r.status, 413u);
  auto error = r.json().at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "payload_too_large");
  EXPECT_EQ(error.at("details").at("limit_bytes").to_number<double>(), 2048);
}

TEST_F(SmallLimitsTest, SlowClientIsDroppedAndOthersAreServed) {
  RawConnection slow("127.0.0.1", service_->port());
  slow.send("GET /monitoring/health HTTP/1.1\r\nHost: x\r\n");  // never finishes its headers
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client().get("/monitoring/health").status, 200u);
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ServiceLifecycle, SigtermDrainsARequestInFlightAndExitsZero) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data");
  RawConnection raw("127.0.0.1", service.port());
  std::string body = R"({"level": "debug"})";
  // Headers and half the body: the request is in flight when SIGTERM arrives.
  raw.send(
      "POST /admin/logging/level HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  service.signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // New connections are refused while it drains.
  EXPECT_THROW(HttpClient("127.0.0.1", service.port()).get("/monitoring/health"), std::exception);
  raw.send(body.substr(5));
  auto reply = raw.read_all();
  EXPECT_NE(reply.find("HTTP/1.1 200"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  EXPECT_EQ(service.wait(), 0);
  EXPECT_NE(service.logs().find("\"drained\":true"), std::string::npos) << service.logs();
}

TEST(ServiceLifecycle, SigintWithNothingInFlightExitsPromptly) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data");
  auto start = std::chrono::steady_clock::now();
  service.signal(SIGINT);
  EXPECT_EQ(service.wait(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(ServiceCommandLine, VersionPrintsBothVersions) {
  auto r = run_binary({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find(std::string("duckmesh ") + DUCKMESH_VERSION), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DuckDB v1.5.6"), std::string::npos) << r.out;
}

TEST(ServiceCommandLine, HelpExplainsEveryFlag) {
  auto r = run_binary({"serve", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (auto flag : {"--listen", "--data-dir", "--config", "--log-level", "--body-limit-bytes",
                    "DUCKMESH_LISTEN", "ONTO_SERVER_URL", "DUCKDB_PATH"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(ServiceCommandLine, BadConfigValueIsRefusedNamingTheSetting) {
  auto r = run_binary({"serve", "--listen", "127.0.0.1:99999"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("listen"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0 to 65535"), std::string::npos) << r.err;
  auto env = run_binary({"serve"}, {{"DUCKMESH_IO_THREADS", "zero"}});
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_NE(env.err.find("DUCKMESH_IO_THREADS"), std::string::npos) << env.err;
}

}  // namespace
}  // namespace duckmesh::testing
