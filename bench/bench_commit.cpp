// Sustained publish -> commit throughput and publish-to-visible latency of the
// embedded core, side by side with raw DuckDB converting the same events from
// NDJSON to Parquet in the same run.
//
//   bench_commit [EVENTS=1000000] [BATCH=1000] [PUBLISHERS=2] [COMMIT_BATCH=200000]
//
// Events are ~160 bytes of JSON, published as ingest's validator writes them
// (binary payloads for this table of scalar columns; validated before the
// clock starts). DuckMesh's figure covers the whole path: the
// durable log (fsync per group commit), the coordinator's Parquet writes, the
// catalog publication and the ack. Raw DuckDB's covers only the conversion of
// a file already on disk, so the ratio is the price of durability and
// snapshots.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/node.hpp"
#include "bus/local/local_log_bus.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "ingest/validation.hpp"
#include "schema/table_schema.hpp"

using namespace duckmesh;
using Clock = std::chrono::steady_clock;

namespace {

const char* kSchema = R"J([
  {"name": "event_id", "type": "varchar"}, {"name": "user_id", "type": "bigint"},
  {"name": "kind", "type": "varchar"}, {"name": "amount", "type": "decimal(12,2)"},
  {"name": "at", "type": "timestamp"}, {"name": "country", "type": "varchar"},
  {"name": "note", "type": "varchar"}])J";

std::string event(std::size_t i) {
  static const char* kinds[] = {"view", "click", "purchase", "refund"};
  static const char* countries[] = {"FR", "DE", "US", "JP", "BR"};
  char buf[320];
  std::snprintf(
      buf, sizeof buf,
      R"({"event_id":"evt-%010zu","user_id":%zu,"kind":"%s","amount":%zu.%02zu,)"
      R"("at":"2026-11-%02zuT%02zu:%02zu:%02zuZ","country":"%s","note":"lorem ipsum dolor sit amet %zu"})",
      i, i % 100000, kinds[i % 4], i % 5000, i % 100, 1 + i % 28, i % 24, i % 60, (i / 60) % 60,
      countries[i % 5], i);
  return buf;
}

// Events `from` .. `to` - 1 as ingest's validator writes them, validated as
// NDJSON bodies of 10,000 events.
void validated_payloads(std::size_t from, std::size_t to, std::vector<std::string>& out) {
  static const auto schema = schema::TableSchema::from_json_text(kSchema);
  constexpr std::size_t kBody = 10'000;
  for (std::size_t start = from; start < to; start += kBody) {
    std::string body;
    for (std::size_t i = start; i < std::min(to, start + kBody); ++i) {
      body += event(i);
      body += '\n';
    }
    auto result = ingest::validate_events(body, ingest::BodyFormat::ndjson, schema, {});
    if (!result.rejected.empty()) {
      std::fprintf(stderr, "bench event refused: %s\n", result.rejected[0].message.c_str());
      std::exit(1);
    }
    for (auto& e : result.valid) out[start + e.index] = std::move(e.payload);
  }
}

// CPU seconds (user + system) of the whole process so far: the figure that
// stays comparable when other work shares the machine.
double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// A node on `dir` with the bench product and its table.
std::unique_ptr<app::Node> make_node(const std::filesystem::path& dir, std::size_t commit_batch) {
  app::NodeOptions options;
  options.data_dir = dir;
  options.coordinator.max_batch_events = commit_batch;
  auto node = std::make_unique<app::Node>(options);
  node->catalog().create_product({"bench", "", ""});
  node->catalog().create_table("bench",
                               {"events", catalog::TableKind::append, {}, {}, kSchema, "{}"});
  return node;
}

