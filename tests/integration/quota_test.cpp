// Per-product quotas through the real binary: events per UTC day (counted
// again from the catalog after a restart) and stored bytes.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

const char* kReadings = R"J({
  "name": "readings",
  "kind": "append",
  "columns": [
    {"name": "id", "type": "varchar", "nullable": false},
    {"name": "value", "type": "double"}
  ]
})J";

std::string readings(int first, int count) {
  std::string body = "[";
  for (int i = first; i < first + count; ++i) {
    if (i > first) body += ",";
    body += R"({"_idempotency_key":"k)" + std::to_string(i) + R"(","id":"r)" + std::to_string(i) +
            R"(","value":)" + std::to_string(i) + "}";
  }
  return body + "]";
}

class QuotaTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra) {
    service_.reset();
    extra.insert(extra.end(), {"--onto-server-url", "http://127.0.0.1:9"});
    service_ = std::make_unique<ServiceProcess>(dir_.path() / "data", extra);
  }
  void create_products() {
    auto c = client();
    for (const char* name : {"small", "big"}) {
      ASSERT_EQ(c.post("/v1/products", std::string(R"({"name":")") + name + R"("})").status, 201u);
      ASSERT_EQ(c.post(std::string("/v1/products/") + name + "/tables", kReadings).status, 201u);
    }
  }
  HttpResponse ingest(const std::string& product, const std::string& body) {
    return client().post(
        "/v1/products/" + product + "/tables/readings/events?wait_for_visibility=true", body);
  }
  HttpClient client() { return HttpClient("127.0.0.1", service_->port()); }

  TempDir dir_;
  std::unique_ptr<ServiceProcess> service_;
};

TEST_F(QuotaTest, DailyEventQuotaRefusesTheWholeRequestAndCountsAgainAfterARestart) {
  std::vector<std::string> args = {"--quota-events-per-day", "5", "--product-quotas",
                                   R"({"big":{"events_per_day":1000}})"};
  start(args);
  create_products();
  EXPECT_EQ(ingest("small", readings(0, 3)).status, 200u);
  auto over = ingest("small", readings(3, 3));
  ASSERT_EQ(over.status, 429u) << over.body;
  auto error = over.json().at("error").as_object();
  EXPECT_EQ(error.at("code").as_string(), "quota_exceeded");
  EXPECT_EQ(error.at("details").at("quota").as_string(), "events_per_day");
  EXPECT_EQ(error.at("details").at("limit").to_number<int>(), 5);
  EXPECT_EQ(error.at("details").at("used").to_number<int>(), 3);
  EXPECT_FALSE(over.header("retry-after").empty());
  EXPECT_NE(std::string(error.at("message").as_string()).find("resets at"), std::string::npos);
  // A retry of what was accepted is all duplicates: nothing counts.
  auto retry = ingest("small", readings(0, 3));
  EXPECT_EQ(retry.status, 200u) << retry.body;
  EXPECT_EQ(retry.json().at("duplicates").to_number<int>(), 3);
  EXPECT_EQ(ingest("small", readings(3, 2)).status, 200u);  // exactly at the quota
  EXPECT_EQ(ingest("small", readings(5, 1)).status, 429u);
  // Another product has its own (larger) quota.
  EXPECT_EQ(ingest("big", readings(0, 50)).status, 200u);
  auto usage = client().get("/v1/products/small/quota");
  ASSERT_EQ(usage.status, 200u) << usage.body;
  EXPECT_EQ(usage.json().at("events_per_day").at("limit").to_number<int>(), 5);
  EXPECT_EQ(usage.json().at("events_per_day").at("used_today").to_number<int>(), 5);
  EXPECT_TRUE(usage.json().at("stored_bytes").at("limit").is_null());
  auto big = client().get("/v1/products/big/quota").json();
  EXPECT_EQ(big.at("events_per_day").at("limit").to_number<int>(), 1000);
  EXPECT_EQ(big.at("events_per_day").at("used_today").to_number<int>(), 50);
  EXPECT_EQ(client().get("/v1/products/nope/quota").status, 404u);
  // Nothing of a refused request was written.
  auto table = client().get("/v1/products/small/tables/readings").json();
  EXPECT_EQ(table.at("row_count").to_number<int>(), 5);

  // After a restart the day's count comes back from the committed snapshots.
  start(args);
  auto after = ingest("small", readings(10, 1));
  EXPECT_EQ(after.status, 429u) << after.body;
  EXPECT_EQ(after.json().at("error").at("details").at("used").to_number<int>(), 5);
}

TEST_F(QuotaTest, StorageQuotaRefusesIngestOnceTheProductStoresThatMuch) {
  std::vector<std::string> args = {"--quota-stored-bytes", "100"};
  start(args);
  create_products();
  EXPECT_EQ(ingest("small", readings(0, 3)).status, 200u);  // nothing stored before it
  start(args);  // a fresh node reads the stored bytes now
  auto over = ingest("small", readings(3, 1));
  ASSERT_EQ(over.status, 429u) << over.body;
  auto details = over.json().at("error").at("details").as_object();
  EXPECT_EQ(details.at("quota").as_string(), "stored_bytes");
  EXPECT_GE(details.at("used").to_number<double>(), 100);
  EXPECT_EQ(ingest("big", readings(0, 1)).status, 200u) << "another product is not affected";
}

TEST(QuotaSettings, MalformedProductQuotasAreRefusedNamingTheEntry) {
  TempDir dir;
  auto r =
      run_binary({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "data").string(),
                  "--product-quotas", R"({"sales":{"events_per_dai":10}})"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("product_quotas"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sales.events_per_dai"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace duckmesh::testing
