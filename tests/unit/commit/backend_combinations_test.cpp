// The core contract, end to end through app::Node, on every combination of
// backends: catalog (SQLite, PostgreSQL) x ingest bus (local log, PostgreSQL)
// x data files (local directory, S3-compatible server). Each seam also has
// its own conformance suite (tests/unit/catalog, bus, storage); this one
// proves the pieces keep their promises together, whichever are chosen.
// PostgreSQL is the test process's real server (a fresh database per test),
// S3 a real s3rver on loopback.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "app/node.hpp"
#include "support/postgres_server.hpp"
#include "support/s3_server.hpp"
#include "support/service_process.hpp"
#include "unit/commit/test_support.hpp"

namespace duckmesh::commit {
namespace {

using testing::S3Server;
using testing::TempDir;

enum class Catalog { sqlite, postgres };
enum class Bus { local, postgres };
enum class Store { local, s3 };
using Combination = std::tuple<Catalog, Bus, Store>;

std::string combination_name(const ::testing::TestParamInfo<Combination>& info) {
  const auto [catalog, bus, store] = info.param;
  return std::string(catalog == Catalog::sqlite ? "sqlite" : "postgres") + "_catalog_" +
         (bus == Bus::local ? "local" : "postgres") + "_bus_" +
         (store == Store::local ? "local" : "s3") + "_store";
}

class BackendCombinations : public ::testing::TestWithParam<Combination> {
 protected:
  void SetUp() override {
    const auto [catalog, bus, store] = GetParam();
    options_.data_dir = dir_.path() / "node";
    options_.coordinator.max_batch_events = 1000;
    options_.coordinator.max_batch_age = std::chrono::milliseconds(20);
    options_.coordinator.consumer = "coordinator/combinations";
    if (catalog == Catalog::postgres || bus == Bus::postgres) {
      url_ = duckmesh::testing::shared_postgres().create_database("combo");
    }
    if (catalog == Catalog::postgres) {
      catalog::PostgresCatalogOptions o;
      o.url = url_;
      options_.postgres = o;
    }
    if (bus == Bus::postgres) {
      bus::PostgresBusOptions o;
      o.url = url_;
      o.partition_positions = 50;
      options_.postgres_bus = o;
    }
    if (store == Store::s3) {
      s3_.emplace(dir_.path() / "s3", "combinations");
      storage::S3Options o;
      o.endpoint = s3_->endpoint();
      o.bucket = s3_->bucket();
      o.credentials = {"S3RVER", "S3RVER", ""};
      o.base_backoff = std::chrono::milliseconds(10);
      o.max_attempts = 3;
      options_.s3 = o;
    }
    open();
    node_->catalog().create_product({"shop", "", ""});
    node_->catalog().create_table(
        "shop", {"orders",
                 catalog::TableKind::append,
                 {},
                 {},
                 R"J([{"name":"id","type":"bigint"},{"name":"amount","type":"decimal(12,2)"}])J",
                 "{}"});
    node_->catalog().create_table(
        "shop",
        {"accounts",
         catalog::TableKind::keyed,
         {"id"},
         {},
         R"([{"name":"id","type":"bigint","nullable":false},{"name":"name","type":"varchar"}])",
         "{}"});
  }

  // Opens the node, or reopens it as a restarted process would.
  void open() {
    node_.reset();
    node_ = std::make_unique<app::Node>(options_);
  }

  std::vector<bus::Position> publish(const std::string& table,
                                     const std::vector<std::string>& payloads,
                                     const std::vector<std::string>& keys = {}) {
    return test_support::publish(*node_, "shop", table, payloads, keys);
  }

  // The first value of `sql`'s first row at `snapshot` (latest when 0).
  std::string scalar(const std::string& sql, std::int64_t snapshot = 0) {
    auto rows = test_support::query(*node_, "shop", sql, snapshot);
    return rows.empty() ? "<no rows>" : rows.at(0).at(0);
  }

