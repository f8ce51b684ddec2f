// The maintenance commands (duckmesh compact | expire | gc) on a real data
// directory, and orphans of processes killed by SIGKILL mid-write.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <sstream>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

class MaintenanceCommandTest : public ::testing::Test {
 protected:
  RunResult driver(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin() + 1, dir_.path().string());
    return run_program(CORE_DRIVER, args, env);
  }
  RunResult duckmesh(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    return run_on_data_dir(dir_.path(), std::move(args), env);
  }
  void SetUp() override { ASSERT_EQ(driver({"setup"}).exit_code, 0); }

  std::string count(const std::string& table) {
    auto r = driver({"count", table});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::istringstream in(r.out);
    std::string rows, distinct;
    in >> rows >> distinct;
    return rows + "/" + distinct;
  }
  long orphans() {
    auto r = driver({"orphans"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::stol(r.out);
  }

  static long occurrences(const std::string& text, const std::string& what) {
    long n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  TempDir dir_;
};

TEST_F(MaintenanceCommandTest, OrphansOfAKilledCommitGoOnlyAfterTheGracePeriod) {
  ASSERT_EQ(driver({"publish", "orders_by_day", "1000", "o"}).exit_code, 0);
  auto crashed = driver({"commit"}, {{"DUCKMESH_FAULT", "after_parquet_write@2"}});
  ASSERT_EQ(crashed.exit_code, -SIGKILL) << crashed.err;
  ASSERT_EQ(driver({"commit"}).exit_code, 0);
  EXPECT_EQ(count("orders_by_day"), "1000/1000");
  const long left = orphans();
  ASSERT_GE(left, 1);

  // Inside the grace period: nothing is deleted.
  auto young = duckmesh({"gc", "--gc-grace-s", "3600"});
  ASSERT_EQ(young.exit_code, 0) << young.err;
  EXPECT_NE(young.out.find("deleted 0 file(s), 0 bytes"), std::string::npos) << young.out;
  EXPECT_EQ(orphans(), left);

  // A dry run past the grace period lists them, with their bytes, and deletes nothing.
  // (The killed process's staging file in the scratch directory goes too.)
  auto dry = duckmesh({"gc", "--dry-run", "--gc-grace-s", "0"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(occurrences(dry.out, "(orphan)\n"), left) << dry.out;
  EXPECT_EQ(occurrences(dry.out, "would delete products/"), left) << dry.out;
  EXPECT_EQ(orphans(), left);

  auto real = duckmesh({"gc", "--gc-grace-s", "0"});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_EQ(occurrences(real.out, "(orphan)\n"), left) << real.out;
  EXPECT_EQ(orphans(), 0);
  EXPECT_EQ(count("orders_by_day"), "1000/1000");
}

TEST_F(MaintenanceCommandTest, KilledCompactionLeavesOnlyOrphansAndARerunCompacts) {
  ASSERT_EQ(driver({"publish", "orders", "1000", "o", "50"}).exit_code, 0);
  ASSERT_EQ(driver({"commit"}).exit_code, 0);  // batches of 400: three files
  ASSERT_EQ(count("orders"), "1000/1000");
  ASSERT_EQ(orphans(), 0);

  auto killed = duckmesh({"compact", "--product", "shop", "--table", "orders"},
                         {{"DUCKMESH_FAULT", "compact_before_publish"}});
  ASSERT_EQ(killed.exit_code, -SIGKILL) << killed.err;
  EXPECT_EQ(count("orders"), "1000/1000");
  EXPECT_EQ(orphans(), 1);

  auto compact = duckmesh({"compact", "--product", "shop"});
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_NE(compact.out.find("shop.orders: compacted"), std::string::npos) << compact.out;
  EXPECT_NE(compact.out.find("-> 1 files (1000 rows"), std::string::npos) << compact.out;
  EXPECT_EQ(count("orders"), "1000/1000");

  // Expire everything but the newest snapshot, then collect: the three
  // retired files and the orphan go; the data stays whole.
  auto expire =
      duckmesh({"expire", "--retention-max-age-s", "0", "--retention-min-snapshots", "1"});
  ASSERT_EQ(expire.exit_code, 0) << expire.err;
  EXPECT_NE(expire.out.find("3 file(s) no longer referenced"), std::string::npos) << expire.out;
  auto gc = duckmesh({"gc", "--gc-grace-s", "0"});
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("deleted 4 file(s)"), std::string::npos) << gc.out;
  EXPECT_EQ(count("orders"), "1000/1000");
}

TEST_F(MaintenanceCommandTest, RefusesADirectoryWithoutACatalog) {
  TempDir empty;
  auto r = run_program(DUCKMESH_BINARY, {"gc", "--data-dir", empty.path().string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no DuckMesh catalog"), std::string::npos) << r.err;
}

// The commands on the data directory of a running server, while it ingests
// and answers queries; time travel to an expired snapshot names the oldest.
TEST(MaintenanceWithServer, CommandsRunBesideAServerAndExpiredSnapshotsAreNotFound) {
  TempDir dir;
  const auto data = dir.path() / "data";
  ServiceProcess service(data, {"--maintenance-enabled", "false"});
  HttpClient c("127.0.0.1", service.port());
  ASSERT_EQ(c.post("/v1/products", R"({"name":"shop"})").status, 201u);
  ASSERT_EQ(c.post("/v1/products/shop/tables", R"J({"name":"orders","columns":[
      {"name":"id","type":"bigint","nullable":false}]})J")
                .status,
            201u);
  auto ingest = [&](int first) {
    std::string body = "[";
    for (int i = 0; i < 10; ++i)
      body += (i ? "," : "") + std::string("{\"id\":") + std::to_string(first + i) + "}";
    body += "]";
    auto r = c.post("/v1/products/shop/tables/orders/events", body);
    EXPECT_EQ(r.status, 202u) << r.body;
    return std::string(r.json().at("visibility_token").as_string());
  };
  auto count = [&](const std::string& token) {
    boost::json::object q{{"sql", "SELECT count(*), count(DISTINCT id) FROM orders"}};
    if (!token.empty()) q["min_visibility_token"] = token;
    auto r = c.post("/v1/products/shop/query", boost::json::serialize(q));
    EXPECT_EQ(r.status, 200u) << r.body;
    auto row = r.json().at("rows").at(0);
    return std::to_string(row.at(0).as_int64()) + "/" + std::to_string(row.at(1).as_int64());
  };
  std::string token;
  for (int batch = 0; batch < 5; ++batch) {
    token = ingest(batch * 10);
    count(token);  // one snapshot (one file) per batch
  }
  ASSERT_EQ(count(token), "50/50");

  auto run = [&](std::vector<std::string> args) { return run_on_data_dir(data, std::move(args)); };
  auto compact = run({"compact"});
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_NE(compact.out.find("shop.orders: compacted"), std::string::npos) << compact.out;
  EXPECT_EQ(count(""), "50/50");
  // The changes feed still lists every ingested row after the compaction.
  auto changes = c.get("/v1/products/shop/tables/orders/changes?from=0");
  ASSERT_EQ(changes.status, 200u) << changes.body;
  EXPECT_EQ(changes.header("x-row-count"), "50");
  token = ingest(100);  // the server still ingests into the compacted table
  EXPECT_EQ(count(token), "60/60");

  auto expire = run({"expire", "--retention-max-age-s", "0", "--retention-min-snapshots", "2"});
  ASSERT_EQ(expire.exit_code, 0) << expire.err;
  auto gc = run({"gc", "--gc-grace-s", "0"});
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("(unreferenced)"), std::string::npos) << gc.out;
  EXPECT_EQ(count(""), "60/60");

  // The commands that changed something are in the audit log, by who ran them.
  auto audit = c.get("/v1/audit?limit=20");
  ASSERT_EQ(audit.status, 200u) << audit.body;
  std::map<std::string, boost::json::object> by_action;
  const auto audit_json = audit.json();
  for (const auto& e : audit_json.at("entries").as_array()) {
    by_action[std::string(e.at("action").as_string())] = e.as_object();
  }
  ASSERT_TRUE(by_action.count("maintenance.compact")) << audit.body;
  ASSERT_TRUE(by_action.count("maintenance.expire")) << audit.body;
  ASSERT_TRUE(by_action.count("maintenance.gc")) << audit.body;
  EXPECT_EQ(std::string(by_action["maintenance.compact"].at("actor").as_string()).substr(0, 4),
            "cli:");
  EXPECT_EQ(by_action["maintenance.compact"].at("outcome").as_string(), "success");
  EXPECT_NE(boost::json::serialize(by_action["maintenance.compact"]).find("\"files_removed\":5"),
            std::string::npos)
      << audit.body;
  auto dry = run({"gc", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  auto after_dry = c.get("/v1/audit?limit=20");
  EXPECT_EQ(after_dry.json().at("entries").as_array().size(),
            audit.json().at("entries").as_array().size())
      << "a dry run is not audited";

  auto snapshots = c.get("/v1/products/shop/snapshots");
  ASSERT_EQ(snapshots.status, 200u) << snapshots.body;
  auto old = c.post("/v1/products/shop/query", R"({"sql":"SELECT 1","snapshot_id":1})");
  EXPECT_EQ(old.status, 404u) << old.body;
  EXPECT_NE(old.body.find("has expired; the oldest available is"), std::string::npos) << old.body;
  auto details = old.json().at("error").at("details");
  const auto oldest = details.at("oldest_snapshot_id").as_int64();
  EXPECT_GT(oldest, 1);
  auto incomplete = c.get("/v1/products/shop/tables/orders/changes?from=0");
  EXPECT_EQ(incomplete.status, 404u) << incomplete.body;
  EXPECT_NE(incomplete.body.find("no longer complete"), std::string::npos) << incomplete.body;
  auto recent = c.get("/v1/products/shop/tables/orders/changes?from=" + std::to_string(oldest - 1));
  EXPECT_EQ(recent.status, 200u) << recent.body;
  auto kept = c.post(
      "/v1/products/shop/query",
      "{\"sql\":\"SELECT count(*) FROM orders\",\"snapshot_id\":" + std::to_string(oldest) + "}");
  EXPECT_EQ(kept.status, 200u) << kept.body;
  auto before =
      c.post("/v1/products/shop/query", R"({"sql":"SELECT 1","as_of":"2001-01-01T00:00:00Z"})");
  EXPECT_EQ(before.status, 404u);
  EXPECT_NE(before.body.find("the oldest available is " + std::to_string(oldest)),
            std::string::npos)
      << before.body;
}

}  // namespace
}  // namespace duckmesh::testing
