// File count and query latency under continuous ingest, with and without the
// compactor.
//
//   bench_compaction DATA_DIR with|without [SECONDS=600] [EVENTS_PER_BATCH=500]
//                    [COMPACT_EVERY_S=10] [SAMPLE_EVERY_S=30]
//
// One append table (id BIGINT, k INTEGER, v DOUBLE, at TIMESTAMP). Every
// 200 ms one micro-batch of EVENTS_PER_BATCH events is published to the bus
// and committed (one Parquet file each), on the embedded core (no HTTP). With
// "with", a second thread runs the Compactor (default options) over the table
// every COMPACT_EVERY_S seconds, as `serve` does in the background. Every
// SAMPLE_EVERY_S seconds the live file count is printed with the latency of a
// fixed aggregate, SELECT k, count(*), sum(v) FROM t GROUP BY k, over the
// latest snapshot (bind the snapshot's view + run; median of 5 runs). At the
// end the same query is timed over the same rows fully compacted into one
// file (the reference), and the ratio of the last sample to it is printed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "app/node.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "maintenance/compactor.hpp"
#include "query/snapshot_binder.hpp"

using namespace duckmesh;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kSchema = R"([{"name":"id","type":"bigint"},{"name":"k","type":"integer"},)"
                                R"({"name":"v","type":"double"},{"name":"at","type":"timestamp"}])";
constexpr const char* kQuery = "SELECT k, count(*), sum(v) FROM t GROUP BY k";

double query_ms(app::Node& node, std::int64_t snapshot) {
  duck::Database db(":memory:", {});
  duck::Connection conn(db);
  std::vector<double> runs;
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    query::bind_snapshot(conn, node.catalog(), node.store(), "bench", snapshot, {});
    auto result = conn.query(kQuery);
    while (result.next_chunk()) {
    }
    runs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: bench_compaction DATA_DIR with|without [SECONDS] [EVENTS_PER_BATCH] "
                 "[COMPACT_EVERY_S] [SAMPLE_EVERY_S]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const bool with = std::string(argv[2]) == "with";
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 600;
  const int per_batch = argc > 4 ? std::atoi(argv[4]) : 500;
  const int compact_every = argc > 5 ? std::atoi(argv[5]) : 10;
  const int sample_every = argc > 6 ? std::atoi(argv[6]) : 30;
  std::filesystem::remove_all(dir);

  app::NodeOptions options;
  options.data_dir = dir;
  options.coordinator.duckdb_threads = 1;
  app::Node node(options);
  node.catalog().create_product({"bench", "", ""});
  node.catalog().create_table("bench", {"t", catalog::TableKind::append, {}, {}, kSchema, "{}"});

  std::atomic<bool> stop{false};
  std::atomic<long> compactions{0};
  std::thread compactor_thread;
  if (with) {
    compactor_thread = std::thread([&] {
      maintenance::Compactor compactor(node.catalog(), node.store());
      while (!stop) {
        for (int i = 0; i < compact_every * 10 && !stop; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (stop) break;
        auto r = compactor.compact_table("bench", "t");
        if (r.outcome == maintenance::CompactionOutcome::compacted) ++compactions;
      }
    });
  }

  std::printf("mode=%s seconds=%d events_per_batch=%d compact_every_s=%d\n",
              with ? "with" : "without", seconds, per_batch, compact_every);
  std::printf("%8s %10s %8s %10s\n", "elapsed_s", "rows", "files", "query_ms");
  const auto start = Clock::now();
  auto next_batch = start;
  auto next_sample = start + std::chrono::seconds(sample_every);
  long id = 0;
  double last_ms = 0;
  std::size_t last_files = 0;
  while (Clock::now() - start < std::chrono::seconds(seconds)) {
    std::vector<bus::Record> records;
    for (int i = 0; i < per_batch; ++i, ++id) {
      bus::Record r;
      r.product = "bench";
      r.table = "t";
      r.payload = "{\"id\": " + std::to_string(id) + ", \"k\": " + std::to_string(id % 100) +
                  ", \"v\": " + std::to_string(static_cast<double>(id % 1000) / 10.0) +
                  ", \"at\": \"2026-12-01T00:00:00Z\"}";
      records.push_back(std::move(r));
    }
    node.bus().publish(std::move(records));
    node.coordinator().commit_once();
    if (Clock::now() >= next_sample) {
      auto snap = node.catalog().latest_snapshot("bench")->id;
      last_files = node.catalog().live_files("bench", snap, "t").size();
      last_ms = query_ms(node, snap);
      std::printf("%8.0f %10ld %8zu %10.2f\n",
                  std::chrono::duration<double>(Clock::now() - start).count(), id, last_files,
                  last_ms);
      std::fflush(stdout);
      next_sample += std::chrono::seconds(sample_every);
    }
    next_batch += std::chrono::milliseconds(200);
    std::this_thread::sleep_until(next_batch);
  }
  stop = true;
  if (compactor_thread.joinable()) compactor_thread.join();

  // Reference: the same rows fully compacted into one file.
  maintenance::CompactionOptions full;
  full.small_file_bytes = std::int64_t{1} << 40;
  full.small_file_rows = std::int64_t{1} << 40;
  full.target_file_bytes = std::int64_t{1} << 40;
  full.target_file_rows = std::int64_t{1} << 40;
  maintenance::Compactor final_compactor(node.catalog(), node.store(), full);
  auto before = node.catalog().latest_snapshot("bench")->id;
  auto files_before = node.catalog().live_files("bench", before, "t").size();
  auto at_end_ms = query_ms(node, before);
  final_compactor.compact_table("bench", "t");
  auto compacted = node.catalog().latest_snapshot("bench")->id;
  auto reference_ms = query_ms(node, compacted);
  std::printf("end: rows=%ld files=%zu query_ms=%.2f compactions=%ld\n", id, files_before,
              at_end_ms, compactions.load());
  std::printf("fully compacted (1 file): query_ms=%.2f ratio_at_end=%.2f\n", reference_ms,
              at_end_ms / reference_ms);
  return 0;
}
