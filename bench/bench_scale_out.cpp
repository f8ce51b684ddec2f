// Scale-out figures against a real PostgreSQL 15 (catalog and bus) and a real
// S3-compatible server (s3rver), both started on loopback for the run:
//
//   bench_scale_out [--events N] [--tables T] [--queries Q] [--keys 0|1]
//
// 1. Commit throughput with 1 and with 2 coordinators. For each count a fresh
//    database and S3 prefix: one API-only node (`--roles api`) takes N events
//    (~200 bytes each) over HTTP in NDJSON batches of 1000 spread over T
//    tables, from 4 client connections, while no coordinator runs, so the
//    whole backlog waits in the bus. Then the coordinators (`--roles
//    coordinator`, separate processes) start, and the clock runs from their
//    spawn until the API node reports the last acknowledged token visible.
//    Coordinators split the work by table (one writes a table at a time), so
//    T should be at least the coordinator count. The rows are counted after.
//    With --keys 1 every event carries an idempotency key (`_idempotency_key`),
//    which ingest looks up in the bus and the catalog and the commit records.
// 2. Raw DuckDB converting the same N events from NDJSON to Parquet (zstd),
//    in this process: the reference the drain rate is compared with.
// 3. Query latency with a cold and a warm local cache: a fresh API node (its
//    cache empty) runs a fixed aggregate over one table: the first run
//    downloads the table's files from S3, the next Q runs read the cached
//    copies. Raw DuckDB runs the same query over the same Parquet files.
//
// Every figure is printed as one JSON line and as text. All traffic stays on
// 127.0.0.1; every process is killed and the scratch directory removed at
// the end.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "support/http_client.hpp"
#include "support/postgres_server.hpp"
#include "support/s3_server.hpp"
#include "support/service_process.hpp"

namespace {

namespace fs = std::filesystem;
using duckmesh::testing::HttpClient;
using duckmesh::testing::PostgresServer;
using duckmesh::testing::S3Server;
using duckmesh::testing::ServiceProcess;
using duckmesh::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr int kBatch = 1000;
constexpr int kClients = 4;

struct Args {
  int events = 200'000;
  int tables = 4;
  int queries = 5;
  bool keys = false;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::stoi(argv[i + 1]);
    if (flag == "--events")
      a.events = value;
    else if (flag == "--tables")
      a.tables = value;
    else if (flag == "--queries")
      a.queries = value;
    else if (flag == "--keys")
      a.keys = value != 0;
    else
      throw std::runtime_error("unknown flag " + flag);
  }
  if (a.events < kBatch || a.tables < 1 || a.queries < 1) {
    throw std::runtime_error("--events must be at least 1000, --tables and --queries at least 1");
  }
  return a;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One event of ~200 bytes (as in the other ingest benchmarks), with an
// idempotency key when `key`.
std::string event(int i, bool key = false) {
  static const char* statuses[] = {"NEW", "PAID", "SHIPPED", "RETURNED"};
  char buf[320];
  std::snprintf(buf, sizeof buf,
                R"({"id":%d,"user_id":%d,"amount":"%d.%02d","status":"%s",)"
                R"("at":"2026-11-%02dT%02d:%02d:%02dZ","note":"order %d from the web shop, )"
                R"(paid by card, shipped to warehouse %d"})",
                i, i % 9973, i % 5000, i % 100, statuses[i % 4], 1 + i % 28, i % 24, i % 60,
                (i / 60) % 60, i, i % 17);
  if (!key) return buf;
  std::string keyed = buf;
  keyed.insert(1, R"("_idempotency_key":"order-)" + std::to_string(i) + R"(",)");
  return keyed;
}

const char* kColumns =
    R"J([{"name":"id","type":"bigint"},{"name":"user_id","type":"bigint"},)J"
    R"J({"name":"amount","type":"decimal(12,2)"},{"name":"status","type":"varchar"},)J"
    R"J({"name":"at","type":"timestamptz"},{"name":"note","type":"varchar"}])J";

std::string table_name(int t) {
  return "events_" + std::to_string(t);
}

