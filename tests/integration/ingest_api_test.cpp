// Products, tables and ingest over HTTP against the real binary.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <regex>
#include <thread>

#include "catalog/sqlite/sqlite_catalog.hpp"
#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

using boost::beast::http::verb;

const char* kOrders = R"J({
  "name": "orders",
  "kind": "append",
  "columns": [
    {"name": "id", "type": "varchar", "nullable": false},
    {"name": "amount", "type": "decimal(12,2)", "constraints": {"minimum": 0}},
    {"name": "status", "type": "varchar", "enum": ["NEW", "PAID"]},
    {"name": "at", "type": "timestamp"}
  ]
})J";

std::string gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(static_cast<uLong>(in.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string events(int first, int count, const std::string& prefix = "o") {
  std::string body = "[";
  for (int i = first; i < first + count; ++i) {
    if (i > first) body += ",";
    body += R"({"id":")" + prefix + std::to_string(i) + R"(","amount":)" + std::to_string(i) +
            R"(.5,"status":"NEW","at":"2026-11-25T10:00:00Z"})";
  }
  return body + "]";
}

class IngestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = std::make_unique<ServiceProcess>(dir_.path() / "data", extra_args());
    auto c = client();
    ASSERT_EQ(
        c.post("/v1/products", R"({"name":"shop","description":"a shop","owner":"team-a"})").status,
        201u);
    auto t = c.post("/v1/products/shop/tables", kOrders);
    ASSERT_EQ(t.status, 201u) << t.body;
  }
  virtual std::vector<std::string> extra_args() { return {}; }
  HttpClient client() { return HttpClient("127.0.0.1", service_->port()); }
  std::int64_t row_count() {
    return client().get("/v1/products/shop/tables/orders").json().at("row_count").as_int64();
  }

  TempDir dir_;
  std::unique_ptr<ServiceProcess> service_;
};

TEST_F(IngestApiTest, ProductsAreCreatedListedAndRefusedClearly) {
  auto c = client();
  auto dup = c.post("/v1/products", R"({"name":"shop"})");
  EXPECT_EQ(dup.status, 409u);
  EXPECT_EQ(dup.json().at("error").at("code").as_string(), "conflict");
  auto bad = c.post("/v1/products", R"({"name":"Bad Name!"})");
  EXPECT_EQ(bad.status, 400u) << bad.body;
  auto missing = c.post("/v1/products", R"({"description":"no name"})");
  EXPECT_EQ(missing.status, 400u);
  EXPECT_EQ(missing.json().at("error").at("details").at("field").as_string(), "name");
  // "shop" beside the default product the server creates from the ontology.
  auto list = c.get("/v1/products").json().at("products").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("name").as_string(), "default");
  EXPECT_EQ(list[1].at("owner").as_string(), "team-a");
  auto one = c.get("/v1/products/shop").json();
  EXPECT_EQ(one.at("tables").as_int64(), 1);
  EXPECT_EQ(c.get("/v1/products/nope").status, 404u);
}

