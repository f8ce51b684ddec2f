#include "app/maintenance_command.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <ostream>

#include "app/catalog_command.hpp"
#include "app/node.hpp"
#include "common/error.hpp"

namespace duckmesh::app {
namespace {

// The catalog and store of a data directory (the bucket with --store s3),
// without its ingest log.
struct DataDir {
  std::unique_ptr<catalog::CatalogRepo> catalog;
  std::unique_ptr<storage::ObjectStore> store;

  explicit DataDir(const Config& config) {
    const std::string& dir = config.data_dir;
    const std::filesystem::path root(dir);
    const auto postgres = postgres_catalog_options(config);
    if (!postgres && !std::filesystem::exists(root / "catalog.sqlite")) {
      throw Error(ErrorCode::invalid_input,
                  "'" + dir + "' holds no DuckMesh catalog (catalog.sqlite); give --data-dir",
                  {{"setting", "data_dir"}});
    }
    // A server on the same directory may hold the write lock for a while.
    auto backends = open_storage(root, postgres, 30'000, s3_store_options(config));
    catalog = std::move(backends.catalog);
    store = std::move(backends.store);
  }
};

}  // namespace

maintenance::MaintenanceOptions maintenance_options(const Config& config) {
  maintenance::MaintenanceOptions options;
  options.interval = std::chrono::milliseconds(config.maintenance_interval_ms);
  options.compact = config.roles.compactor;
  options.collect = config.roles.gc;
  options.compaction.target_file_bytes = config.compact_target_file_bytes;
  options.compaction.target_file_rows = config.compact_target_file_rows;
  options.compaction.small_file_bytes = config.compact_small_file_bytes;
  options.compaction.small_file_rows = config.compact_small_file_rows;
  options.retention.max_age = std::chrono::seconds(config.retention_max_age_s);
  options.retention.keep_at_least = config.retention_min_snapshots;
  options.gc.grace = std::chrono::seconds(config.gc_grace_s);
  return options;
}

int run_compact(const Config& config, const MaintenanceCommand& command, std::ostream& out) {
  if (!command.table.empty() && command.product.empty()) {
    throw Error(ErrorCode::invalid_input, "--table needs --product", {{"field", "table"}});
  }
  DataDir dir(config);
  maintenance::Compactor compactor(*dir.catalog, *dir.store,
                                   maintenance_options(config).compaction);
  std::vector<maintenance::TableCompaction> results;
  if (!command.table.empty()) {
    results.push_back(compactor.compact_table(command.product, command.table));
  } else {
    results = compactor.compact_all(command.product);
  }
  int code = 0;
  std::int64_t compacted = 0, files_removed = 0, files_added = 0;
  for (const auto& r : results) {
    if (r.outcome == maintenance::CompactionOutcome::compacted) {
      ++compacted;
      files_removed += r.files_removed;
      files_added += r.files_added;
    }
    out << r.product << "." << r.table << ": " << maintenance::to_string(r.outcome);
    if (r.outcome == maintenance::CompactionOutcome::compacted) {
      out << " in snapshot " << r.snapshot_id << ", " << r.files_removed << " files ("
          << r.rows_before << " rows, " << r.bytes_before << " bytes) -> " << r.files_added
          << " files (" << r.rows_after << " rows, " << r.bytes_after << " bytes)";
    }
    if (r.outcome == maintenance::CompactionOutcome::gave_up) {
      out << " after " << r.attempts << " attempt(s): " << r.message;
      code = 1;
    }
    out << "\n";
  }
  audit_cli_action(*dir.catalog, "maintenance.compact", command.product,
                   command.table.empty() ? "all tables" : "table " + command.table,
                   boost::json::serialize(boost::json::object{{"via", "cli"},
                                                              {"tables_compacted", compacted},
                                                              {"files_removed", files_removed},
                                                              {"files_added", files_added}}));
  return code;
}

int run_expire(const Config& config, const MaintenanceCommand& command, std::ostream& out) {
  DataDir dir(config);
  auto retention = maintenance_options(config).retention;
  std::int64_t expired = 0;
  for (const auto& e : maintenance::expire_snapshots(*dir.catalog, retention, command.product,
                                                     command.dry_run, maintenance::now_unix_us())) {
    expired += e.result.expired;
    out << e.product << ": " << (command.dry_run ? "would expire " : "expired ") << e.result.expired
        << " snapshot(s); oldest kept "
        << (e.result.oldest_kept ? std::to_string(*e.result.oldest_kept) : std::string("none"))
        << "; " << e.result.files_unreferenced << " file(s) no longer referenced\n";
  }
  // A dry run changes nothing and is not an administrative action.
  if (!command.dry_run) {
    audit_cli_action(*dir.catalog, "maintenance.expire", command.product,
                     command.product.empty() ? "all products" : "product " + command.product,
                     boost::json::serialize(
                         boost::json::object{{"via", "cli"}, {"snapshots_expired", expired}}));
  }
  return 0;
}

int run_gc(const Config& config, const MaintenanceCommand& command, std::ostream& out) {
  DataDir dir(config);
  auto gc = maintenance_options(config).gc;
  gc.dry_run = command.dry_run;
  auto report =
      maintenance::collect_garbage(*dir.catalog, *dir.store, gc, maintenance::now_unix_us());
  for (const auto& item : report.items) {
    out << (command.dry_run ? "would delete " : "deleted ") << item.key << " " << item.bytes
        << " bytes (" << item.reason << ")\n";
  }
  out << (command.dry_run ? "would delete " : "deleted ") << report.items.size() << " file(s), "
      << report.bytes << " bytes\n";
  if (!command.dry_run) {
    audit_cli_action(*dir.catalog, "maintenance.gc", "", "store",
                     boost::json::serialize(boost::json::object{
                         {"via", "cli"},
                         {"files_deleted", static_cast<std::int64_t>(report.items.size())},
                         {"bytes_deleted", static_cast<std::int64_t>(report.bytes)}}));
  }
  return 0;
}

}  // namespace duckmesh::app
