// The server with its data files on a real S3-compatible server (s3rver on
// loopback): ingest, query, and query again from a cold local cache.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/s3_server.hpp"
#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

// Files below `dir` whose names end with `suffix`.
std::size_t count_files(const std::filesystem::path& dir, const std::string& suffix) {
  std::size_t n = 0;
  if (!std::filesystem::exists(dir)) return 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    auto name = e.path().string();
    if (e.is_regular_file() && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      ++n;
    }
  }
  return n;
}

TEST(S3StoreService, IngestedEventsLandInTheBucketAndQueriesReadThemBack) {
  TempDir dir;
  S3Server s3(dir.path() / "s3", "lake");
  std::vector<std::string> flags = {"--store",         "s3",     "--s3-endpoint",   s3.endpoint(),
                                    "--s3-bucket",     "lake",   "--s3-prefix",     "prod",
                                    "--s3-access-key", "S3RVER", "--s3-secret-key", "S3RVER"};
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
  }
  // The Parquet file is in the bucket, under the prefix (s3rver keeps an
  // object as <key>._S3rver_object beside its metadata); nothing in a local store.
  EXPECT_EQ(count_files(dir.path() / "s3" / "lake" / "prod", ".parquet._S3rver_object"), 1u);
  EXPECT_EQ(count_files(data / "store", ".parquet"), 0u);

  // A cold cache reads the file from the bucket again.
  std::filesystem::remove_all(data / "s3-cache");
  ServiceProcess service(data, flags);
  HttpClient c("127.0.0.1", service.port());
  auto q = c.post("/v1/products/shop/query", R"({"sql":"SELECT count(*), max(id) FROM orders"})");
  ASSERT_EQ(q.status, 200u) << q.body;
  EXPECT_EQ(q.json().at("rows").at(0).at(0).as_int64(), 2);
  EXPECT_EQ(q.json().at("rows").at(0).at(1).as_int64(), 2);
  EXPECT_EQ(count_files(data / "s3-cache" / "objects", ".parquet"), 1u);
}

// The maintenance commands work on the bucket when told --store s3.
TEST(S3StoreService, MaintenanceCommandsCompactAndCollectInTheBucket) {
  TempDir dir;
  S3Server s3(dir.path() / "s3", "lake");
  std::vector<std::string> flags = {"--store",
                                    "s3",
                                    "--s3-endpoint",
                                    s3.endpoint(),
                                    "--s3-bucket",
                                    "lake",
                                    "--s3-prefix",
                                    "prod",
                                    "--s3-access-key",
                                    "S3RVER",
                                    "--s3-secret-key",
                                    "S3RVER",
                                    "--maintenance-enabled",
                                    "false"};
  auto data = dir.path() / "data";
  {
    ServiceProcess service(data, flags);
    HttpClient c("127.0.0.1", service.port());
    ASSERT_EQ(c.post("/v1/products", R"({"name":"shop"})").status, 201u);
    ASSERT_EQ(c.post("/v1/products/shop/tables",
                     R"J({"name":"orders","columns":[{"name":"id","type":"bigint"}]})J")
                  .status,
              201u);
    for (int batch = 0; batch < 3; ++batch) {  // one file each
      auto r = c.post("/v1/products/shop/tables/orders/events?wait_for_visibility=true",
                      "[{\"id\":" + std::to_string(batch) + "}]");
      ASSERT_EQ(r.status, 200u) << r.body;
    }
  }
  const auto bucket = dir.path() / "s3" / "lake" / "prod";
  ASSERT_EQ(count_files(bucket, ".parquet._S3rver_object"), 3u);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), flags.begin(), flags.end() - 2);  // not --maintenance-enabled
    return run_on_data_dir(data, std::move(args));
  };
  auto compact = run({"compact"});
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_NE(compact.out.find("shop.orders: compacted"), std::string::npos) << compact.out;
  EXPECT_EQ(count_files(bucket, ".parquet._S3rver_object"), 4u);
  auto expire = run({"expire", "--retention-max-age-s", "0", "--retention-min-snapshots", "1"});
  ASSERT_EQ(expire.exit_code, 0) << expire.err;
  auto gc = run({"gc", "--gc-grace-s", "0"});
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("deleted 3 file(s)"), std::string::npos) << gc.out;
  EXPECT_EQ(count_files(bucket, ".parquet._S3rver_object"), 1u);
  EXPECT_EQ(count_files(data / "store", ".parquet"), 0u);

  // A cold cache reads the compacted file from the bucket.
  std::filesystem::remove_all(data / "s3-cache");
  ServiceProcess service(data, flags);
  HttpClient c("127.0.0.1", service.port());
  auto q =
      c.post("/v1/products/shop/query",
             R"({"sql":"SELECT count(*), string_agg(id::VARCHAR, ',' ORDER BY id) FROM orders"})");
  ASSERT_EQ(q.status, 200u) << q.body;
  EXPECT_EQ(q.json().at("rows").at(0).at(0).as_int64(), 3);
  EXPECT_EQ(q.json().at("rows").at(0).at(1).as_string(), "0,1,2");
}

TEST(S3StoreService, AMissingSettingStopsTheStartNamingIt) {
  TempDir dir;
  auto r = run_binary({"serve", "--data-dir", (dir.path() / "d").string(), "--listen",
                       "127.0.0.1:0", "--store", "s3", "--s3-endpoint", "http://127.0.0.1:1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("s3_bucket"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace duckmesh::testing
