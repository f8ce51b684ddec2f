// /monitoring/... and /metrics: what an operator or a probe asks a node.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "http/router.hpp"

namespace duckmesh::api {

struct MonitoringContext {
  std::string data_dir;  // disk figures are for this directory's filesystem
  // The disk check is degraded below this share of the filesystem free, and
  // unhealthy below the second (percent, 0 switches that level off).
  int disk_degraded_free_percent = 10;
  int disk_unhealthy_free_percent = 2;
  duck::Database* duckdb = nullptr;  // checked live by /monitoring/health
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  // Extra checks by name, each returning an object with "status" healthy,
  // warning, degraded or unhealthy (e.g. "ontology"). Degraded keeps the node
  // at 200. Warning leaves the overall status alone and adds the check's
  // "message" to the body's "warnings" (a setting an operator must see, such
  // as authentication switched off).
  std::map<std::string, std::function<boost::json::object()>> checks{};
};

// GET /monitoring/health, GET /metrics, GET /monitoring/metrics,
// GET /monitoring/metrics/system.
void add_monitoring_routes(http::Router& router, MonitoringContext context);

}  // namespace duckmesh::api