// Hands the payloads over (each is published once), as the ingest service
// hands over the payloads its validator wrote: copying them here would time
// the bench's own allocations as DuckMesh's work.
std::vector<bus::Record> batch_records(std::vector<std::string>& payloads, std::size_t from,
                                       std::size_t to) {
  std::vector<bus::Record> records;
  records.reserve(to - from);
  for (std::size_t i = from; i < to; ++i) {
    bus::Record r;
    r.product = "bench";
    r.table = "events";
    r.payload = std::move(payloads[i]);
    records.push_back(std::move(r));
  }
  return records;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t events = argc > 1 ? std::stoul(argv[1]) : 1'000'000;
  std::size_t batch = argc > 2 ? std::stoul(argv[2]) : 1000;
  std::size_t publisher_count = argc > 3 ? std::stoul(argv[3]) : 2;
  std::size_t commit_batch = argc > 4 ? std::stoul(argv[4]) : 200'000;
  auto dir =
      std::filesystem::temp_directory_path() / ("duckmesh-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < events; ++i) bytes += event(i).size();
  std::vector<std::string> payloads(events);
  validated_payloads(0, events, payloads);
  std::size_t payload_bytes = 0;
  for (const auto& p : payloads) payload_bytes += p.size();
  std::printf(
      "events: %zu, avg %.0f bytes as JSON, %.0f as published, batch %zu, publishers %zu, cores "
      "%u\n",
      events, static_cast<double>(bytes) / static_cast<double>(events),
      static_cast<double>(payload_bytes) / static_cast<double>(events), batch, publisher_count,
      std::thread::hardware_concurrency());

  // --- raw DuckDB: NDJSON file -> Parquet -------------------------------
  double raw_eps = 0;
  double raw_cpu = 0;
  {
    auto ndjson = dir / "raw.ndjson";
    {
      std::ofstream out(ndjson);
      for (std::size_t i = 0; i < events; ++i) out << event(i) << '\n';
    }
    duck::Database db(":memory:", {});
    duck::Connection conn(db);
    auto start = Clock::now();
    double cpu_start = process_cpu_seconds();
    conn.execute("COPY (SELECT * FROM read_json('" + ndjson.string() +
                 "', format='newline_delimited', columns={'event_id':'VARCHAR','user_id':'BIGINT',"
                 "'kind':'VARCHAR','amount':'DECIMAL(12,2)','at':'TIMESTAMP','country':'VARCHAR',"
                 "'note':'VARCHAR'})) TO '" +
                 (dir / "raw.parquet").string() + "' (FORMAT parquet, COMPRESSION zstd)");
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    raw_eps = static_cast<double>(events) / secs;
    raw_cpu = process_cpu_seconds() - cpu_start;
    std::printf("raw DuckDB NDJSON->Parquet: %.3f s, %.0f events/s, %.3f CPU s\n", secs, raw_eps,
                raw_cpu);
  }

  // --- DuckMesh: publish -> visible --------------------------------------
  {
    auto node_ptr = make_node(dir / "node", commit_batch);
    app::Node& node = *node_ptr;
    node.coordinator().start();

    std::size_t batches = (events + batch - 1) / batch;
    std::vector<bus::Position> last_position(batches);
    std::vector<Clock::time_point> acked_at(batches), visible_at(batches);
    std::atomic<std::size_t> published{0};
    std::atomic<bool> done{false};
    // Watches the watermark and stamps when each batch becomes visible.
    std::thread watcher([&] {
      std::size_t next = 0;
      while (next < batches) {
        auto wm = node.coordinator().watermark();
        auto now = Clock::now();
        while (next < published.load() && last_position[next] <= wm) visible_at[next++] = now;
        if (done && next >= published.load()) break;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
    auto start = Clock::now();
    double cpu_start = process_cpu_seconds();
    // Concurrent publishers, as concurrent clients would be, sharing group commits.
    std::mutex order;
    std::atomic<std::size_t> next_batch{0};
    std::vector<std::thread> publishers;
    for (std::size_t t = 0; t < publisher_count; ++t) {
      publishers.emplace_back([&] {
        for (;;) {
          std::size_t b = next_batch.fetch_add(1);
          if (b >= batches) return;
          auto records = batch_records(payloads, b * batch, std::min(events, (b + 1) * batch));
          auto n = records.size();
          auto positions = node.bus().publish(std::move(records));
          std::lock_guard lock(order);
          last_position[b] = positions.back();
          acked_at[b] = Clock::now();
          node.coordinator().notify_published(n);
          // Publication order and batch order can differ by one between the
          // two publishers; the watcher only walks batches already recorded.
          std::size_t p = published.load();
          while (p < batches && acked_at[p] != Clock::time_point{}) ++p;
          published = p;
        }
      });
    }
    for (auto& t : publishers) t.join();
    auto publish_done = Clock::now();
    bus::Position last = 0;
    for (auto p : last_position) last = std::max(last, p);
    node.coordinator().wait_for(last, std::chrono::minutes(10));
    auto end = Clock::now();
    double cpu = process_cpu_seconds() - cpu_start;
    done = true;
    watcher.join();
    node.coordinator().stop();

    double secs = std::chrono::duration<double>(end - start).count();
    double eps = static_cast<double>(events) / secs;
    std::vector<double> ack_to_visible;
    for (std::size_t b = 0; b < batches; ++b) {
      ack_to_visible.push_back(
          std::chrono::duration<double, std::milli>(visible_at[b] - acked_at[b]).count());
    }
    // Group commits: one fdatasync each, shared by the publishes queued
    // while the previous one was syncing.
    const auto* log = dynamic_cast<const bus::LocalLogBus*>(&node.bus());
    std::printf(
        "duckmesh publish: %.3f s (%.0f events/s acknowledged, %llu group commits for %zu "
        "publishes)\n",
        std::chrono::duration<double>(publish_done - start).count(),
        static_cast<double>(events) / std::chrono::duration<double>(publish_done - start).count(),
        static_cast<unsigned long long>(log != nullptr ? log->sync_count() : 0), batches);
    std::printf(
        "duckmesh publish->visible end to end: %.3f s, %.0f events/s, ratio to raw DuckDB %.2f\n",
        secs, eps, eps / raw_eps);
    std::printf("duckmesh CPU: %.3f s, %.2f x raw DuckDB's CPU for the same events\n", cpu,
                cpu / raw_cpu);
    std::printf("ack->visible latency per batch: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                percentile(ack_to_visible, 0.50), percentile(ack_to_visible, 0.99),
                percentile(ack_to_visible, 1.0));
    auto files =
        node.catalog().live_files("bench", node.catalog().latest_snapshot("bench")->id, "events");
    std::int64_t rows = 0;
    for (auto& f : files) rows += f.row_count;
    std::printf("files: %zu, rows in files: %lld, snapshots: %lld\n", files.size(),
                static_cast<long long>(rows),
                static_cast<long long>(node.catalog().latest_snapshot("bench")->id));
  }

  // --- the two halves apart: publish with no coordinator, then commit ----
  {
    validated_payloads(0, events, payloads);  // handed over above
    auto node_ptr = make_node(dir / "phases", commit_batch);
    app::Node& node = *node_ptr;
    std::size_t batches = (events + batch - 1) / batch;
    std::atomic<std::size_t> next_batch{0};
    auto start = Clock::now();
    double cpu_start = process_cpu_seconds();
    std::vector<std::thread> publishers;
    for (std::size_t t = 0; t < publisher_count; ++t) {
      publishers.emplace_back([&] {
        for (std::size_t b; (b = next_batch.fetch_add(1)) < batches;) {
          auto records = batch_records(payloads, b * batch, std::min(events, (b + 1) * batch));
          node.bus().publish(std::move(records));
        }
      });
    }
    for (auto& t : publishers) t.join();
    double publish_secs = std::chrono::duration<double>(Clock::now() - start).count();
    double publish_cpu = process_cpu_seconds() - cpu_start;
    start = Clock::now();
    cpu_start = process_cpu_seconds();
    node.coordinator().drain();
    double commit_secs = std::chrono::duration<double>(Clock::now() - start).count();
    double commit_cpu = process_cpu_seconds() - cpu_start;
    std::printf(
        "apart: publish %.3f s (%.0f events/s, %.3f CPU s); commit %.3f s (%.0f events/s, "
        "%.3f CPU s, %.2f x raw DuckDB's CPU)\n",
        publish_secs, static_cast<double>(events) / publish_secs, publish_cpu, commit_secs,
        static_cast<double>(events) / commit_secs, commit_cpu, commit_cpu / raw_cpu);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
