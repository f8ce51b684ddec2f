// SQL over snapshots through HTTP against the real binary.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

class QueryApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = std::make_unique<ServiceProcess>(dir_.path() / "data");
    auto c = client();
    for (std::string p : {"shop", "other"}) {
      ASSERT_EQ(c.post("/v1/products", R"({"name":")" + p + R"("})").status, 201u);
      auto t = c.post("/v1/products/" + p + "/tables", R"J({"name":"orders","columns":[
          {"name":"id","type":"bigint","nullable":false},{"name":"amount","type":"decimal(12,2)"},
          {"name":"note","type":"varchar"}]})J");
      ASSERT_EQ(t.status, 201u) << t.body;
    }
    auto k = c.post("/v1/products/shop/tables",
                    R"J({"name":"accounts","kind":"keyed","primary_key":["id"],
        "columns":[{"name":"id","type":"bigint"},{"name":"name","type":"varchar"}]})J");
    ASSERT_EQ(k.status, 201u) << k.body;
  }
  HttpClient client() { return HttpClient("127.0.0.1", service_->port()); }

  // Ingests and returns the visibility token.
  std::string ingest(const std::string& product, const std::string& table,
                     const std::string& body) {
    auto r = client().post("/v1/products/" + product + "/tables/" + table + "/events", body);
    EXPECT_EQ(r.status, 202u) << r.body;
    return std::string(r.json().at("visibility_token").as_string());
  }

  HttpResponse query(const std::string& product, boost::json::object request) {
    return client().post("/v1/products/" + product + "/query", boost::json::serialize(request));
  }

  TempDir dir_;
  std::unique_ptr<ServiceProcess> service_;
};

TEST_F(QueryApiTest, ReadYourWritesWithTheVisibilityToken) {
  auto token =
      ingest("shop", "orders", R"([{"id":1,"amount":"10.50","note":"a"},{"id":2,"amount":2}])");
  auto r = query("shop", {{"sql", "SELECT id, amount, note FROM orders ORDER BY id"},
                          {"min_visibility_token", token}});
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = r.json().as_object();
  ASSERT_EQ(body.at("rows").as_array().size(), 2u);
  EXPECT_EQ(body.at("rows").at(0).at(1).as_string(), "10.50");  // decimals stay exact
  EXPECT_EQ(body.at("columns").at(1).at("type").as_string(), "DECIMAL(12,2)");
  EXPECT_EQ(body.at("row_count").as_int64(), 2);
  EXPECT_FALSE(body.at("truncated").as_bool());
  EXPECT_TRUE(body.at("snapshot_id").is_int64());
  EXPECT_EQ(r.header("x-snapshot-id"), std::to_string(body.at("snapshot_id").as_int64()));
}

TEST_F(QueryApiTest, TimeTravelReturnsTheRowsOfEachSnapshot) {
  auto t1 = ingest("shop", "orders", R"([{"id":1}])");
  auto s1 =
      query("shop", {{"sql", "SELECT count(*) AS n FROM orders"}, {"min_visibility_token", t1}})
          .json();
  auto t2 = ingest("shop", "orders", R"([{"id":2},{"id":3}])");
  auto s2 =
      query("shop", {{"sql", "SELECT count(*) AS n FROM orders"}, {"min_visibility_token", t2}})
          .json();
  EXPECT_EQ(s1.at("rows").at(0).at(0).as_int64(), 1);
  EXPECT_EQ(s2.at("rows").at(0).at(0).as_int64(), 3);
  auto again =
      query("shop", {{"sql", "SELECT count(*) FROM orders"}, {"snapshot_id", s1.at("snapshot_id")}})
          .json();
  EXPECT_EQ(again.at("rows").at(0).at(0).as_int64(), 1);
  EXPECT_EQ(again.at("snapshot_id"), s1.at("snapshot_id"));
  auto missing = query("shop", {{"sql", "SELECT 1"}, {"snapshot_id", 9999}});
  EXPECT_EQ(missing.status, 404u);
  EXPECT_TRUE(missing.json().at("error").at("details").as_object().contains("latest_snapshot_id"));
  auto before_all = query("shop", {{"sql", "SELECT 1"}, {"as_of", "2001-01-01T00:00:00Z"}});
  EXPECT_EQ(before_all.status, 404u);
  // A time that is not one says why, quotes it, and gives an example at
  // most once.
  for (const auto& [bad, why] :
       {std::pair<std::string, std::string>{"yesterday", "such as \"2026-11-25T10:00:00Z\""},
        std::pair<std::string, std::string>{"2026-02-30T00:00:00Z", "not a calendar date"},
        std::pair<std::string, std::string>{"2026-11-25T10:00:00+0200", "the offset must be"}}) {
    auto r = query("shop", {{"sql", "SELECT 1"}, {"as_of", bad}});
    EXPECT_EQ(r.status, 400u) << bad << " -> " << r.body;
    const std::string message(r.json().at("error").at("message").as_string());
    EXPECT_EQ(r.json().at("error").at("details").at("field").as_string(), "as_of");
    EXPECT_NE(message.find(why), std::string::npos) << message;
    EXPECT_NE(message.find("got \"" + bad + "\""), std::string::npos) << message;
    const auto example = message.find("2026-11-25T10:00:00Z\"");
    if (example != std::string::npos) {
      EXPECT_EQ(message.find("2026-11-25T10:00:00Z\"", example + 1), std::string::npos) << message;
    }
  }
  auto now =
      query("shop", {{"sql", "SELECT count(*) FROM orders"}, {"as_of", "2999-01-01T00:00:00Z"}});
  EXPECT_EQ(now.json().at("rows").at(0).at(0).as_int64(), 3);
  auto snaps = client().get("/v1/products/shop/snapshots?limit=2").json();
  EXPECT_EQ(snaps.at("snapshots").as_array().size(), 2u);
  auto one =
      client()
          .get("/v1/products/shop/snapshots/" + std::to_string(s2.at("snapshot_id").as_int64()))
          .json();
  EXPECT_EQ(one.at("operation").as_string(), "ingest");
  EXPECT_EQ(one.at("tables").at("orders").at("rows").as_int64(), 3);
}

