// The maintenance commands (duckmesh compact | expire | gc) and the
// maintenance options of a Config.
//
// The commands work on a data directory directly: they open its catalog (the
// SQLite file, or the PostgreSQL database the config names) and its store,
// never its ingest log, so they may run while a server
// serves the same directory. The catalog serialises writers across
// processes; a compaction racing the server's loses cleanly (conflict) and
// gc never deletes what a kept snapshot lists.
#pragma once

#include <iosfwd>
#include <string>

#include "app/config.hpp"
#include "maintenance/maintenance_loop.hpp"

namespace duckmesh::app {

maintenance::MaintenanceOptions maintenance_options(const Config& config);

struct MaintenanceCommand {
  std::string product;  // empty: every product
  std::string table;    // compact only; empty: every table
  bool dry_run = false;
};

// Each prints one line per product/table/file and a total; returns the exit code.
int run_compact(const Config& config, const MaintenanceCommand& command, std::ostream& out);
int run_expire(const Config& config, const MaintenanceCommand& command, std::ostream& out);
int run_gc(const Config& config, const MaintenanceCommand& command, std::ostream& out);

}  // namespace duckmesh::app
