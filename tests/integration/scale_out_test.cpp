// Several nodes on one PostgreSQL (catalog and bus) and one S3-compatible
// server, each started with its own --roles: API nodes that only accept and
// answer, coordinators that only commit. Real processes, a real kill -9 and a
// real PostgreSQL restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/postgres_server.hpp"
#include "support/s3_server.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

std::vector<std::string> shared_flags(const std::string& url, const S3Server& s3) {
  return {"--catalog", "postgres", "--catalog-url", url, "--catalog-pool-size", "3", "--bus",
          "postgres", "--bus-pool-size", "3", "--store", "s3", "--s3-endpoint", s3.endpoint(),
          "--s3-bucket", s3.bucket(), "--s3-access-key", "S3RVER", "--s3-secret-key", "S3RVER",
          "--onto-server-url", "http://127.0.0.1:9", "--commit-max-batch-age-ms", "50",
          // A crashed coordinator's tables move to another after 3 s.
          "--commit-lease-ms", "3000", "--maintenance-enabled", "false"};
}

std::vector<std::string> with(std::vector<std::string> flags,
                              const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

std::string batch(int first, int count) {
  std::string body = "[";
  for (int id = first; id < first + count; ++id) {
    if (id > first) body += ",";
    body +=
        R"({"_idempotency_key":"k)" + std::to_string(id) + R"(","id":)" + std::to_string(id) + "}";
  }
  return body + "]";
}

// Sends one batch until some answer acknowledges it (retries keep the keys,
// so a batch acknowledged twice is written once); returns its token.
std::string send_until_acknowledged(unsigned short port, const std::string& table,
                                    const std::string& body, std::atomic<int>& failures) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      HttpClient c("127.0.0.1", port);
      auto r = c.post("/v1/products/shop/tables/" + table + "/events", body);
      if (r.status == 200 || r.status == 202) {
        return std::string(r.json().at("visibility_token").as_string());
      }
      if (r.status != 503 && r.status != 429) {
        ADD_FAILURE() << "unexpected answer " << r.status << ": " << r.body;
        return "";
      }
    } catch (const std::exception&) {
      // The connection broke; the batch may or may not be in: retry.
    }
    ++failures;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "a batch was not acknowledged within 120 s";
  return "";
}

struct Counts {
  std::int64_t rows = -1;
  std::int64_t distinct_ids = -1;
};

Counts count(unsigned short port, const std::string& table) {
  HttpClient c("127.0.0.1", port);
  auto q = c.post("/v1/products/shop/query",
                  R"({"sql":"SELECT count(*), count(DISTINCT id) FROM )" + table + R"("})");
  EXPECT_EQ(q.status, 200u) << q.body;
  if (q.status != 200) return {};
  const auto& row = q.json().at("rows").at(0).as_array();
  return {row.at(0).to_number<std::int64_t>(), row.at(1).to_number<std::int64_t>()};
}

// Waits (in the server) until the write behind `token` is visible.
void wait_visible(unsigned short port, const std::string& token) {
  HttpClient c("127.0.0.1", port);
  auto q = c.post("/v1/products/shop/query", R"({"sql":"SELECT 1","min_visibility_token":")" +
                                                 token + R"(","wait_timeout_ms":60000})");
  EXPECT_EQ(q.status, 200u) << q.body;
}

