// MaintenanceLoop: runs compaction, snapshot expiry, the purge of expired
// idempotency keys and garbage collection in the background of a server, one
// pass every `interval`, and publishes their figures as metrics:
//   duckmesh_table_files{product,table}, duckmesh_table_bytes{...},
//   duckmesh_table_small_files{...}             live files of each table
//   duckmesh_maintenance_last_run_timestamp_seconds{task}
//   duckmesh_maintenance_runs_total{task,outcome}
//                                  task: compact|expire|idempotency|gc
//   duckmesh_compaction_files_removed_total, duckmesh_gc_bytes_reclaimed_total
// A pass that throws is logged and counted (outcome "error"); the next pass
// runs as usual. run_once() runs one pass on the caller's thread.
//
// Thread safety: start/stop from one thread; run_once must not be called
// while the loop runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "maintenance/compactor.hpp"
#include "maintenance/garbage_collector.hpp"

namespace duckmesh::maintenance {

struct MaintenanceOptions {
  std::chrono::milliseconds interval{60'000};
  // Which tasks run: compaction, and snapshot expiry with the idempotency
  // purge and garbage collection (a node's compactor and gc roles).
  bool compact = true;
  bool collect = true;
  CompactionOptions compaction;
  RetentionOptions retention;
  GcOptions gc;
};

class MaintenanceLoop {
 public:
  MaintenanceLoop(catalog::CatalogRepo& catalog, storage::ObjectStore& store,
                  MaintenanceOptions options);
  ~MaintenanceLoop();
  MaintenanceLoop(const MaintenanceLoop&) = delete;
  MaintenanceLoop& operator=(const MaintenanceLoop&) = delete;

  void start();
  void stop();
  void run_once();

  // Sets the per-table file gauges from the latest snapshot of every product.
  void refresh_table_metrics();

  // The last run of each task ("compact", "expire", "idempotency", "gc"): when it ended and
  // its outcome ("compacted", "nothing_to_do", "gave_up", "error", ...).
  struct TaskRun {
    std::int64_t finished_unix_us = 0;
    std::string outcome;
  };
  std::map<std::string, TaskRun> last_runs() const;
  std::chrono::milliseconds interval() const { return options_.interval; }

 private:
  catalog::CatalogRepo& catalog_;
  storage::ObjectStore& store_;
  MaintenanceOptions options_;
  Compactor compactor_;
  void record(const std::string& task, const std::string& outcome);

  mutable std::mutex runs_mu_;
  std::map<std::string, TaskRun> last_runs_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace duckmesh::maintenance
