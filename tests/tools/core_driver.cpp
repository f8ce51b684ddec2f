// Drives the embedded core (catalog, log, store, coordinator) from the
// command line so crash tests can SIGKILL a real process at a fault point
// and inspect what survived. Usage:
//   core_driver setup DIR
//   core_driver publish DIR TABLE COUNT KEY_PREFIX [BATCH]   prints "ack FIRST LAST" per batch
//   core_driver commit DIR                                   drains the log into snapshots
//   core_driver run DIR TABLE COUNT KEY_PREFIX               publishes while the coordinator runs
//   core_driver count DIR TABLE                              prints "rows distinct_keys snapshot"
//   core_driver orphans DIR                                  prints store files no snapshot knows
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <set>
#include <string>

#include "app/node.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "query/snapshot_binder.hpp"

using namespace duckmesh;

namespace {

const char* kOrdersSchema = R"J([
  {"name": "id", "type": "varchar", "nullable": false},
  {"name": "amount", "type": "decimal(12,2)"},
  {"name": "at", "type": "timestamp"}
])J";

std::vector<bus::Record> make_records(const std::string& table, std::size_t first,
                                      std::size_t count, const std::string& prefix) {
  std::vector<bus::Record> out;
  for (std::size_t i = first; i < first + count; ++i) {
    bus::Record r;
    r.product = "shop";
    r.table = table;
    r.idempotency_key = prefix + "-" + std::to_string(i);
    r.payload = "{\"id\":\"" + r.idempotency_key + "\",\"amount\":" + std::to_string(i % 1000) +
                ".25,\"at\":\"2026-11-25T10:00:00Z\"}";
    out.push_back(std::move(r));
  }
  return out;
}

void publish(app::Node& node, const std::string& table, std::size_t count,
             const std::string& prefix, std::size_t batch) {
  for (std::size_t i = 0; i < count; i += batch) {
    auto n = std::min(batch, count - i);
    auto positions = node.bus().publish(make_records(table, i, n, prefix));
    node.coordinator().notify_published(n);
    std::printf("ack %llu %llu\n", static_cast<unsigned long long>(positions.front()),
                static_cast<unsigned long long>(positions.back()));
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) {
    std::cerr << "usage: core_driver setup|publish|commit|run|count|orphans DIR ...\n";
    return 2;
  }
  try {
    app::NodeOptions options;
    options.data_dir = args[1];
    options.coordinator.max_batch_events = 400;
    app::Node node(options);
    const auto& cmd = args[0];
    if (cmd == "setup") {
      node.catalog().create_product({"shop", "test shop", "tests"});
      catalog::TableDef orders{"orders", catalog::TableKind::append, {}, {}, kOrdersSchema, "{}"};
      node.catalog().create_table("shop", orders);
      catalog::TableDef by_day = orders;
      by_day.name = "orders_by_day";
      by_day.partition = {"at", "day"};
      node.catalog().create_table("shop", by_day);
    } else if (cmd == "publish") {
      publish(node, args[2], std::stoul(args[3]), args[4],
              args.size() > 5 ? std::stoul(args[5]) : 50);
    } else if (cmd == "commit") {
      node.coordinator().drain();
    } else if (cmd == "run") {
      node.coordinator().start();
      publish(node, args[2], std::stoul(args[3]), args[4], 25);
      node.coordinator().stop();
      node.coordinator().drain();
    } else if (cmd == "count") {
      auto snap = node.catalog().latest_snapshot("shop");
      duck::Database db(":memory:", {});
      duck::Connection conn(db);
      query::bind_snapshot(conn, node.catalog(), node.store(), "shop", snap->id);
      auto rows = conn.query("SELECT count(*), count(DISTINCT id) FROM " + args[2]).fetch_all();
      std::cout << std::get<std::int64_t>(rows[0][0]) << " " << std::get<std::int64_t>(rows[0][1])
                << " " << snap->id << std::endl;
    } else if (cmd == "orphans") {
      std::set<std::string> known;
      auto latest = node.catalog().latest_snapshot("shop");
      for (std::int64_t s = 1; latest && s <= latest->id; ++s) {
        for (auto& f : node.catalog().live_files("shop", s, "")) known.insert(f.path);
      }
      std::size_t orphans = 0;
      for (auto& o : node.store().list("products/")) orphans += known.count(o.key) ? 0 : 1;
      std::cout << orphans << std::endl;
    } else {
      std::cerr << "unknown command " << cmd << "\n";
      return 2;
    }
  } catch (const std::exception& e) {
    std::cerr << "core_driver: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