TEST_F(IngestApiTest, TableDefinitionsAreCheckedFieldByField) {
  auto c = client();
  auto expect_field = [&](const std::string& body, const std::string& field) {
    auto r = c.post("/v1/products/shop/tables", body);
    EXPECT_EQ(r.status, 400u) << body << " -> " << r.body;
    if (r.status == 400u) {
      auto details = r.json().at("error").at("details").as_object();
      EXPECT_EQ(details.at("field").as_string(), field) << r.body;
    }
  };
  expect_field(R"({"name":"t1","columns":[{"name":"a","type":"blob"}]})", "type");
  expect_field(R"({"name":"t1","kind":"keyed","columns":[{"name":"a","type":"int"}]})",
               "primary_key");
  expect_field(R"({"name":"t1","kind":"weird","columns":[{"name":"a","type":"int"}]})", "kind");
  expect_field(
      R"({"name":"t1","columns":[{"name":"a","type":"int"}],"partition_by":{"column":"a","transform":"day"}})",
      "partition_by.transform");
  expect_field(R"({"name":"t1","columns":[{"name":"a","type":"int"}],"extra":1})", "extra");
  expect_field(R"({"name":"drop table","columns":[{"name":"a","type":"int"}]})", "name");
  auto dup = c.post("/v1/products/shop/tables", kOrders);
  EXPECT_EQ(dup.status, 409u);
  auto keyed =
      c.post("/v1/products/shop/tables", R"J({"name":"accounts","kind":"keyed","primary_key":["id"],
      "columns":[{"name":"id","type":"bigint"},{"name":"tags","type":"varchar[]"},{"name":"d","type":"date"},
                 {"name":"ts","type":"timestamptz"},{"name":"u","type":"uuid"},{"name":"j","type":"json"},
                 {"name":"b","type":"boolean"},{"name":"x","type":"double"},{"name":"n","type":"integer"}]})J");
  ASSERT_EQ(keyed.status, 201u) << keyed.body;
  EXPECT_EQ(keyed.json().at("primary_key").as_array().at(0).as_string(), "id");
  auto tables = c.get("/v1/products/shop/tables").json().at("tables").as_array();
  EXPECT_EQ(tables.size(), 2u);
}

TEST_F(IngestApiTest, NumbersComeBackAsTheyWereWritten) {
  auto c = client();
  auto created = c.post("/v1/products/shop/tables", R"J({"name":"readings","columns":[
      {"name":"v","type":"double","constraints":{"minimum":0.5,"maximum":100}}]})J");
  ASSERT_EQ(created.status, 201u) << created.body;
  auto table = c.get("/v1/products/shop/tables/readings");
  ASSERT_EQ(table.status, 200u) << table.body;
  EXPECT_NE(table.body.find(R"("constraints":{"minimum":0.5,"maximum":100})"), std::string::npos)
      << table.body;
  // Fractions (percentages, seconds, milliseconds) in plain decimal form,
  // not as 3.9E1.
  const std::regex exponent_form(R"([:,\[]-?[0-9.]+[eE])");  // a number token, not a string
  for (const char* path : {"/monitoring/health", "/monitoring/metrics/system"}) {
    auto r = c.get(path);
    EXPECT_FALSE(std::regex_search(r.body, exponent_form)) << path << ": " << r.body;
  }
}

TEST_F(IngestApiTest, JsonArrayIsAcceptedAndBecomesVisible) {
  auto c = client();
  auto r =
      c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true&timeout_ms=10000",
             events(0, 10));
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = r.json().as_object();
  EXPECT_EQ(body.at("accepted").as_int64(), 10);
  EXPECT_EQ(body.at("duplicates").as_int64(), 0);
  EXPECT_TRUE(body.at("rejected").as_array().empty());
  EXPECT_TRUE(body.at("visible").as_bool());
  EXPECT_TRUE(body.at("snapshot_id").is_int64());
  EXPECT_EQ(row_count(), 10);
  std::string token(body.at("visibility_token").as_string());
  auto v = c.get("/v1/products/shop/visibility/" + token).json();
  EXPECT_TRUE(v.at("visible").as_bool());
  EXPECT_EQ(v.at("snapshot_id"), body.at("snapshot_id"));
  auto table = c.get("/v1/products/shop/tables/orders").json();
  EXPECT_EQ(table.at("file_count").as_int64(), 1);
  EXPECT_GT(table.at("bytes").as_int64(), 0);
  EXPECT_EQ(c.get("/v1/products/shop/visibility/garbage").status, 400u);
}