TEST_F(QueryApiTest, KeyedTablesReadTheLatestVersionWithDeletesApplied) {
  ingest("shop", "accounts", R"([{"id":1,"name":"a1"},{"id":2,"name":"b1"},{"id":1,"name":"a2"}])");
  auto token = ingest("shop", "accounts", R"([{"id":2,"_op":"delete"}])");
  auto r = query("shop", {{"sql", "SELECT id, name FROM accounts ORDER BY id"},
                          {"min_visibility_token", token}});
  ASSERT_EQ(r.status, 200u) << r.body;
  auto rows = r.json().at("rows").as_array();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at(1).as_string(), "a2");
}

TEST_F(QueryApiTest, SandboxEscapesAreRefused) {
  auto other = ingest("other", "orders", R"([{"id":42}])");
  query("other", {{"sql", "SELECT 1"}, {"min_visibility_token", other}});
  std::string other_files = (dir_.path() / "data" / "store" / "products" / "other").string();
  struct Case {
    std::string sql;
    unsigned status;
  };
  const Case cases[] = {
      {"SELECT * FROM read_csv('/etc/passwd')", 403},
      {"SELECT * FROM glob('/*')", 403},
      {"SELECT * FROM read_parquet('" + other_files + "/**/*.parquet')", 403},
      {"COPY (SELECT 1) TO '/tmp/x.csv'", 403},
      {"ATTACH '/tmp/x.db'", 403},
      {"INSTALL httpfs", 403},
      {"SET enable_external_access=true", 403},
      {"CREATE TABLE t AS SELECT 1", 403},
      {"SELECT 1; SELECT 2", 403},
      {"DROP VIEW orders", 403},
  };
  for (const auto& c : cases) {
    auto r = query("shop", {{"sql", c.sql}});
    EXPECT_EQ(r.status, c.status) << c.sql << " -> " << r.body;
  }
  // The other product's data is not readable, but this product's is.
  EXPECT_EQ(query("shop", {{"sql", "SELECT count(*) FROM orders"}}).status, 200u);
}

