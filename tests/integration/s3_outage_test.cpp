// Ingest while the S3-compatible server fails: events are acknowledged
// (durable in the ingest log), commits are retried without dead-lettering
// anything, backpressure answers 503 once the backlog is full, and when the
// server is well again every acknowledged event becomes visible exactly once.
#include <gtest/gtest.h>

#include <thread>

#include "support/fault_proxy.hpp"
#include "support/http_client.hpp"
#include "support/s3_server.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

std::string batch(int first, int count) {
  std::string body = "[";
  for (int i = first; i < first + count; ++i) {
    if (i > first) body += ",";
    body +=
        R"({"_idempotency_key":"e)" + std::to_string(i) + R"(","id":)" + std::to_string(i) + "}";
  }
  return body + "]";
}

TEST(S3Outage, AcknowledgedEventsSurviveAnOutageAndBecomeVisibleExactlyOnce) {
  TempDir dir;
  S3Server s3(dir.path() / "s3", "lake");
  FaultProxy proxy(s3.port());
  ServiceProcess service(
      dir.path() / "data",
      {"--store", "s3", "--s3-endpoint", proxy.endpoint(), "--s3-bucket", "lake", "--s3-access-key",
       "S3RVER", "--s3-secret-key", "S3RVER", "--onto-server-url", "http://127.0.0.1:9",
       "--ingest-max-backlog", "40", "--commit-max-batch-age-ms", "50"});
  HttpClient c("127.0.0.1", service.port());
  ASSERT_EQ(c.post("/v1/products", R"({"name":"shop"})").status, 201u);
  ASSERT_EQ(c.post("/v1/products/shop/tables",
                   R"({"name":"t","kind":"append","columns":[{"name":"id","type":"bigint"}]})")
                .status,
            201u);

  proxy.fail_all(true);
  int acknowledged = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = c.post("/v1/products/shop/tables/t/events?wait_for_visibility=true&timeout_ms=300",
                    batch(i * 10, 10));
    ASSERT_EQ(r.status, 202u) << r.body;  // durable, not visible
    acknowledged += r.json().at("accepted").to_number<int>();
  }
  // Commits keep failing for a while (each failure retried, none counted).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_GT(proxy.requests_failed(), 3);
  // Ingest goes on until the backlog reaches its limit, then pushes back
  // instead of growing.
  HttpResponse pushed_back;
  for (int i = 3; i < 12; ++i) {
    pushed_back = c.post("/v1/products/shop/tables/t/events", batch(i * 10, 10));
    if (pushed_back.status != 202u) break;
    acknowledged += pushed_back.json().at("accepted").to_number<int>();
  }
  EXPECT_EQ(pushed_back.status, 503u) << pushed_back.body;
  EXPECT_EQ(pushed_back.json().at("error").at("code").as_string(), "unavailable");
  EXPECT_FALSE(pushed_back.header("retry-after").empty());
  EXPECT_GE(acknowledged, 40);

  proxy.fail_all(false);
  // A retry of the first batch is a duplicate; the visibility wait covers
  // all. Until the backlog drains below its limit, ingest still pushes back.
  HttpResponse retry;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    retry = c.post("/v1/products/shop/tables/t/events?wait_for_visibility=true&timeout_ms=30000",
                   batch(0, 10));
    if (retry.status != 503u) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(retry.status, 200u) << retry.body;
  EXPECT_EQ(retry.json().at("duplicates").to_number<int>(), 10);
  // A new event sits after every acknowledged one: once it is visible, the
  // watermark covers them all.
  auto last = c.post("/v1/products/shop/tables/t/events?wait_for_visibility=true&timeout_ms=30000",
                     batch(1000, 1));
  ASSERT_EQ(last.status, 200u) << last.body;
  acknowledged += 1;
  auto q =
      c.post("/v1/products/shop/query", R"({"sql":"SELECT count(*), count(DISTINCT id) FROM t"})");
  ASSERT_EQ(q.status, 200u) << q.body;
  EXPECT_EQ(q.json().at("rows").at(0).at(0).as_int64(), acknowledged);
  EXPECT_EQ(q.json().at("rows").at(0).at(1).as_int64(), acknowledged);
  auto metrics = c.get("/metrics").body;
  EXPECT_EQ(metrics.find("duckmesh_commit_dead_letters_total 1"), std::string::npos);
  EXPECT_NE(metrics.find("duckmesh_commit_dead_letters_total 0"), std::string::npos);
}

}  // namespace
}  // namespace duckmesh::testing
