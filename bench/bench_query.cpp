// Latency of consumer queries through the query plane, side by side with
// raw DuckDB over the same Parquet files, and the cost of a Sandbox.
//
//   bench_query [ROWS=10000000] [SECONDS_PER_CELL=3]
//
// ROWS rows (id BIGINT, k INTEGER, v DOUBLE, s VARCHAR) are written as
// Parquet in three layouts: 1, 100 and 1000 files, each file a contiguous
// range of ids (as ingestion batches are). For each layout three queries
// run repeatedly:
//   point      SELECT * FROM t WHERE id = ?          (1 row, random id)
//   filter     SELECT * FROM t WHERE k = 7           (ROWS / 10000 rows)
//   aggregate  SELECT k, sum(v) FROM t GROUP BY k    (10000 rows)
// through
//   raw      one DuckDB connection: prepare, bind, execute, read every chunk,
//            over read_parquet(<glob>) written into the SQL;
//   service  a Sandbox over the layout's directory with the view `t` over
//            the same read_parquet(<glob>), then run_query (read-only gate,
//            binding, streaming, JSON encoding into a StringSink);
//   binder   as service, but `t` is the view the SnapshotBinder makes when
//            all files share their columns: an explicit file list and a CAST per
//            column (no union_by_name, so binding reads one footer).
// Each cell runs for about SECONDS_PER_CELL seconds (at least 3 runs) and
// prints p50/p99 in ms and the ratio to raw at p50.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "query/executor.hpp"
#include "query/sandbox.hpp"

using namespace duckmesh;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

struct Stats {
  double p50 = 0;
  double p99 = 0;
  std::size_t runs = 0;
};

// Runs `once` (warmed up by one run) for about `seconds`, at least 3 times.
Stats measure(const std::function<void(std::size_t)>& once, double seconds) {
  once(0);
  std::vector<double> samples;
  const auto start = Clock::now();
  for (std::size_t i = 1; samples.size() < 3 || ms_since(start) < seconds * 1000; ++i) {
    const auto t = Clock::now();
    once(i);
    samples.push_back(ms_since(t));
    if (samples.size() >= 2000) break;
  }
  return {percentile(samples, 0.5), percentile(samples, 0.99), samples.size()};
}

struct Layout {
  std::string name;
  std::size_t files;
  fs::path dir;
  std::vector<std::string> paths;
};

std::string sql_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Writes `rows` rows split into `files` files of contiguous ids.
void write_layout(duck::Connection& conn, Layout& layout, std::size_t rows) {
  fs::create_directories(layout.dir);
  const std::string data =
      "SELECT range AS id, (range % 10000)::INTEGER AS k, (range % 997) / 7.0 AS v, "
      "'s' || range AS s FROM range(" +
      std::to_string(rows) + ")";
  if (layout.files == 1) {
    conn.execute("COPY (" + data + ") TO " + sql_string((layout.dir / "part.parquet").string()) +
                 " (FORMAT parquet)");
  } else {
    const std::size_t per_file = (rows + layout.files - 1) / layout.files;
    conn.execute("COPY (SELECT *, id // " + std::to_string(per_file) + " AS part FROM (" + data +
                 ")) TO " + sql_string(layout.dir.string()) +
                 " (FORMAT parquet, PARTITION_BY (part), OVERWRITE_OR_IGNORE true)");
  }
  for (const auto& entry : fs::recursive_directory_iterator(layout.dir)) {
    if (entry.path().extension() == ".parquet") layout.paths.push_back(entry.path().string());
  }
  std::sort(layout.paths.begin(), layout.paths.end());
}

std::string glob_source(const Layout& layout) {
  return "read_parquet(" + sql_string((layout.dir / "**" / "*.parquet").string()) +
         ", hive_partitioning = false)";
}

// The view SnapshotBinder would make over these files.
std::string binder_view(const Layout& layout) {
  std::string list = "[";
  for (std::size_t i = 0; i < layout.paths.size(); ++i) {
    list += (i ? ", " : "") + sql_string(layout.paths[i]);
  }
  list += "]";
  return "SELECT CAST(id AS BIGINT) AS id, CAST(k AS INTEGER) AS k, CAST(v AS DOUBLE) AS v, "
         "CAST(s AS VARCHAR) AS s FROM read_parquet(" +
         list + ", hive_partitioning=false)";
}

// The raw side runs with the sandbox's limits (2 threads, 1GB).
duck::DatabaseOptions two_threads() {
  duck::DatabaseOptions options;
  options.threads = 2;
  options.memory_limit = "1GB";
  return options;
}

struct QueryShape {
  std::string name;
  std::string sql;  // over `t`
  bool takes_id = false;
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t rows = argc > 1 ? std::stoul(argv[1]) : 10'000'000;
  const double seconds = argc > 2 ? std::stod(argv[2]) : 3.0;
  const fs::path root =
      fs::temp_directory_path() / ("duckmesh-bench-query-" + std::to_string(::getpid()));
  fs::create_directories(root);
  std::printf("bench_query: %zu rows, ~%.1f s per cell, DuckDB %s, %u hardware threads\n", rows,
              seconds, duck::library_version().c_str(), std::thread::hardware_concurrency());