TEST_F(IngestApiTest, NdjsonEventsObjectAndGzipAreAccepted) {
  auto c = client();
  std::string ndjson = R"({"id":"n1","amount":1})"
                       "\n\n"
                       R"({"id":"n2","amount":2})"
                       "\n";
  auto r1 = c.post("/v1/products/shop/tables/orders/events", ndjson,
                   {{"Content-Type", "application/x-ndjson"}});
  EXPECT_EQ(r1.status, 202u) << r1.body;
  EXPECT_EQ(r1.json().at("accepted").as_int64(), 2);
  auto r2 = c.post("/v1/products/shop/tables/orders/events", R"({"events":[{"id":"e1"}]})");
  EXPECT_EQ(r2.json().at("accepted").as_int64(), 1) << r2.body;
  auto r3 = c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true",
                   gzip(events(0, 5, "g")), {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(r3.status, 200u) << r3.body;
  EXPECT_EQ(row_count(), 8);
  auto bad_type =
      c.post("/v1/products/shop/tables/orders/events", "a,b", {{"Content-Type", "text/csv"}});
  EXPECT_EQ(bad_type.status, 400u);
  auto bad_zip =
      c.post("/v1/products/shop/tables/orders/events", "not gzip", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(bad_zip.status, 400u);
}

TEST_F(IngestApiTest, AtomicBatchRefusesEverythingAndNamesEachBadEvent) {
  auto c = client();
  std::string body =
      R"([{"id":"a1","amount":1},{"id":"a2","amount":-5},{"amount":3},{"id":"a4","status":"LOST"},
                         {"id":"a5","colour":"red"}])";
  auto r = c.post("/v1/products/shop/tables/orders/events", body);
  ASSERT_EQ(r.status, 422u) << r.body;
  auto error = r.json().at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "unprocessable");
  auto rejected = error.at("details").at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 4u);
  EXPECT_EQ(rejected[0].at("index").as_int64(), 1);
  EXPECT_EQ(rejected[0].at("field").as_string(), "amount");
  EXPECT_EQ(rejected[1].at("index").as_int64(), 2);
  EXPECT_EQ(rejected[1].at("field").as_string(), "id");
  EXPECT_EQ(rejected[2].at("field").as_string(), "status");
  EXPECT_EQ(rejected[3].at("field").as_string(), "colour");
  // Nothing of the batch was accepted.
  c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true", events(100, 1));
  EXPECT_EQ(row_count(), 1);

  auto partial =
      c.post("/v1/products/shop/tables/orders/events?atomic=false&wait_for_visibility=true", body);
  ASSERT_EQ(partial.status, 200u) << partial.body;
  EXPECT_EQ(partial.json().at("accepted").as_int64(), 1);
  EXPECT_EQ(partial.json().at("rejected").as_array().size(), 4u);
  EXPECT_EQ(row_count(), 2);
}

TEST_F(IngestApiTest, RetriesWithTheSameKeysWriteNothingTwice) {
  auto c = client();
  auto first = c.post("/v1/products/shop/tables/orders/events", events(0, 20),
                      {{"Idempotency-Key", "batch-1"}});
  ASSERT_EQ(first.status, 202u) << first.body;
  auto again = c.post("/v1/products/shop/tables/orders/events", events(0, 20),
                      {{"Idempotency-Key", "batch-1"}});
  ASSERT_EQ(again.status, 202u);
  EXPECT_EQ(again.json().at("visibility_token"), first.json().at("visibility_token"));
  EXPECT_EQ(again.json().at("accepted"), first.json().at("accepted"));
  EXPECT_TRUE(again.json().at("replayed").as_bool());
  // The same request gzip-compressed is the same request.
  auto zipped = c.post("/v1/products/shop/tables/orders/events", gzip(events(0, 20)),
                       {{"Idempotency-Key", "batch-1"}, {"Content-Encoding", "gzip"}});
  ASSERT_EQ(zipped.status, 202u) << zipped.body;
  EXPECT_TRUE(zipped.json().at("replayed").as_bool());
  // So is it with atomic=false (a client re-run that now takes the valid
  // events of each batch): these events' fate is the first answer.
  auto relaxed = c.post("/v1/products/shop/tables/orders/events?atomic=false", events(0, 20),
                        {{"Idempotency-Key", "batch-1"}});
  ASSERT_EQ(relaxed.status, 202u) << relaxed.body;
  EXPECT_TRUE(relaxed.json().at("replayed").as_bool());
  // The key reused for another batch is refused: answering with the first
  // batch's outcome would report events as accepted that never were.
  for (const auto& [type, body] :
       {std::pair<std::string, std::string>{"application/json", events(100, 5)},
        std::pair<std::string, std::string>{"application/x-ndjson", "{\"id\":\"n1\"}\n"}}) {
    auto reused = c.post("/v1/products/shop/tables/orders/events", body,
                         {{"Idempotency-Key", "batch-1"}, {"Content-Type", type}});
    ASSERT_EQ(reused.status, 422u) << type << " -> " << reused.body;
    EXPECT_EQ(reused.json().at("error").at("details").at("field").as_string(), "Idempotency-Key");
  }
  // Per-event keys: two of these three were sent before.
  std::string keyed =
      R"([{"id":"k1","_idempotency_key":"k1"},{"id":"k2","_idempotency_key":"k2"}])";
  auto k1 = c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true", keyed);
  EXPECT_EQ(k1.json().at("accepted").as_int64(), 2) << k1.body;
  std::string keyed2 =
      R"([{"id":"k1","_idempotency_key":"k1"},{"id":"k2","_idempotency_key":"k2"},{"id":"k3","_idempotency_key":"k3"}])";
  auto k2 = c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true", keyed2);
  EXPECT_EQ(k2.json().at("accepted").as_int64(), 1) << k2.body;
  EXPECT_EQ(k2.json().at("duplicates").as_int64(), 2);
  EXPECT_EQ(row_count(), 23);
}