std::vector<std::string> node_flags(const std::string& url, const S3Server& s3,
                                    const std::string& prefix) {
  return {"--catalog",
          "postgres",
          "--catalog-url",
          url,
          "--bus",
          "postgres",
          "--store",
          "s3",
          "--s3-endpoint",
          s3.endpoint(),
          "--s3-bucket",
          s3.bucket(),
          "--s3-prefix",
          prefix,
          "--s3-access-key",
          "S3RVER",
          "--s3-secret-key",
          "S3RVER",
          "--onto-server-url",
          "http://127.0.0.1:9",
          "--maintenance-enabled",
          "false",
          "--log-level",
          "warn"};
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

struct DrainRun {
  int coordinators = 0;
  double publish_s = 0;
  double drain_s = 0;
  std::int64_t rows = 0;
};

DrainRun drain_run(const fs::path& dir, PostgresServer& pg, const S3Server& s3, const Args& args,
                   int coordinators, const std::string& prefix, std::string* url_out) {
  const std::string url = pg.create_database(prefix);
  if (url_out) *url_out = url;
  const auto flags = node_flags(url, s3, prefix);
  ServiceProcess api(dir / (prefix + "-api"), with(flags, {"--roles", "api", "--node-id", "api"}));
  HttpClient admin("127.0.0.1", api.port());
  require(admin.post("/v1/products", R"({"name":"bench"})").status == 201, "create product");
  for (int t = 0; t < args.tables; ++t) {
    auto r = admin.post(
        "/v1/products/bench/tables",
        R"({"name":")" + table_name(t) + R"(","kind":"append","columns":)" + kColumns + "}");
    require(r.status == 201, "create table: " + r.body);
  }

  // The whole backlog into the bus first.
  const int batches = args.events / kBatch;
  std::atomic<int> next{0};
  std::mutex mu;
  std::uint64_t best_position = 0;
  std::string last_token;
  std::vector<std::thread> clients;
  const auto publish_start = Clock::now();
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      HttpClient client("127.0.0.1", api.port());
      for (int b = next++; b < batches; b = next++) {
        std::string body;
        for (int i = b * kBatch; i < (b + 1) * kBatch; ++i) body += event(i, args.keys) + "\n";
        auto r = client.post("/v1/products/bench/tables/" + table_name(b % args.tables) + "/events",
                             body, {{"Content-Type", "application/x-ndjson"}});
        require(r.status == 202 || r.status == 200, "ingest: " + std::to_string(r.status) + r.body);
        const std::string token(r.json().at("visibility_token").as_string());
        auto v = client.get("/v1/products/bench/visibility/" + token);
        const auto position = v.json().at("position").to_number<std::uint64_t>();
        std::lock_guard lock(mu);
        if (position > best_position) {
          best_position = position;
          last_token = token;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  DrainRun run;
  run.coordinators = coordinators;
  run.publish_s = seconds_since(publish_start);

  // Then the coordinators, and the clock until the last token is visible.
  const auto drain_start = Clock::now();
  std::vector<std::unique_ptr<ServiceProcess>> workers;
  for (int k = 0; k < coordinators; ++k) {
    const std::string id = "c" + std::to_string(k + 1);
    workers.push_back(std::make_unique<ServiceProcess>(
        dir / (prefix + "-" + id), with(flags, {"--roles", "coordinator", "--node-id", id})));
  }
  HttpClient poll("127.0.0.1", api.port());
  for (;;) {
    auto v = poll.get("/v1/products/bench/visibility/" + last_token);
    if (v.json().at("visible").as_bool()) break;
    require(seconds_since(drain_start) < 900, "the backlog did not drain within 15 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  run.drain_s = seconds_since(drain_start);

  std::string sql = "SELECT ";
  for (int t = 0; t < args.tables; ++t) {
    sql += (t ? " + " : "") + std::string("(SELECT count(*) FROM ") + table_name(t) + ")";
  }
  auto q = poll.post("/v1/products/bench/query", R"({"sql":")" + sql + R"("})");
  require(q.status == 200, "count: " + q.body);
  run.rows = q.json().at("rows").at(0).at(0).to_number<std::int64_t>();
  return run;
}

double raw_duckdb_ndjson_to_parquet(const fs::path& dir, int events) {
  const auto ndjson = dir / "raw.ndjson";
  {
    std::ofstream out(ndjson);
    for (int i = 0; i < events; ++i) out << event(i) << "\n";
  }
  duckmesh::duck::Database db(":memory:", {});
  duckmesh::duck::Connection conn(db);
  const auto start = Clock::now();
  conn.execute(
      "COPY (SELECT * FROM read_json('" + ndjson.string() +
      "', format='newline_delimited', columns={id:'BIGINT', user_id:'BIGINT', "
      "amount:'DECIMAL(12,2)', status:'VARCHAR', \"at\":'TIMESTAMPTZ', note:'VARCHAR'})) TO '" +
      (dir / "raw.parquet").string() + "' (FORMAT parquet, COMPRESSION zstd)");
  return seconds_since(start);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

const char* kQuery =
    "SELECT status, count(*) AS n, sum(amount) AS total, avg(length(note)) AS note_len "
    "FROM events_0 GROUP BY status ORDER BY status";

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    TempDir dir;
    PostgresServer pg(duckmesh::testing::PostgresDurability::durable);
    S3Server s3(dir.path() / "s3", "bench");
    std::printf("scale-out bench: %d events (~200 B)%s in batches of %d over %d tables\n",
                args.events, args.keys ? " with idempotency keys" : "", kBatch, args.tables);

    std::vector<DrainRun> runs;
    std::string last_url;
    for (int k : {1, 2}) {
      runs.push_back(drain_run(dir.path(), pg, s3, args, k, "run" + std::to_string(k), &last_url));
      const auto& r = runs.back();
      std::printf(
          "{\"bench\":\"scale_out_drain\",\"coordinators\":%d,\"events\":%d,\"keys\":%s,"
          "\"publish_s\":%.3f,"
          "\"publish_events_per_s\":%.0f,\"drain_s\":%.3f,\"drain_events_per_s\":%.0f,"
          "\"rows\":%lld}\n",
          r.coordinators, args.events, args.keys ? "true" : "false", r.publish_s,
          args.events / r.publish_s, r.drain_s, args.events / r.drain_s,
          static_cast<long long>(r.rows));
      require(r.rows == args.events, "row count differs from the events sent");
    }
    const double raw_s = raw_duckdb_ndjson_to_parquet(dir.path(), args.events);
    std::printf(
        "{\"bench\":\"raw_duckdb_ndjson_to_parquet\",\"events\":%d,\"s\":%.3f,"
        "\"events_per_s\":%.0f}\n",
        args.events, raw_s, args.events / raw_s);

    // Cold and warm cache on a fresh API node over the last run's data.
    ServiceProcess reader(dir.path() / "reader",
                          with(node_flags(last_url, s3, "run2"), {"--roles", "api"}));
    HttpClient client("127.0.0.1", reader.port());
    const std::string body = std::string(R"({"sql":")") + kQuery + R"("})";
    auto timed = [&] {
      const auto start = Clock::now();
      auto r = client.post("/v1/products/bench/query", body);
      require(r.status == 200, "query: " + r.body);
      return seconds_since(start) * 1000;
    };
    const double cold_ms = timed();
    std::vector<double> warm;
    for (int i = 0; i < args.queries; ++i) warm.push_back(timed());
    // Raw DuckDB over the same files (the reader's cached copies).
    std::vector<std::string> files;
    for (auto& e :
         fs::recursive_directory_iterator(dir.path() / "reader" / "s3-cache" / "objects")) {
      if (e.is_regular_file() && e.path().string().find("/events_0/") != std::string::npos) {
        files.push_back(e.path().string());
      }
    }
    require(!files.empty(), "no cached files of events_0");
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "'" : ", '") + f + "'";
    duckmesh::duck::Database db(":memory:", {});
    duckmesh::duck::Connection conn(db);
    std::string raw_sql = kQuery;
    raw_sql.replace(raw_sql.find("events_0"), 8, "read_parquet([" + list + "])");
    std::vector<double> raw;
    for (int i = 0; i <= args.queries; ++i) {
      const auto start = Clock::now();
      conn.query(raw_sql);
      if (i > 0) raw.push_back(seconds_since(start) * 1000);  // the first one warms the OS cache
    }
    std::printf(
        "{\"bench\":\"scale_out_query\",\"files\":%zu,\"cold_ms\":%.1f,"
        "\"warm_median_ms\":%.1f,\"raw_duckdb_median_ms\":%.1f}\n",
        files.size(), cold_ms, median(warm), median(raw));

    std::printf("\n%-14s %12s %14s %10s %14s %10s\n", "coordinators", "publish s", "publish ev/s",
                "drain s", "drain ev/s", "vs raw");
    for (const auto& r : runs) {
      std::printf("%-14d %12.2f %14.0f %10.2f %14.0f %9.2fx\n", r.coordinators, r.publish_s,
                  args.events / r.publish_s, r.drain_s, args.events / r.drain_s, raw_s / r.drain_s);
    }
    std::printf("raw DuckDB NDJSON->Parquet: %.2f s, %.0f events/s\n", raw_s, args.events / raw_s);
    std::printf(
        "query over %zu files of events_0: cold %.1f ms, warm median %.1f ms, raw DuckDB "
        "median %.1f ms (warm %.2fx raw)\n",
        files.size(), cold_ms, median(warm), median(raw), median(warm) / median(raw));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_scale_out failed: %s\n", e.what());
    return 1;
  }
}
