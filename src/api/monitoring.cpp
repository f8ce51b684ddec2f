#include "api/monitoring.hpp"

#include <boost/json.hpp>

#include "obs/metrics.hpp"

namespace duckmesh::api {
namespace {

constexpr const char* kPrometheusType = "text/plain; version=0.0.4; charset=utf-8";

boost::json::object check_duckdb(duck::Database& db) {
  auto start = std::chrono::steady_clock::now();
  boost::json::object check;
  try {
    duck::Connection conn(db);
    auto result = conn.query("SELECT 1");
    auto rows = result.fetch_all();
    bool ok = rows.size() == 1 && rows[0].size() == 1 &&
              std::holds_alternative<std::int64_t>(rows[0][0]) &&
              std::get<std::int64_t>(rows[0][0]) == 1;
    check["status"] = ok ? "healthy" : "unhealthy";
    if (!ok) check["error"] = "SELECT 1 did not return 1";
  } catch (const std::exception& e) {
    check["status"] = "unhealthy";
    check["error"] = e.what();
  }
  check["latency_ms"] =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return check;
}

}  // namespace

void add_monitoring_routes(http::Router& router, MonitoringContext context) {
  router.add(
      http::Verb::get, "/monitoring/health",
      [context](http::Request&) {
        boost::json::object checks;
        checks["duckdb"] = check_duckdb(*context.duckdb);
        bool healthy = true;
        for (const auto& [name, check] : checks) {
          if (check.as_object().at("status") != "healthy") healthy = false;
        }
        auto uptime =
            std::chrono::duration<double>(std::chrono::system_clock::now() - context.started);
        boost::json::object body{
            {"status", healthy ? "healthy" : "unhealthy"},
            {"version", DUCKMESH_VERSION},
            {"duckdb_version", duck::library_version()},
            {"uptime_seconds", uptime.count()},
            {"checks", std::move(checks)},
        };
        return http::Response::json(healthy ? 200 : 503, body);
      },
      "Liveness and readiness with a live check of each dependency");

  auto prometheus = [](http::Request&) {
    return http::Response::text(200, obs::Registry::global().expose(), kPrometheusType);
  };
  router.add(http::Verb::get, "/metrics", prometheus, "Prometheus metrics");
  router.add(http::Verb::get, "/monitoring/metrics", prometheus, "Prometheus metrics");

  router.add(
      http::Verb::get, "/monitoring/metrics/system",
      [context](http::Request&) {
        auto m = obs::read_system_metrics(context.data_dir);
        boost::json::object body{
            {"cpu", {{"usage_percent", m.cpu_percent}, {"count", m.cpu_count}}},
            {"memory",
             {{"total_bytes", m.mem_total},
              {"available_bytes", m.mem_available},
              {"used_bytes", m.mem_used},
              {"percent", m.mem_percent}}},
            {"disk",
             {{"path", context.data_dir},
              {"total_bytes", m.disk_total},
              {"used_bytes", m.disk_used},
              {"free_bytes", m.disk_free},
              {"percent", m.disk_percent}}},
            {"process", {{"rss_bytes", m.process_rss}}},
        };
        return http::Response::json(200, body);
      },
      "CPU, memory and disk of the machine, and the process's memory");
}

}  // namespace duckmesh::api