// The answer to an Idempotency-Key request is kept in the catalog: after a
// crash the retry still gets it (not "all duplicates"), and the key still
// refuses another batch.
TEST_F(IngestApiTest, AnIdempotencyKeyAnswerOutlivesACrash) {
  const std::string batch = "[" + events(0, 3).substr(1, events(0, 3).size() - 2) +
                            R"(,{"id":"bad","amount":"not a number"}])";
  const std::string path = "/v1/products/shop/tables/orders/events?atomic=false";
  auto first = client().post(path, batch, {{"Idempotency-Key", "batch-r"}});
  ASSERT_EQ(first.status, 202u) << first.body;
  ASSERT_EQ(first.json().at("accepted").as_int64(), 3) << first.body;
  ASSERT_EQ(first.json().at("rejected").as_array().size(), 1u);

  service_->signal(SIGKILL);
  service_->wait();
  service_ = std::make_unique<ServiceProcess>(dir_.path() / "data", extra_args());

  auto again = client().post(path, batch, {{"Idempotency-Key", "batch-r"}});
  ASSERT_EQ(again.status, 202u) << again.body;
  EXPECT_TRUE(again.json().at("replayed").as_bool()) << again.body;
  for (const char* field : {"total", "accepted", "duplicates", "rejected", "visibility_token"}) {
    EXPECT_EQ(again.json().at(field), first.json().at(field)) << field;
  }
  auto reused = client().post(path, events(50, 2), {{"Idempotency-Key", "batch-r"}});
  ASSERT_EQ(reused.status, 422u) << reused.body;
  EXPECT_EQ(reused.json().at("error").at("details").at("field").as_string(), "Idempotency-Key");
  auto last = client().post(
      "/v1/products/shop/tables/orders/events?wait_for_visibility=true&timeout_ms=30000",
      events(0, 1, "last-"));
  ASSERT_EQ(last.status, 200u) << last.body;
  EXPECT_EQ(row_count(), 4);
}

// A stored answer this build cannot read (written by another version, say)
// does not fail the request: it is processed as new, its events once.
TEST_F(IngestApiTest, AnUnreadableStoredAnswerIsNotAnError) {
  {
    catalog::SqliteCatalogOptions options;
    options.path = (dir_.path() / "data" / "catalog.sqlite").string();
    catalog::SqliteCatalog catalog(options);
    catalog.remember_requests({{"shop", "orders", "odd-key", {42, R"({"accepted":"many"})"}}});
  }
  const std::string path = "/v1/products/shop/tables/orders/events";
  auto first = client().post(path, events(0, 2), {{"Idempotency-Key", "odd-key"}});
  ASSERT_EQ(first.status, 202u) << first.body;
  EXPECT_EQ(first.json().at("accepted").as_int64(), 2) << first.body;
  EXPECT_FALSE(first.json().at("replayed").as_bool());
  auto again = client().post(path, events(0, 2), {{"Idempotency-Key", "odd-key"}});
  ASSERT_EQ(again.status, 202u) << again.body;
  EXPECT_TRUE(again.json().at("replayed").as_bool()) << again.body;
  auto last =
      client().post(path + "?wait_for_visibility=true&timeout_ms=30000", events(0, 1, "last-"));
  ASSERT_EQ(last.status, 200u) << last.body;
  EXPECT_EQ(row_count(), 3);
}

