// A node over a temporary data directory with helpers to ingest, commit and
// query, shared by the maintenance tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "app/node.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "support/service_process.hpp"
#include "support/snapshot_rows.hpp"

namespace duckmesh::maintenance::testing {

class NodeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    app::NodeOptions options;
    options.data_dir = dir_.path();
    options.coordinator.max_batch_events = 100'000;
    options.coordinator.max_batch_age = std::chrono::milliseconds(1);
    node_ = std::make_unique<app::Node>(options);
    node_->catalog().create_product({"shop", "", ""});
  }

  void create_append(const std::string& name, catalog::PartitionSpec partition = {},
                     std::string options_json = "{}") {
    catalog::TableDef def{
        name,
        catalog::TableKind::append,
        {},
        partition,
        R"J([{"name":"id","type":"bigint"},{"name":"amount","type":"decimal(12,2)"},
             {"name":"at","type":"timestamp"},{"name":"tags","type":"varchar[]"}])J",
        std::move(options_json)};
    node_->catalog().create_table("shop", def);
  }

  void create_keyed(const std::string& name, catalog::PartitionSpec partition = {}) {
    catalog::TableDef def{name,
                          catalog::TableKind::keyed,
                          {"id"},
                          partition,
                          R"J([{"name":"id","type":"bigint","nullable":false},
                               {"name":"name","type":"varchar"},{"name":"at","type":"timestamp"}])J",
                          "{}"};
    node_->catalog().create_table("shop", def);
  }

  // Publishes the payloads and commits them as one batch (one file per partition).
  void ingest(const std::string& table, const std::vector<std::string>& payloads) {
    std::vector<bus::Record> records;
    for (const auto& p : payloads) {
      bus::Record r;
      r.product = "shop";
      r.table = table;
      r.payload = p;
      records.push_back(std::move(r));
    }
    node_->bus().publish(std::move(records));
    while (node_->coordinator().commit_once().claimed > 0) {
    }
  }

  std::int64_t latest() { return node_->catalog().latest_snapshot("shop")->id; }

  std::vector<catalog::DataFile> files(const std::string& table, std::int64_t snapshot = 0) {
    return node_->catalog().live_files("shop", snapshot ? snapshot : latest(), table);
  }

  std::vector<std::vector<std::string>> query(const std::string& sql, std::int64_t snapshot = 0,
                                              bool system = false) {
    return duckmesh::testing::snapshot_rows(*node_, "shop", sql, snapshot == 0 ? latest() : snapshot,
                                  system);
  }

  static std::vector<std::vector<std::string>> rows_of(duck::Connection& conn,
                                                       const std::string& sql) {
    return duckmesh::testing::rows_of(conn, sql);
  }

  std::string scalar(const std::string& sql, std::int64_t snapshot = 0) {
    return query(sql, snapshot).at(0).at(0);
  }

  duckmesh::testing::TempDir dir_;
  std::unique_ptr<app::Node> node_;
};

}  // namespace duckmesh::maintenance::testing