TEST(ScaleOut, TwoApiNodesAndTwoCoordinatorsSurviveACoordinatorKillAndAPostgresRestart) {
  TempDir dir;
  PostgresServer pg;
  const std::string url = pg.create_database("scale");
  S3Server s3(dir.path() / "s3", "lake");
  const auto flags = shared_flags(url, s3);

  ServiceProcess api1(dir.path() / "api1", with(flags, {"--roles", "api", "--node-id", "api1"}));
  ServiceProcess api2(dir.path() / "api2", with(flags, {"--roles", "api", "--node-id", "api2"}));
  // The first coordinator kills itself after writing its fifth data file:
  // mid-batch, files in the store, nothing published for them.
  auto c1 = std::make_unique<ServiceProcess>(
      dir.path() / "c1", with(flags, {"--roles", "coordinator", "--node-id", "c1"}),
      std::map<std::string, std::string>{{"DUCKMESH_FAULT", "after_parquet_write@5"}});

  HttpClient admin("127.0.0.1", api1.port());
  ASSERT_EQ(admin.post("/v1/products", R"({"name":"shop"})").status, 201u);
  for (const char* table : {"orders", "clicks"}) {
    auto t = admin.post("/v1/products/shop/tables",
                        std::string(R"({"name":")") + table +
                            R"(","kind":"append","columns":[{"name":"id","type":"bigint"}]})");
    ASSERT_EQ(t.status, 201u) << t.body;
  }
  // An API-only node answers monitoring, and says what it does.
  auto health = HttpClient("127.0.0.1", api2.port()).get("/monitoring/health");
  EXPECT_NE(health.body.find(R"("roles":"api")"), std::string::npos) << health.body;
  // A coordinator-only node serves no product API.
  EXPECT_EQ(HttpClient("127.0.0.1", c1->port()).get("/v1/products").status, 404u);

  // Four clients, two on each API node, each sending its own ids in batches
  // of 25 to both tables in turn: at least kBatches each, and on until the
  // PostgreSQL outage below is over, so that some are sent across it however
  // fast or slow the machine is (clients that had all finished before it
  // would leave nothing for it to refuse).
  constexpr int kClients = 4, kBatches = 40, kBatchSize = 25, kMaxBatches = 5000;
  std::atomic<int> sent{0}, failures{0};
  std::atomic<bool> outage_over{false};
  std::mutex mu;
  std::map<std::string, std::set<int>> acknowledged;  // table -> ids
  std::vector<std::string> last_tokens(kClients);
  std::vector<std::thread> clients;
  // Joined on the way out too: if a helper below throws (a process that
  // does not start, PostgreSQL that does not come back), the test fails
  // with that error instead of aborting on a joinable thread.
  struct JoinClients {
    std::vector<std::thread>& threads;
    ~JoinClients() {
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_clients{clients};
  // Ends the clients' run before they are joined however the test ends, or
  // they would send to their cap.
  struct EndOutage {
    std::atomic<bool>& over;
    ~EndOutage() { over = true; }
  } end_outage{outage_over};
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      const unsigned short port = client % 2 == 0 ? api1.port() : api2.port();
      for (int b = 0; b < kMaxBatches && (b < kBatches || !outage_over.load()); ++b) {
        const std::string table = b % 2 == 0 ? "orders" : "clicks";
        const int first = (client * kMaxBatches + b) * kBatchSize;
        auto token = send_until_acknowledged(port, table, batch(first, kBatchSize), failures);
        if (token.empty()) return;
        {
          std::lock_guard lock(mu);
          for (int id = first; id < first + kBatchSize; ++id) acknowledged[table].insert(id);
          last_tokens[client] = token;
        }
        ++sent;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }

  // The first coordinator dies by itself once it has written five files.
  EXPECT_EQ(c1->wait(std::chrono::seconds(60)), -SIGKILL) << c1->logs();
  // Two coordinators again: a fresh one and the first one restarted.
  ServiceProcess c2(dir.path() / "c2", with(flags, {"--roles", "coordinator", "--node-id", "c2"}));
  c1 = std::make_unique<ServiceProcess>(
      dir.path() / "c1", with(flags, {"--roles", "coordinator", "--node-id", "c1-again"}));

  // PostgreSQL goes away for two seconds in the middle of the ingest.
  const auto until_half = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (sent.load() < kClients * kBatches / 2 && std::chrono::steady_clock::now() < until_half) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pg.stop();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  pg.start();
  outage_over = true;

  for (auto& t : clients) t.join();
  ASSERT_GE(sent.load(), kClients * kBatches);
  ASSERT_LT(sent.load(), kClients * kMaxBatches) << "the clients stopped at their cap";
  EXPECT_GT(failures.load(), 0) << "the restart should have refused some requests";

  // Every client's last write becomes visible through either API node (each
  // follows the watermark the coordinators advance in the catalog) ...
  for (const auto& token : last_tokens) {
    for (unsigned short port : {api1.port(), api2.port()}) wait_visible(port, token);
  }
  // ... and then every acknowledged event is there exactly once.
  for (const char* table : {"orders", "clicks"}) {
    const auto expected = static_cast<std::int64_t>(acknowledged[table].size());
    EXPECT_GE(expected, kClients * kBatches / 2 * kBatchSize);
    for (unsigned short port : {api1.port(), api2.port()}) {
      auto got = count(port, table);
      EXPECT_EQ(got.rows, expected) << table << " via port " << port;
      EXPECT_EQ(got.distinct_ids, expected) << table << " via port " << port;
    }
  }
}

// Two API nodes on one PostgreSQL (catalog and bus) and one S3-compatible
// server, with the product "shop" and its append table "orders" (id
// BIGINT); a coordinator joins when the test starts one.
struct TwoApiNodes {
  TempDir dir;
  PostgresServer pg;
  S3Server s3{dir.path() / "s3", "lake"};
  std::vector<std::string> flags;
  std::unique_ptr<ServiceProcess> api1, api2, coordinator;

  TwoApiNodes(const std::string& database, const std::vector<std::string>& more)
      : flags(with(shared_flags(pg.create_database(database), s3), more)) {
    api1 = std::make_unique<ServiceProcess>(dir.path() / "api1",
                                            with(flags, {"--roles", "api", "--node-id", "api1"}));
    api2 = std::make_unique<ServiceProcess>(dir.path() / "api2",
                                            with(flags, {"--roles", "api", "--node-id", "api2"}));
    HttpClient c("127.0.0.1", api1->port());
    if (c.post("/v1/products", R"({"name":"shop"})").status != 201 ||
        c.post("/v1/products/shop/tables",
               R"({"name":"orders","kind":"append","columns":[{"name":"id","type":"bigint"}]})")
                .status != 201) {
      throw std::runtime_error("creating the product and its table failed");
    }
  }
  void start_coordinator() {
    coordinator = std::make_unique<ServiceProcess>(
        dir.path() / "c1", with(flags, {"--roles", "coordinator", "--node-id", "c1"}));
  }
};

// The daily event quota holds across API nodes: each counts what the others
// committed (read again every --quota-refresh-ms), and its own events once,
// whether still waiting to be committed or committed.
TEST(ScaleOut, DailyEventQuotaCountsWhatEveryNodeCommitted) {
  TwoApiNodes nodes("quota", {"--quota-events-per-day", "10", "--quota-refresh-ms", "200"});
  nodes.start_coordinator();
  HttpClient one("127.0.0.1", nodes.api1->port());
  HttpClient two("127.0.0.1", nodes.api2->port());
  auto used_today = [](HttpClient& node) {
    auto r = node.get("/v1/products/shop/quota");
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.json().at("events_per_day").at("used_today").to_number<int>();
  };
  auto ingest = [](HttpClient& node, int first, int count) {
    return node.post("/v1/products/shop/tables/orders/events", batch(first, count));
  };
  auto until_used = [&](HttpClient& node, int expected) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int used = used_today(node);
    while (used != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      used = used_today(node);
    }
    return used;
  };
  // The second node has counted the day (nothing) before the first accepts.
  EXPECT_EQ(used_today(two), 0);

  auto six = ingest(one, 0, 6);
  ASSERT_TRUE(six.status == 200 || six.status == 202) << six.body;
  wait_visible(nodes.api1->port(), std::string(six.json().at("visibility_token").as_string()));
  // Committed, the first node's six are counted once on both nodes.
  EXPECT_EQ(until_used(two, 6), 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // two reads of the catalog
  EXPECT_EQ(used_today(one), 6);

  auto over = ingest(two, 6, 5);
  ASSERT_EQ(over.status, 429u) << over.body;
  EXPECT_EQ(over.json().at("error").at("details").at("used").to_number<int>(), 6);
  auto four = ingest(two, 6, 4);  // exactly at the quota
  ASSERT_TRUE(four.status == 200 || four.status == 202) << four.body;
  // Not committed yet, the four count on the second node at once...
  EXPECT_EQ(used_today(two), 10);
  wait_visible(nodes.api2->port(), std::string(four.json().at("visibility_token").as_string()));
  // ...and on the first once committed.
  EXPECT_EQ(until_used(one, 10), 10);
  auto last = ingest(one, 10, 1);
  EXPECT_EQ(last.status, 429u) << last.body;
  EXPECT_EQ(count(nodes.api1->port(), "orders").rows, 10);
}

// A retry sent to another API node before the events are committed gets
// the answer the first node would give: duplicates, and a token covering
// the first publish; the events are written once.
TEST(ScaleOut, ARetryOnAnotherNodeBeforeTheCommitIsADuplicate) {
  TwoApiNodes nodes("retry", {});
  HttpClient one("127.0.0.1", nodes.api1->port());
  HttpClient two("127.0.0.1", nodes.api2->port());
  // No coordinator yet: nothing is committed while the retry comes.
  auto first = one.post("/v1/products/shop/tables/orders/events", batch(0, 5));
  ASSERT_EQ(first.status, 202u) << first.body;
  EXPECT_EQ(first.json().at("accepted").to_number<int>(), 5);
  auto retry = two.post("/v1/products/shop/tables/orders/events", batch(0, 5));
  ASSERT_EQ(retry.status, 202u) << retry.body;
  EXPECT_EQ(retry.json().at("accepted").to_number<int>(), 0) << retry.body;
  EXPECT_EQ(retry.json().at("duplicates").to_number<int>(), 5) << retry.body;
  EXPECT_EQ(retry.json().at("visibility_token"), first.json().at("visibility_token"));
  // Part new, part retried: only the new events are accepted.
  auto mixed = two.post("/v1/products/shop/tables/orders/events", batch(3, 4));
  ASSERT_EQ(mixed.status, 202u) << mixed.body;
  EXPECT_EQ(mixed.json().at("accepted").to_number<int>(), 2) << mixed.body;
  EXPECT_EQ(mixed.json().at("duplicates").to_number<int>(), 2) << mixed.body;

  nodes.start_coordinator();
  wait_visible(nodes.api2->port(), std::string(mixed.json().at("visibility_token").as_string()));
  const Counts rows = count(nodes.api1->port(), "orders");
  EXPECT_EQ(rows.rows, 7);
  EXPECT_EQ(rows.distinct_ids, 7);
  // Committed now: a retry on either node is found in the catalog.
  auto late = two.post("/v1/products/shop/tables/orders/events", batch(0, 7));
  ASSERT_TRUE(late.status == 200 || late.status == 202) << late.body;
  EXPECT_EQ(late.json().at("duplicates").to_number<int>(), 7) << late.body;
}

// A request with an Idempotency-Key header retried on another node gets
// the first node's answer back, and that node refuses the key for another
// batch.
TEST(ScaleOut, AnIdempotencyKeyAnswerIsTheSameOnEveryNode) {
  TwoApiNodes nodes("request_key", {});
  HttpClient one("127.0.0.1", nodes.api1->port());
  HttpClient two("127.0.0.1", nodes.api2->port());
  const std::string path = "/v1/products/shop/tables/orders/events";
  const std::string body = R"([{"id":1},{"id":2},{"id":3}])";
  auto first = one.post(path, body, {{"Idempotency-Key", "request-1"}});
  ASSERT_EQ(first.status, 202u) << first.body;
  EXPECT_EQ(first.json().at("accepted").to_number<int>(), 3);
  auto retry = two.post(path, body, {{"Idempotency-Key", "request-1"}});
  ASSERT_EQ(retry.status, 202u) << retry.body;
  EXPECT_TRUE(retry.json().at("replayed").as_bool()) << retry.body;
  EXPECT_EQ(retry.json().at("accepted").to_number<int>(), 3) << retry.body;
  EXPECT_EQ(retry.json().at("duplicates").to_number<int>(), 0) << retry.body;
  EXPECT_EQ(retry.json().at("visibility_token"), first.json().at("visibility_token"));
  auto reused = two.post(path, R"([{"id":9}])", {{"Idempotency-Key", "request-1"}});
  ASSERT_EQ(reused.status, 422u) << reused.body;
  EXPECT_EQ(reused.json().at("error").at("details").at("field").as_string(), "Idempotency-Key");

  nodes.start_coordinator();
  wait_visible(nodes.api2->port(), std::string(first.json().at("visibility_token").as_string()));
  EXPECT_EQ(count(nodes.api1->port(), "orders").rows, 3);
}

TEST(ScaleOut, PartialRolesNeedTheSharedBus) {
  auto r = run_binary({"serve", "--roles", "api", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("bus"), std::string::npos) << r.err;
  auto bad = run_binary({"serve", "--roles", "api,indexer", "--listen", "127.0.0.1:0"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown role 'indexer'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace duckmesh::testing