TEST_F(IngestApiTest, WaitTimeoutAnswers202WithAToken) {
  auto r = client().post(
      "/v1/products/shop/tables/orders/events?wait_for_visibility=true&timeout_ms=0", events(0, 3));
  EXPECT_EQ(r.status, 202u) << r.body;
  EXPECT_FALSE(r.json().at("visible").as_bool());
  EXPECT_FALSE(r.json().at("visibility_token").as_string().empty());
}

TEST_F(IngestApiTest, UnknownTableAndDroppedTableAre404) {
  auto c = client();
  EXPECT_EQ(c.post("/v1/products/shop/tables/nope/events", events(0, 1)).status, 404u);
  EXPECT_EQ(c.post("/v1/products/none/tables/orders/events", events(0, 1)).status, 404u);
  auto drop = c.request(verb::delete_, "/v1/products/shop/tables/orders");
  EXPECT_EQ(drop.status, 200u) << drop.body;
  EXPECT_EQ(c.post("/v1/products/shop/tables/orders/events", events(0, 1)).status, 404u);
  EXPECT_EQ(c.get("/v1/products/shop/tables/orders").status, 404u);
}

// Keys and Idempotency-Key answers are remembered for idempotency_window_s.
class ShortIdempotencyWindowTest : public IngestApiTest {
 protected:
  std::vector<std::string> extra_args() override { return {"--idempotency-window-s", "1"}; }
};

TEST_F(ShortIdempotencyWindowTest, KeysAndAnswersAreForgottenAfterTheWindow) {
  const std::string path =
      "/v1/products/shop/tables/orders/events?wait_for_visibility=true&timeout_ms=30000";
  const std::string keyed = R"([{"id":"w1","_idempotency_key":"w1"}])";
  ASSERT_EQ(client().post(path, keyed).status, 200u);
  auto first = client().post(path, events(0, 2), {{"Idempotency-Key", "window-1"}});
  ASSERT_EQ(first.status, 200u) << first.body;
  // Within the window: a duplicate, and a replay.
  EXPECT_EQ(client().post(path, keyed).json().at("duplicates").as_int64(), 1);
  // Restarted, so that the answer can only come from the catalog.
  service_->signal(SIGKILL);
  service_->wait();
  service_ = std::make_unique<ServiceProcess>(dir_.path() / "data", extra_args());
  auto replay = client().post(path, events(0, 2), {{"Idempotency-Key", "window-1"}});
  EXPECT_TRUE(replay.json().at("replayed").as_bool()) << replay.body;

  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  service_->signal(SIGKILL);
  service_->wait();
  service_ = std::make_unique<ServiceProcess>(dir_.path() / "data", extra_args());
  auto again = client().post(path, keyed);
  EXPECT_EQ(again.json().at("accepted").as_int64(), 1) << again.body;
  auto later = client().post(path, events(0, 2), {{"Idempotency-Key", "window-1"}});
  EXPECT_FALSE(later.json().at("replayed").as_bool()) << later.body;
  EXPECT_EQ(later.json().at("accepted").as_int64(), 2) << later.body;
  EXPECT_EQ(row_count(), 6);
}

class BackpressureTest : public IngestApiTest {
  std::vector<std::string> extra_args() override {
    return {"--ingest-max-backlog",      "10",      "--commit-max-batch-age-ms", "600000",
            "--commit-max-batch-events", "1000000", "--body-limit-bytes",        "4096"};
  }
};