TEST_F(QueryApiTest, ParamsAreBoundNeverSpliced) {
  auto token = ingest("shop", "orders", R"([{"id":1,"note":"x"},{"id":2,"note":"y"}])");
  auto r = query("shop", {{"sql", "SELECT count(*) FROM orders WHERE note = $1"},
                          {"params", boost::json::array{"x' OR '1'='1"}},
                          {"min_visibility_token", token}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.json().at("rows").at(0).at(0).as_int64(), 0);
  auto named = query(
      "shop", {{"sql", "SELECT count(*) FROM orders WHERE id = $id"}, {"params", {{"id", 2}}}});
  EXPECT_EQ(named.json().at("rows").at(0).at(0).as_int64(), 1) << named.body;
}

TEST_F(QueryApiTest, LimitsTimeoutsAndFormats) {
  auto token = ingest("shop", "orders", R"([{"id":1,"note":"a,b"},{"id":2,"note":"c"},{"id":3}])");
  auto truncated = query("shop", {{"sql", "SELECT id FROM orders ORDER BY id"},
                                  {"max_rows", 2},
                                  {"min_visibility_token", token}});
  EXPECT_TRUE(truncated.json().at("truncated").as_bool());
  EXPECT_EQ(truncated.json().at("rows").as_array().size(), 2u);
  auto strict = query(
      "shop", {{"sql", "SELECT id FROM orders"}, {"max_rows", 2}, {"error_on_truncate", true}});
  EXPECT_EQ(strict.status, 400u);

  auto slow =
      query("shop", {{"sql", "SELECT count(*) FROM range(100000000000)"}, {"timeout_ms", 300}});
  EXPECT_EQ(slow.status, 408u) << slow.body;
  EXPECT_EQ(slow.json().at("error").at("code").as_string(), "timeout");
  EXPECT_EQ(client().get("/monitoring/health").status, 200u);

  auto csv = query("shop", {{"sql", "SELECT id, note FROM orders ORDER BY id"}, {"format", "csv"}});
  EXPECT_EQ(csv.header("content-type").rfind("text/csv", 0), 0u) << csv.header("content-type");
  EXPECT_EQ(csv.body, "id,note\r\n1,\"a,b\"\r\n2,c\r\n3,\r\n");
  auto ndjson = query("shop", {{"sql", "SELECT id FROM orders ORDER BY id"}, {"format", "ndjson"}});
  EXPECT_EQ(ndjson.body, "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
  auto parquet = query("shop", {{"sql", "SELECT id FROM orders"}, {"format", "parquet"}});
  EXPECT_EQ(parquet.status, 200u);
  EXPECT_EQ(parquet.body.substr(0, 4), "PAR1");
  EXPECT_EQ(query("shop", {{"sql", "SELECT 1"}, {"format", "xml"}}).status, 400u);
  EXPECT_EQ(query("shop", {{"sql", "SELECT 1"}, {"colour", "red"}}).status, 400u);
  EXPECT_EQ(query("nope", {{"sql", "SELECT 1"}}).status, 404u);
}

}  // namespace
}  // namespace duckmesh::testing

namespace duckmesh::testing {
namespace {

TEST_F(QueryApiTest, StatisticsPruneFilesAndResultsStayExact) {
  // Three commits -> three files with disjoint id ranges.
  std::string token;
  for (int batch = 0; batch < 3; ++batch) {
    std::string body = "[";
    for (int i = 0; i < 10; ++i) {
      int id = batch * 100 + i;
      body += std::string(i ? "," : "") + R"({"id":)" + std::to_string(id) + R"(,"note":"n)" +
              std::to_string(batch) + R"("})";
    }
    token = ingest("shop", "orders", body + "]");
    query("shop", {{"sql", "SELECT 1"}, {"min_visibility_token", token}});
  }
  auto all = query("shop", {{"sql", "SELECT count(*) FROM orders"}}).json();
  EXPECT_EQ(all.at("files_scanned").as_int64(), 3);
  EXPECT_EQ(all.at("files_pruned").as_int64(), 0);
  auto point = query("shop", {{"sql", "SELECT id FROM orders WHERE id = 105"}}).json();
  EXPECT_EQ(point.at("rows").as_array().size(), 1u);
  EXPECT_EQ(point.at("files_scanned").as_int64(), 1);
  EXPECT_EQ(point.at("files_pruned").as_int64(), 2);
  auto range =
      query("shop", {{"sql", "SELECT count(*) FROM orders o WHERE o.id >= 100 AND note < 'n2'"}})
          .json();
  EXPECT_EQ(range.at("rows").at(0).at(0).as_int64(), 10);
  EXPECT_EQ(range.at("files_scanned").as_int64(), 1);
  auto between =
      query("shop", {{"sql", "SELECT count(*) FROM orders WHERE id BETWEEN 5 AND 150"}}).json();
  EXPECT_EQ(between.at("rows").at(0).at(0).as_int64(), 15);
  EXPECT_EQ(between.at("files_pruned").as_int64(), 1);
  // Shapes it cannot prove safe prune nothing, and stay correct.
  auto disjunction =
      query("shop", {{"sql", "SELECT count(*) FROM orders WHERE id = 105 OR id = 5"}}).json();
  EXPECT_EQ(disjunction.at("rows").at(0).at(0).as_int64(), 2);
  EXPECT_EQ(disjunction.at("files_pruned").as_int64(), 0);
  auto none = query("shop", {{"sql", "SELECT count(*) FROM orders WHERE id > 1000"}}).json();
  EXPECT_EQ(none.at("rows").at(0).at(0).as_int64(), 0);
  EXPECT_EQ(none.at("files_scanned").as_int64(), 0);
}

}  // namespace
}  // namespace duckmesh::testing