  TempDir dir_;
  std::string url_;
  std::optional<S3Server> s3_;
  app::NodeOptions options_;
  std::unique_ptr<app::Node> node_;
};

TEST_P(BackendCombinations, EventsCommitOncePerKeyAndSurviveARestart) {
  publish("orders",
          {R"({"id": 1, "amount": 1.5})", R"({"id": 2, "amount": 2})", R"({"id": 2, "amount": 2})",
           R"({"id": 3})"},
          {"k1", "k2", "k2", "k3"});
  auto first = node_->coordinator().commit_once();
  EXPECT_EQ(first.committed, 3u);
  EXPECT_EQ(first.duplicates, 1u);
  const auto s1 = node_->catalog().latest_snapshot("shop")->id;
  EXPECT_EQ(scalar("SELECT count(*) || '/' || sum(amount) FROM orders"), "3/3.50");

  // A retry across batches writes nothing twice.
  auto positions = publish("orders", {R"({"id": 3})", R"({"id": 4, "amount": 4})"}, {"k3", "k4"});
  auto second = node_->coordinator().commit_once();
  EXPECT_EQ(second.committed, 1u);
  EXPECT_EQ(second.duplicates, 1u);
  EXPECT_EQ(node_->coordinator().watermark(), positions.back());
  EXPECT_EQ(scalar("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM orders"), "1,2,3,4");
  // The earlier snapshot still reads as it was.
  EXPECT_EQ(scalar("SELECT count(*) FROM orders", s1), "3");

  // After a restart: the same rows, the same watermark, the keys remembered,
  // and new positions after the old ones.
  open();
  EXPECT_EQ(node_->coordinator().watermark(), positions.back());
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "4");
  auto later = publish("orders", {R"({"id": 4, "amount": 4})", R"({"id": 5})"}, {"k4", "k5"});
  EXPECT_GT(later.front(), positions.back());
  auto third = node_->coordinator().commit_once();
  EXPECT_EQ(third.committed, 1u);
  EXPECT_EQ(third.duplicates, 1u);
  EXPECT_EQ(scalar("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM orders"), "1,2,3,4,5");
  EXPECT_EQ(node_->bus().stats().pending, 0u);
}

TEST_P(BackendCombinations, KeyedTablesKeepTheLatestVersionAndHideDeletes) {
  publish("accounts", {R"({"id": 1, "name": "a1"})", R"({"id": 2, "name": "b1"})",
                       R"({"id": 1, "name": "a2"})"});
  node_->coordinator().commit_once();
  const auto before_delete = node_->catalog().latest_snapshot("shop")->id;
  publish("accounts", {R"({"id": 2, "_dm_op": "delete"})", R"({"id": 3, "name": "c1"})"});
  node_->coordinator().commit_once();
  EXPECT_EQ(scalar("SELECT string_agg(id || '=' || name, ',' ORDER BY id) FROM accounts"),
            "1=a2,3=c1");
  EXPECT_EQ(scalar("SELECT string_agg(name, ',' ORDER BY id) FROM accounts", before_delete),
            "a2,b1");
}

TEST_P(BackendCombinations, AnUnconvertibleEventIsDeadLetteredAndTheOthersCommit) {
  auto positions = publish("orders", {R"({"id": 1})", R"({"id": "not a number"})", R"({"id": 3})"});
  auto result = node_->coordinator().commit_once();
  EXPECT_EQ(result.committed, 2u);
  EXPECT_EQ(result.dead_lettered, 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM orders"), "2");
  auto dead = node_->bus().dead_letters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].record.position, positions[1]);
  EXPECT_EQ(node_->coordinator().watermark(), positions.back());
  // Every data file a snapshot names is in the store.
  const auto snapshot = node_->catalog().latest_snapshot("shop")->id;
  for (const auto& file : node_->catalog().live_files("shop", snapshot, "orders")) {
    auto info = node_->store().stat(file.path);
    ASSERT_TRUE(info.has_value()) << file.path;
    EXPECT_EQ(static_cast<std::int64_t>(info->size), file.bytes) << file.path;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendCombinations,
                         ::testing::Combine(::testing::Values(Catalog::sqlite, Catalog::postgres),
                                            ::testing::Values(Bus::local, Bus::postgres),
                                            ::testing::Values(Store::local, Store::s3)),
                         combination_name);

}  // namespace
}  // namespace duckmesh::commit