TEST_F(BackpressureTest, FullBacklogAnswers503WithRetryAfterAndLargeBodies413) {
  auto c = client();
  ASSERT_EQ(c.post("/v1/products/shop/tables/orders/events", events(0, 12)).status, 202u);
  auto r = c.post("/v1/products/shop/tables/orders/events", events(20, 1));
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(r.json().at("error").at("code").as_string(), "unavailable");
  auto big = c.post("/v1/products/shop/tables/orders/events", events(0, 200));
  EXPECT_EQ(big.status, 413u);
}

class MemoryBackpressureTest : public IngestApiTest {
  // Any running service holds more than 1 MB.
  std::vector<std::string> extra_args() override { return {"--ingest-max-memory", "1MB"}; }
};

TEST_F(MemoryBackpressureTest, MemoryAboveTheLimitAnswers503WithRetryAfter) {
  auto c = client();
  auto r = c.post("/v1/products/shop/tables/orders/events", events(0, 3));
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(r.header("retry-after"), "1");
  const auto body = r.json();
  const auto& error = body.at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "unavailable");
  EXPECT_NE(std::string(error.at("message").as_string()).find("ingest_max_memory"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(error.at("details").at("limit").to_number<std::int64_t>(), 1'000'000);
  EXPECT_GT(error.at("details").at("memory_bytes").to_number<std::int64_t>(), 1'000'000);
  // Nothing was published; reads still work.
  auto table = c.get("/v1/products/shop/tables/orders");
  ASSERT_EQ(table.status, 200u) << table.body;
  EXPECT_EQ(table.json().at("row_count").to_number<std::int64_t>(), 0);
  // Health says why ingest sheds.
  auto health = c.get("/monitoring/health");
  EXPECT_EQ(health.status, 503u) << health.body;
  const auto checks = health.json().at("checks");
  EXPECT_EQ(checks.at("memory").at("status").as_string(), "unhealthy") << health.body;
  EXPECT_EQ(checks.at("memory").at("limit_bytes").to_number<std::int64_t>(), 1'000'000);
  EXPECT_EQ(checks.at("bus").at("status").as_string(), "healthy") << health.body;
}

std::int64_t resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  ADD_FAILURE() << "no VmRSS for " << pid;
  return 0;
}

