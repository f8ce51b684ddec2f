#include "maintenance/maintenance_loop.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "catalog/sqlite/sqlite_catalog.hpp"
#include "maintenance_test_support.hpp"
#include "obs/metrics.hpp"

namespace duckmesh::maintenance {
namespace {

using testing::NodeFixture;

class MaintenanceLoopTest : public NodeFixture {};

TEST_F(MaintenanceLoopTest, OnePassCompactsExpiresCollectsAndReportsFigures) {
  create_append("loop_orders");
  for (int i = 0; i < 4; ++i) ingest("loop_orders", {"{\"id\": " + std::to_string(i) + "}"});
  MaintenanceOptions options;
  options.retention.keep_at_least = 1;
  options.retention.max_age = std::chrono::seconds(0);
  options.gc.grace = std::chrono::seconds(0);
  MaintenanceLoop loop(node_->catalog(), node_->store(), options);
  loop.run_once();

  // Compacted to one file, the four replaced files expired and deleted.
  auto live = files("loop_orders");
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(node_->catalog().oldest_snapshot("shop")->id, latest());
  EXPECT_EQ(node_->store().list("products/shop/tables/loop_orders/").size(), 1u);
  EXPECT_EQ(scalar("SELECT count(*) || ':' || sum(id) FROM loop_orders"), "4:6");

  auto text = obs::Registry::global().expose();
  EXPECT_NE(text.find("duckmesh_table_files{product=\"shop\",table=\"loop_orders\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("duckmesh_table_small_files{product=\"shop\",table=\"loop_orders\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("duckmesh_maintenance_runs_total{task=\"compact\",outcome=\"compacted\"}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("duckmesh_maintenance_runs_total{task=\"gc\",outcome=\"deleted\"}"),
            std::string::npos);
  EXPECT_NE(text.find("duckmesh_maintenance_last_run_timestamp_seconds{task=\"gc\"}"),
            std::string::npos);
  EXPECT_EQ(text.find("duckmesh_gc_bytes_reclaimed_total 0\n"), std::string::npos);
}

TEST_F(MaintenanceLoopTest, APassPurgesIdempotencyKeysPastTheWindow) {
  // A catalog that remembers keys for 1 ms.
  catalog::SqliteCatalogOptions catalog_options;
  catalog_options.path = (dir_.path() / "short-window.sqlite").string();
  catalog_options.idempotency_window_us = 1000;
  catalog::SqliteCatalog catalog(catalog_options);
  catalog.create_product({"shop", "", ""});
  catalog::TableDef def{"keyed_events",
                        catalog::TableKind::append,
                        {},
                        {},
                        R"J([{"name":"id","type":"bigint"}])J",
                        "{}"};
  catalog.create_table("shop", def);
  catalog::Publication publication;
  publication.product = "shop";
  publication.idempotency = {{"keyed_events", "k1", 1}, {"keyed_events", "k2", 2}};
  catalog.publish({publication}, {});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));

  MaintenanceOptions options;
  options.compact = false;
  MaintenanceLoop loop(catalog, node_->store(), options);
  loop.run_once();
  EXPECT_EQ(loop.last_runs().at("idempotency").outcome, "purged");
  // Nothing left for a purge to remove, however late.
  EXPECT_EQ(catalog.purge_idempotency(std::int64_t{1} << 62), 0u);
  loop.run_once();
  EXPECT_EQ(loop.last_runs().at("idempotency").outcome, "nothing_to_do");
}

TEST_F(MaintenanceLoopTest, StartsAndStopsPromptly) {
  MaintenanceOptions options;
  options.interval = std::chrono::milliseconds(3'600'000);
  MaintenanceLoop loop(node_->catalog(), node_->store(), options);
  auto start = std::chrono::steady_clock::now();
  loop.start();
  loop.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace duckmesh::maintenance