namespace duckmesh::testing {
namespace {

TEST_F(QueryApiTest, ChangesBetweenSnapshotsAndTableHistory) {
  auto t1 = ingest("shop", "orders", R"([{"id":1},{"id":2}])");
  auto s1 = query("shop", {{"sql", "SELECT 1"}, {"min_visibility_token", t1}})
                .json()
                .at("snapshot_id")
                .as_int64();
  auto t2 = ingest("shop", "orders", R"([{"id":3}])");
  auto s2 = query("shop", {{"sql", "SELECT 1"}, {"min_visibility_token", t2}})
                .json()
                .at("snapshot_id")
                .as_int64();
  auto c = client();
  auto changes = c.get("/v1/products/shop/tables/orders/changes?from=" + std::to_string(s1) +
                       "&to=" + std::to_string(s2));
  ASSERT_EQ(changes.status, 200u) << changes.body;
  auto rows = changes.json().at("rows").as_array();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at(0).as_int64(), 3);
  auto columns = changes.json().at("columns").as_array();
  EXPECT_EQ(columns.back().at("name").as_string(), "_dm_ingested_at");
  auto since_start = c.get("/v1/products/shop/tables/orders/changes?from=0&format=ndjson");
  EXPECT_EQ(std::count(since_start.body.begin(), since_start.body.end(), '\n'), 3);
  EXPECT_EQ(c.get("/v1/products/shop/tables/orders/changes?from=5&to=2").status, 400u);

  ingest("shop", "accounts", R"([{"id":1,"name":"a"}])");
  auto kt = ingest("shop", "accounts", R"([{"id":1,"_op":"delete"}])");
  query("shop", {{"sql", "SELECT 1"}, {"min_visibility_token", kt}});
  auto versions = c.get("/v1/products/shop/tables/accounts/changes?from=0&format=ndjson");
  EXPECT_NE(versions.body.find("\"_dm_op\":\"upsert\""), std::string::npos) << versions.body;
  EXPECT_NE(versions.body.find("\"_dm_op\":\"delete\""), std::string::npos) << versions.body;

  auto history = c.get("/v1/products/shop/tables/orders/history").json().at("snapshots").as_array();
  ASSERT_EQ(history.size(), 3u);  // create + two ingests
  EXPECT_EQ(history[0].at("id").as_int64(), s2);
  EXPECT_EQ(history[2].at("operation").as_string(), "schema");
  EXPECT_EQ(c.get("/v1/products/shop/tables/nope/history").status, 404u);
}

}  // namespace
}  // namespace duckmesh::testing

namespace duckmesh::testing {
namespace {

TEST_F(QueryApiTest, LargeResultsStreamWithChunkedTransfer) {
  auto r = query("shop", {{"sql", "SELECT range AS n, 'row ' || range AS s FROM range(300000)"},
                          {"format", "ndjson"},
                          {"max_rows", 1000000}});
  ASSERT_EQ(r.status, 200u) << r.body.substr(0, 300);
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 300000);
  EXPECT_NE(r.body.find("{\"n\":299999,\"s\":\"row 299999\"}"), std::string::npos);
  // The connection stays usable after a streamed response.
  auto c = client();
  EXPECT_EQ(c.post("/v1/products/shop/query", R"({"sql":"SELECT 1","format":"csv"})").status, 200u);
  EXPECT_EQ(c.get("/monitoring/health").status, 200u);
}

}  // namespace
}  // namespace duckmesh::testing

namespace duckmesh::testing {
namespace {

TEST_F(QueryApiTest, ArrowIpcStreamOverHttp) {
  auto r = query("shop", {{"sql", "SELECT range AS n FROM range(10)"}, {"format", "arrow"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/vnd.apache.arrow.stream");
  ASSERT_GE(r.body.size(), 16u);
  EXPECT_EQ(r.body.substr(0, 4), std::string("\xFF\xFF\xFF\xFF", 4));  // first message
  EXPECT_EQ(r.body.substr(r.body.size() - 8),
            std::string("\xFF\xFF\xFF\xFF\0\0\0\0", 8));  // end of stream
}

}  // namespace
}  // namespace duckmesh::testing