// After a burst of ingest the memory it freed goes back to the system within
// seconds, instead of staying resident at the burst's peak (where
// ingest_max_memory would count it).
TEST_F(IngestApiTest, MemoryFreedAfterABurstGoesBackToTheSystem) {
  const pid_t pid = service_->pid();
  const std::int64_t before = resident_kib(pid);
  // The peak is sampled throughout: the service may already give memory
  // back while the burst is still being committed.
  std::atomic<bool> sampling{true};
  std::atomic<std::int64_t> peak{before};
  std::thread sampler([&] {
    while (sampling) {
      peak = std::max(peak.load(), resident_kib(pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  constexpr int kThreads = 4, kRequests = 10, kEvents = 10'000;
  std::vector<std::thread> senders;
  std::atomic<int> accepted{0};
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      auto c = client();
      for (int r = 0; r < kRequests; ++r) {
        int first = (t * kRequests + r) * kEvents;
        auto res = c.post("/v1/products/shop/tables/orders/events", events(first, kEvents));
        if (res.status == 202u) accepted += kEvents;
      }
    });
  }
  for (auto& s : senders) s.join();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (row_count() < accepted.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sampling = false;
  sampler.join();
  ASSERT_EQ(accepted.load(), kThreads * kRequests * kEvents);
  ASSERT_EQ(row_count(), accepted.load());
  const std::int64_t grew = peak.load() - before;
  ASSERT_GT(grew, 100 * 1024) << "the burst should have taken over 100 MiB";
  std::int64_t now = resident_kib(pid);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (now - before > grew / 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    now = resident_kib(pid);
  }
  EXPECT_LE(now - before, grew / 2) << "resident KiB: " << before << " before the burst, peak "
                                    << peak.load() << ", " << now << " 15 s after it";
}

// Several clients ingest while the server is SIGKILLed and restarted; every
// acknowledged event ends up stored exactly once.
TEST(IngestCrash, KillDuringConcurrentIngestLosesAndDuplicatesNothing) {
  TempDir dir;
  auto data = dir.path() / "data";
  auto server = std::make_unique<ServiceProcess>(data);
  {
    HttpClient c("127.0.0.1", server->port());
    ASSERT_EQ(c.post("/v1/products", R"({"name":"shop"})").status, 201u);
    ASSERT_EQ(c.post("/v1/products/shop/tables", kOrders).status, 201u);
  }
  std::atomic<std::uint16_t> port{server->port()};
  std::atomic<bool> stop{false};
  std::atomic<int> acked_batches{0};
  constexpr int kClients = 4, kBatches = 60, kPerBatch = 50;
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      for (int b = 0; b < kBatches && !stop; ++b) {
        std::string key = "c" + std::to_string(t) + "-b" + std::to_string(b);
        auto body = events(b * kPerBatch, kPerBatch, "c" + std::to_string(t) + "-");
        for (int attempt = 0; attempt < 400 && !stop; ++attempt) {
          try {
            HttpClient c("127.0.0.1", port.load());
            auto r =
                c.post("/v1/products/shop/tables/orders/events", body, {{"Idempotency-Key", key}});
            if (r.status == 202u || r.status == 200u) {
              acked_batches++;
              break;
            }
          } catch (const std::exception&) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  server->signal(SIGKILL);
  server->wait();
  server = std::make_unique<ServiceProcess>(data);
  port = server->port();
  for (auto& t : clients) t.join();
  ASSERT_EQ(acked_batches.load(), kClients * kBatches);
  HttpClient c("127.0.0.1", server->port());
  // One more write we wait for: everything before it is then visible too.
  auto last =
      c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true&timeout_ms=30000",
             events(0, 1, "last-"));
  ASSERT_EQ(last.status, 200u) << last.body;
  auto rows = c.get("/v1/products/shop/tables/orders").json().at("row_count").as_int64();
  EXPECT_EQ(rows, kClients * kBatches * kPerBatch + 1);
  server->signal(SIGTERM);
  EXPECT_EQ(server->wait(), 0);
  auto distinct = run_program(CORE_DRIVER, {"count", data.string(), "orders"});
  ASSERT_EQ(distinct.exit_code, 0) << distinct.err;
  std::istringstream in(distinct.out);
  long all = 0, unique = 0;
  in >> all >> unique;
  EXPECT_EQ(all, kClients * kBatches * kPerBatch + 1);
  EXPECT_EQ(unique, all);
}

}  // namespace
}  // namespace duckmesh::testing

namespace duckmesh::testing {
namespace {

// Every validation rule, over HTTP: one bad event per row, the index, field
// and code the server must name. Adding a rule is one line.
TEST(IngestValidationOverHttp, EveryRuleIsRefusedWithItsFieldAndCode) {
  TempDir dir;
  ServiceProcess service(dir.path() / "data");
  HttpClient c("127.0.0.1", service.port());
  ASSERT_EQ(c.post("/v1/products", R"({"name":"v"})").status, 201u);
  auto t = c.post("/v1/products/v/tables", R"J({"name":"all_types","columns":[
      {"name":"b","type":"boolean"},{"name":"i","type":"integer","minimum":0,"maximum":100},
      {"name":"big","type":"bigint"},{"name":"d","type":"double"},{"name":"m","type":"decimal(5,2)"},
      {"name":"s","type":"varchar","max_length":5},{"name":"c3","type":"char(3)"},
      {"name":"e","type":"varchar","enum":["A","B"]},{"name":"p","type":"varchar","pattern":"^[a-z]+$"},
      {"name":"dt","type":"date"},{"name":"ts","type":"timestamp"},{"name":"tz","type":"timestamptz"},
      {"name":"u","type":"uuid"},{"name":"j","type":"json"},{"name":"l","type":"integer[]"},
      {"name":"req","type":"varchar","nullable":false}]})J");
  ASSERT_EQ(t.status, 201u) << t.body;
  struct Case {
    std::string event;
    std::string field;
    std::string code;
  };
  const std::vector<Case> cases = {
      {R"({"req":"x","b":"yes"})", "b", "type"},
      {R"({"req":"x","i":1.5})", "i", "type"},
      {R"({"req":"x","i":101})", "i", "out_of_range"},
      {R"({"req":"x","i":2147483648})", "i", "out_of_range"},
      {R"({"req":"x","big":9223372036854775808})", "big", "out_of_range"},
      {R"({"req":"x","d":1e400})", "d", "out_of_range"},
      {R"({"req":"x","m":"1234.5"})", "m", "precision"},
      {R"({"req":"x","m":1.234})", "m", "precision"},
      {R"({"req":"x","s":"toolong"})", "s", "max_length"},
      {R"({"req":"x","c3":"EURO"})", "c3", "length"},
      {R"({"req":"x","e":"C"})", "e", "enum"},
      {R"({"req":"x","p":"ABC"})", "p", "pattern"},
      {R"({"req":"x","dt":"2026-02-30"})", "dt", "invalid_date"},
      {R"({"req":"x","ts":"yesterday"})", "ts", "invalid_timestamp"},
      {R"({"req":"x","tz":"2026-11-25T10:00:00"})", "tz", "invalid_timestamp"},
      {R"({"req":"x","u":"not-a-uuid"})", "u", "invalid_uuid"},
      {R"({"req":"x","l":[1,"two"]})", "l", "type"},
      {R"({"req":"x","s":{"nested":1}})", "s", "type"},
      {R"({"b":true})", "req", "required"},
      {R"({"req":null})", "req", "null"},
      {R"({"req":"x","zzz":1})", "zzz", "unknown_field"},
      {R"({"req":"x","req":"y"})", "req", "duplicate_key"},
      {R"({"req":"x","_idempotency_key":""})", "_idempotency_key", "invalid_idempotency_key"},
      {R"([1,2])", "", "not_an_object"},
  };
  std::string body = "[";
  for (std::size_t i = 0; i < cases.size(); ++i) body += (i ? "," : "") + cases[i].event;
  body +=
      R"(,{"req":"ok","j":{"any":[1,{"x":null}]},"l":[1,null,3],"tz":"2026-11-25T10:00:00+05:30"}])";
  auto r =
      c.post("/v1/products/v/tables/all_types/events?atomic=false&wait_for_visibility=true", body);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.json().at("accepted").as_int64(), 1);
  auto rejected = r.json().at("rejected").as_array();
  ASSERT_EQ(rejected.size(), cases.size()) << r.body;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& e = rejected[i].as_object();
    EXPECT_EQ(e.at("index").as_int64(), static_cast<std::int64_t>(i)) << cases[i].event;
    EXPECT_EQ(e.at("field").as_string(), cases[i].field)
        << cases[i].event << " -> " << boost::json::serialize(e);
    EXPECT_EQ(e.at("code").as_string(), cases[i].code)
        << cases[i].event << " -> " << boost::json::serialize(e);
    EXPECT_FALSE(e.at("message").as_string().empty());
  }
  // Invalid UTF-8 in one event of an NDJSON body rejects that event only.
  std::string ndjson = "{\"req\":\"fine\"}\n{\"req\":\"bad \xC3\x28\"}\n{\"req\":\"also fine\"}\n";
  auto u = c.post("/v1/products/v/tables/all_types/events?atomic=false", ndjson,
                  {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(u.status, 202u) << u.body;
  EXPECT_EQ(u.json().at("accepted").as_int64(), 2);
  EXPECT_EQ(u.json().at("rejected").at(0).at("code").as_string(), "invalid_utf8");
  // The good event's values came through exactly.
  auto q = c.post("/v1/products/v/query",
                  R"({"sql":"SELECT j, l, tz FROM all_types WHERE req = 'ok'","format":"ndjson"})");
  EXPECT_NE(q.body.find("\"l\":[1,null,3]"), std::string::npos) << q.body;
  EXPECT_NE(q.body.find("\"tz\":\"2026-11-25T04:30:00Z\""), std::string::npos) << q.body;
}

}  // namespace
}  // namespace duckmesh::testing