  // ---- Sandbox cost ----
  {
    const fs::path scratch = root / "scratch";
    Stats open = measure([&](std::size_t) { query::Sandbox s({root}, scratch); }, 1.0);
    query::SandboxPool pool({root}, scratch, {}, 2);
    Stats lease = measure([&](std::size_t) { auto l = pool.acquire(); }, 1.0);
    query::Sandbox sandbox({root}, scratch);
    Stats trivial = measure(
        [&](std::size_t) {
          query::StringSink sink;
          query::run_query(sandbox, "SELECT 1 AS x", {}, sink);
        },
        1.0);
    std::printf("\nSandbox open+close   p50 %7.3f ms  p99 %7.3f ms  (%zu runs)\n", open.p50,
                open.p99, open.runs);
    std::printf("pool acquire+release p50 %7.3f ms  p99 %7.3f ms  (%zu runs)\n", lease.p50,
                lease.p99, lease.runs);
    std::printf("run_query SELECT 1   p50 %7.3f ms  p99 %7.3f ms  (%zu runs)\n", trivial.p50,
                trivial.p99, trivial.runs);
  }

  // ---- Data ----
  std::vector<Layout> layouts = {{"1 file", 1, root / "l1", {}},
                                 {"100 files", 100, root / "l100", {}},
                                 {"1000 files", 1000, root / "l1000", {}}};
  {
    duck::Database db("", two_threads());
    duck::Connection conn(db);
    for (auto& layout : layouts) {
      const auto t = Clock::now();
      write_layout(conn, layout, rows);
      std::printf("wrote %-10s %4zu files in %6.0f ms\n", layout.name.c_str(), layout.paths.size(),
                  ms_since(t));
    }
  }

  const std::vector<QueryShape> shapes = {
      {"point", "SELECT * FROM t WHERE id = $1", true},
      {"filter", "SELECT * FROM t WHERE k = 7", false},
      {"aggregate", "SELECT k, sum(v) AS total FROM t GROUP BY k", false},
  };
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> any_id(0, static_cast<std::int64_t>(rows) - 1);

  std::printf("\n%-10s %-9s | %-17s | %-17s %6s | %-17s %6s\n", "layout", "query", "raw p50/p99 ms",
              "service p50/p99", "ratio", "binder p50/p99", "ratio");
  for (const auto& layout : layouts) {
    duck::Database raw_db("", two_threads());
    duck::Connection raw(raw_db);
    query::Sandbox service({layout.dir}, root / "scratch");
    service.connection().execute("CREATE TEMP VIEW t AS SELECT * FROM " + glob_source(layout));
    query::Sandbox binder({layout.dir}, root / "scratch");
    binder.connection().execute("CREATE TEMP VIEW t AS " + binder_view(layout));

    for (const auto& shape : shapes) {
      std::size_t raw_rows = 0;
      std::string raw_sql = shape.sql;
      raw_sql.replace(raw_sql.find("FROM t"), 6, "FROM " + glob_source(layout));
      Stats raw_stats = measure(
          [&](std::size_t) {
            auto statement = raw.prepare(raw_sql);
            if (shape.takes_id) statement.bind(1, any_id(rng));
            auto result = statement.execute();
            raw_rows = 0;
            while (auto chunk = result.next_chunk()) raw_rows += chunk->size();
          },
          seconds);

      auto run_service = [&](query::Sandbox& sandbox) {
        std::size_t bytes = 0;
        Stats stats = measure(
            [&](std::size_t) {
              query::QueryOptions options;
              options.max_rows = 1'000'000;
              if (shape.takes_id) options.params = boost::json::array{any_id(rng)};
              query::StringSink sink;
              query::QueryOutcome outcome = query::run_query(sandbox, shape.sql, options, sink);
              bytes = sink.data.size();
              if (outcome.row_count != raw_rows) {
                std::fprintf(stderr, "row count mismatch: %zu vs %zu\n", outcome.row_count,
                             raw_rows);
                std::exit(1);
              }
            },
            seconds);
        return std::pair(stats, bytes);
      };
      auto [service_stats, bytes] = run_service(service);
      auto [binder_stats, binder_bytes] = run_service(binder);
      (void)binder_bytes;
      std::printf(
          "%-10s %-9s | %7.2f / %7.2f | %7.2f / %7.2f %5.2fx | %7.2f / %7.2f %5.2fx"
          "   (%zu rows, %zu JSON bytes)\n",
          layout.name.c_str(), shape.name.c_str(), raw_stats.p50, raw_stats.p99, service_stats.p50,
          service_stats.p99, service_stats.p50 / raw_stats.p50, binder_stats.p50, binder_stats.p99,
          binder_stats.p50 / raw_stats.p50, raw_rows, bytes);
    }
  }
  std::error_code ignored;
  fs::remove_all(root, ignored);
  return 0;
}
