#include "api/monitoring.hpp"

#include <sys/statvfs.h>

#include <boost/json.hpp>

#include "auth/access.hpp"
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

// Free space of the data directory's filesystem: degraded and unhealthy
// under the context's shares (commits and compaction need room to write).
boost::json::object check_disk(const MonitoringContext& context) {
  const std::string& data_dir = context.data_dir;
  struct statvfs fs {};
  if (::statvfs(data_dir.c_str(), &fs) != 0) {
    return {{"status", "unhealthy"}, {"error", "cannot stat the data directory " + data_dir}};
  }
  std::uint64_t total = std::uint64_t(fs.f_blocks) * fs.f_frsize;
  std::uint64_t free = std::uint64_t(fs.f_bavail) * fs.f_frsize;
  double free_percent =
      total > 0 ? 100.0 * static_cast<double>(free) / static_cast<double>(total) : 0;
  const char* status = total == 0                                           ? "unhealthy"
                       : free_percent < context.disk_unhealthy_free_percent ? "unhealthy"
                       : free_percent < context.disk_degraded_free_percent  ? "degraded"
                                                                            : "healthy";
  return {{"status", status},
          {"free_bytes", free},
          {"total_bytes", total},
          {"free_percent", free_percent},
          {"degraded_below_percent", context.disk_degraded_free_percent},
          {"unhealthy_below_percent", context.disk_unhealthy_free_percent}};
}

}  // namespace

void add_monitoring_routes(http::Router& router, MonitoringContext context) {
  router.add(
      http::Verb::get, "/monitoring/health", auth::Access::public_route(),
      [context](http::Request&) {
        boost::json::object checks;
        checks["duckdb"] = check_duckdb(*context.duckdb);
        checks["disk"] = check_disk(context);
        for (const auto& [name, check] : context.checks) {
          try {
            checks[name] = check();
          } catch (const std::exception& e) {
            checks[name] = {{"status", "unhealthy"}, {"error", e.what()}};
          }
        }
        bool healthy = true, degraded = false;
        boost::json::array warnings;
        for (const auto& [name, check] : checks) {
          const auto& status = check.as_object().at("status");
          if (status == "degraded") {
            degraded = true;
          } else if (status == "warning") {
            // Serving works, but an operator must know (e.g. auth is off).
            const auto* message = check.as_object().if_contains("message");
            warnings.emplace_back(message ? *message : boost::json::value(name));
          } else if (status != "healthy") {
            healthy = false;
          }
        }
        auto uptime =
            std::chrono::duration<double>(std::chrono::system_clock::now() - context.started);
        boost::json::object body{
            {"status", !healthy   ? "unhealthy"
                       : degraded ? "degraded"
                                  : "healthy"},
            {"version", DUCKMESH_VERSION},
            {"duckdb_version", duck::library_version()},
            {"uptime_seconds", uptime.count()},
            {"checks", std::move(checks)},
        };
        if (!warnings.empty()) body["warnings"] = std::move(warnings);
        return http::Response::json(healthy ? 200 : 503, body);
      },
      "Liveness and readiness with a live check of each dependency");

  auto prometheus = [](http::Request&) {
    return http::Response::text(200, obs::Registry::global().expose(), kPrometheusType);
  };
  router.add(http::Verb::get, "/metrics", auth::Access::public_route(), prometheus,
             "Prometheus metrics");
  router.add(http::Verb::get, "/monitoring/metrics", auth::Access::public_route(), prometheus,
             "Prometheus metrics");

  router.add(
      http::Verb::get, "/monitoring/metrics/system", auth::Access::superadmin(),
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
