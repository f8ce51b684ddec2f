#include "maintenance/maintenance_loop.hpp"

#include <array>
#include <map>

#include "common/thread_name.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace duckmesh::maintenance {
namespace {

struct Metrics {
  obs::Family<obs::Gauge>& table_files;
  obs::Family<obs::Gauge>& table_bytes;
  obs::Family<obs::Gauge>& table_small_files;
  obs::Family<obs::Gauge>& last_run;
  obs::Family<obs::Counter>& runs;
  obs::Counter& files_removed;
  obs::Counter& bytes_reclaimed;

  static Metrics& get() {
    auto& r = obs::Registry::global();
    static Metrics m{
        r.gauge("duckmesh_table_files", "Live data files of a table", {"product", "table"}),
        r.gauge("duckmesh_table_bytes", "Bytes of a table's live data files", {"product", "table"}),
        r.gauge("duckmesh_table_small_files",
                "Live data files of a table below the compaction small-file threshold",
                {"product", "table"}),
        r.gauge("duckmesh_maintenance_last_run_timestamp_seconds",
                "When a maintenance task last finished (Unix seconds)", {"task"}),
        r.counter("duckmesh_maintenance_runs_total", "Maintenance task runs by outcome",
                  {"task", "outcome"}),
        r.counter("duckmesh_compaction_files_removed_total", "Data files replaced by compaction")
            .get(),
        r.counter("duckmesh_gc_bytes_reclaimed_total", "Bytes of files deleted by gc").get(),
    };
    return m;
  }
};

void finished(std::string_view task, std::string_view outcome) {
  auto& m = Metrics::get();
  m.runs.with({std::string(task), std::string(outcome)}).inc();
  m.last_run.with({std::string(task)}).set(static_cast<double>(now_unix_us()) / 1'000'000.0);
}

}  // namespace

MaintenanceLoop::MaintenanceLoop(catalog::CatalogRepo& catalog, storage::ObjectStore& store,
                                 MaintenanceOptions options)
    : catalog_(catalog),
      store_(store),
      options_(options),
      compactor_(catalog, store, options.compaction) {
  Metrics::get();
}

MaintenanceLoop::~MaintenanceLoop() {
  stop();
}

void MaintenanceLoop::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    name_this_thread("dm-maint");
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) break;
      lock.unlock();
      run_once();
      lock.lock();
    }
  });
}

void MaintenanceLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MaintenanceLoop::record(const std::string& task, const std::string& outcome) {
  finished(task, outcome);
  std::lock_guard lock(runs_mu_);
  last_runs_[task] = {now_unix_us(), outcome};
}

std::map<std::string, MaintenanceLoop::TaskRun> MaintenanceLoop::last_runs() const {
  std::lock_guard lock(runs_mu_);
  return last_runs_;
}

void MaintenanceLoop::run_once() {
  auto& m = Metrics::get();
  if (options_.compact) {
    try {
      std::string outcome = "nothing_to_do";
      for (const auto& r : compactor_.compact_all()) {
        if (r.outcome == CompactionOutcome::compacted) {
          m.files_removed.inc(static_cast<double>(r.files_removed));
          outcome = "compacted";
          log::info("compacted", {{"product", r.product},
                                  {"table", r.table},
                                  {"snapshot_id", r.snapshot_id},
                                  {"files_removed", r.files_removed},
                                  {"files_added", r.files_added}});
        } else if (r.outcome == CompactionOutcome::gave_up) {
          log::warn("compaction gave up",
                    {{"product", r.product}, {"table", r.table}, {"reason", r.message}});
          if (outcome != "compacted") outcome = "gave_up";
        }
      }
      record("compact", outcome);
    } catch (const std::exception& e) {
      log::warn("compaction failed", {{"error", e.what()}});
      record("compact", "error");
    }
  }
  if (options_.collect) {
    try {
      std::int64_t expired = 0;
      for (const auto& e :
           expire_snapshots(catalog_, options_.retention, "", false, now_unix_us())) {
        expired += e.result.expired;
      }
      record("expire", expired > 0 ? "expired" : "nothing_to_do");
    } catch (const std::exception& e) {
      log::warn("snapshot expiry failed", {{"error", e.what()}});
      record("expire", "error");
    }
  }
  if (options_.collect) {
    // Idempotency keys past the catalog's window no longer count (lookups
    // skip them); their rows go here, else the table grows with every keyed
    // event ever committed.
    try {
      const std::size_t purged = catalog_.purge_idempotency(now_unix_us());
      record("idempotency", purged > 0 ? "purged" : "nothing_to_do");
    } catch (const std::exception& e) {
      log::warn("purging expired idempotency keys failed", {{"error", e.what()}});
      record("idempotency", "error");
    }
    try {
      GcOptions gc = options_.gc;
      gc.dry_run = false;
      auto report = collect_garbage(catalog_, store_, gc, now_unix_us());
      m.bytes_reclaimed.inc(static_cast<double>(report.bytes));
      record("gc", report.items.empty() ? "nothing_to_do" : "deleted");
    } catch (const std::exception& e) {
      log::warn("gc failed", {{"error", e.what()}});
      record("gc", "error");
    }
  }
  try {
    refresh_table_metrics();
  } catch (const std::exception& e) {
    log::warn("table metrics failed", {{"error", e.what()}});
  }
}

void MaintenanceLoop::refresh_table_metrics() {
  auto& m = Metrics::get();
  for (const auto& product : catalog_.list_products()) {
    auto latest = catalog_.latest_snapshot(product.name);
    if (!latest) continue;
    std::map<std::string, std::array<double, 3>> figures;
    for (const auto& t : catalog_.list_tables(product.name)) figures[t.name] = {0, 0, 0};
    for (const auto& f : catalog_.live_files(product.name, latest->id, "")) {
      auto& fig = figures[f.table];
      fig[0] += 1;
      fig[1] += static_cast<double>(f.bytes);
      if (f.bytes < options_.compaction.small_file_bytes &&
          f.row_count < options_.compaction.small_file_rows) {
        fig[2] += 1;
      }
    }
    for (const auto& [table, fig] : figures) {
      m.table_files.with({product.name, table}).set(fig[0]);
      m.table_bytes.with({product.name, table}).set(fig[1]);
      m.table_small_files.with({product.name, table}).set(fig[2]);
    }
  }
}

}  // namespace duckmesh::maintenance
