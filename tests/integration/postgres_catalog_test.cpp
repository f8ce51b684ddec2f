// The server and `duckmesh migrate` with the catalog in a real PostgreSQL 15
// started by the test (support/postgres_server.hpp).
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/postgres_server.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

// The URL with a password: trust authentication ignores it, so it only
// shows whether the password leaks into the logs.
std::string url_with_password(const std::string& url) {
  const std::string user = "duckmesh@";
  return url.substr(0, url.find(user)) + "duckmesh:pw-never-logged@" +
         url.substr(url.find(user) + user.size());
}

TEST(PostgresCatalogService, IngestsAndQueriesWithTheCatalogInPostgres) {
  TempDir dir;
  const std::string url = url_with_password(shared_postgres().create_database("service"));
  const std::vector<std::string> flags = {"--catalog",           "postgres", "--catalog-url", url,
                                          "--catalog-pool-size", "3"};
  auto data = dir.path() / "data";
  {
    ServiceProcess service(data, flags);
    HttpClient c("127.0.0.1", service.port());
    ASSERT_EQ(c.post("/v1/products", R"({"name":"shop"})").status, 201u);
    auto t = c.post("/v1/products/shop/tables", R"J({"name":"orders","columns":[
        {"name":"id","type":"bigint"},{"name":"amount","type":"decimal(12,2)"}]})J");
    ASSERT_EQ(t.status, 201u) << t.body;
    auto r = c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true",
                    R"([{"id":1,"amount":"10.50"},{"id":2,"amount":"2.25"}])");
    ASSERT_EQ(r.status, 200u) << r.body;
    auto q = c.post("/v1/products/shop/query", R"({"sql":"SELECT sum(amount) FROM orders"})");
    ASSERT_EQ(q.status, 200u) << q.body;
    EXPECT_EQ(q.json().at("rows").at(0).at(0).as_string(), "12.75");
    const std::string logs = service.logs();
    EXPECT_EQ(logs.find("pw-never-logged"), std::string::npos);
    EXPECT_NE(logs.find("duckmesh:***@"), std::string::npos) << logs;
  }
  // The catalog lives in PostgreSQL, not in the data directory.
  EXPECT_FALSE(std::filesystem::exists(data / "catalog.sqlite"));
  EXPECT_EQ(PostgresServer::query(url, "SELECT COUNT(*) FROM data_files"), "1");
  EXPECT_EQ(PostgresServer::query(url, "SELECT COUNT(*) FROM products WHERE name = 'shop'"), "1");

  // A restarted server reads the same catalog.
  ServiceProcess service(data, flags);
  HttpClient c("127.0.0.1", service.port());
  auto q = c.post("/v1/products/shop/query", R"({"sql":"SELECT count(*) FROM orders"})");
  ASSERT_EQ(q.status, 200u) << q.body;
  EXPECT_EQ(q.json().at("rows").at(0).at(0).as_int64(), 2);
}

TEST(PostgresCatalogService, APostgresCatalogWithoutAUrlStopsTheStartNamingIt) {
  TempDir dir;
  auto r = run_binary({"serve", "--data-dir", (dir.path() / "d").string(), "--listen",
                       "127.0.0.1:0", "--catalog", "postgres"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE((r.out + r.err).find("catalog_url"), std::string::npos) << r.out << r.err;
}

TEST(MigrateCommand, BringsASqliteCatalogToTheCurrentVersionOnce) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  auto first = run_binary({"migrate", "--data-dir", data});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("schema version 0 -> "), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("(applied "), std::string::npos) << first.out;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "data" / "catalog.sqlite"));
  auto again = run_binary({"migrate", "--data-dir", data});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("(up to date)"), std::string::npos) << again.out;
}

TEST(MigrateCommand, BringsAPostgresCatalogUpAndRefusesANewerOne) {
  const std::string url = shared_postgres().create_database("migrate");
  auto first = run_binary({"migrate", "--catalog", "postgres", "--catalog-url", url});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("schema version 0 -> "), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("(applied "), std::string::npos) << first.out;
  auto again =
      run_binary({"migrate"}, {{"DUCKMESH_CATALOG", "postgres"}, {"DUCKMESH_CATALOG_URL", url}});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("(up to date)"), std::string::npos) << again.out;

  PostgresServer::query(url,
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (1000, 0)");
  auto newer = run_binary({"migrate", "--catalog", "postgres", "--catalog-url", url});
  EXPECT_EQ(newer.exit_code, 1);
  EXPECT_NE(newer.err.find("schema version 1000, newer than version"), std::string::npos)
      << newer.err;
  EXPECT_EQ(PostgresServer::query(url, "SELECT MAX(version) FROM schema_migrations"), "1000");
  // A server refuses it too.
  TempDir dir;
  auto serve = run_binary({"serve", "--data-dir", (dir.path() / "d").string(), "--listen",
                           "127.0.0.1:0", "--catalog", "postgres", "--catalog-url", url});
  EXPECT_EQ(serve.exit_code, 1);
  EXPECT_NE(serve.err.find("newer"), std::string::npos) << serve.err;
}

}  // namespace
}  // namespace duckmesh::testing
