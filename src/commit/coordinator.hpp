// Coordinator: turns ingested records into published snapshots.
//
// One cycle (commit_once):
//   1. claim a batch from the bus under a lease;
//   2. ack at once what the catalog already resolved (a crash after the
//      catalog commit but before the ack left it claimed again);
//   3. group by product and table; drop duplicate idempotency keys (within
//      the batch and against the catalog); keyed tables keep every version;
//   4. write each group as Parquet through DuckDB (one file per partition),
//      with the hidden system columns, and put the files in the store; the
//      records reach DuckDB as typed rows (PayloadReader, on all of DuckDB's
//      threads), or as a staged NDJSON file for tables with json or list
//      columns;
//   5. publish one snapshot per product, all in one catalog transaction that
//      also resolves the positions and records idempotency keys;
//   6. ack the bus. The background loop and drain() let this ack run while
//      the next cycle claims and writes (at most one in flight); a crash
//      before it lands is harmless, step 2 recognises the positions.
// A crash anywhere leaves either nothing visible (files not in the catalog
// are orphans that gc removes) or everything visible (redelivered records are
// recognised in step 2). So every acknowledged record becomes visible exactly
// once.
//
// Records whose values cannot be converted (invalid_input) are isolated by
// bisection and dead-lettered with the reason (PayloadReader's or DuckDB's
// message); they never hold back the others. Other failures while writing
// (I/O, memory) and storage or catalog failures return the whole batch for a
// later retry.
//
// A batch is committed when it is full (max_batch_events), when its oldest
// record reaches max_batch_age, or at once when a client waits for it
// (wait_for).
//
// Several coordinators (on several nodes) can share one bus and catalog: the
// bus gives each table to one consumer at a time, and the catalog refuses a
// publication of positions another coordinator already resolved. While a
// client waits, the loop polls the catalog watermark, so wait_for answers for
// positions any coordinator resolved; with `commit` false the loop does only
// that (a node that serves the API and leaves commits to other nodes).
//
// Thread safety: commit_once must not run concurrently with itself (the
// background loop owns it once start() is called); wait_for,
// notify_published and watermark may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bus/ingest_bus.hpp"
#include "catalog/catalog_repo.hpp"
#include "duck/connection.hpp"
#include "duck/database.hpp"
#include "duck/row_source.hpp"
#include "schema/table_schema.hpp"
#include "storage/object_store.hpp"

namespace duckmesh::commit {

struct CoordinatorOptions {
  std::string consumer = "coordinator";
  std::size_t max_batch_events = 100'000;
  std::chrono::milliseconds max_batch_age{200};
  std::chrono::milliseconds lease{120'000};
  std::int64_t row_group_size = 122'880;
  // Distinct values a column chunk may have and still be written with a
  // dictionary. DuckDB's own limit keeps trying a dictionary on columns of
  // nearly unique values (ids, free text) long after it can pay off; ingest
  // files give up early and keep dictionaries for categorical columns. The
  // compactor, which merges small files into large ones, uses DuckDB's
  // defaults.
  std::int64_t dictionary_size_limit = 1'000;
  int duckdb_threads = 0;  // 0: DuckDB's default
  // False on a node without the coordinator role: the loop never claims, it
  // only follows the catalog watermark so wait_for still answers (another
  // node commits).
  bool commit = true;
  // On a bus shared with other coordinators, how often the catalog
  // watermark is read while a client waits (and at each sweep): others may
  // resolve the positions it waits for. 0 (one process owns the bus): never,
  // as only this coordinator's own commits move the watermark.
  std::chrono::milliseconds watermark_poll{0};
};

struct CommitResult {
  std::size_t claimed = 0;
  std::size_t committed = 0;         // rows written to files
  std::size_t duplicates = 0;        // dropped for an idempotency key already seen
  std::size_t already_resolved = 0;  // committed before a crash, acked now
  std::size_t dead_lettered = 0;
  std::size_t files = 0;
  std::vector<catalog::Snapshot> snapshots;
};

class Coordinator {
 public:
  Coordinator(catalog::CatalogRepo& catalog, bus::IngestBus& bus, storage::ObjectStore& store,
              CoordinatorOptions options = {});
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // One cycle over at most max_batch_events records. Throws on storage or
  // catalog failure after nacking the batch.
  CommitResult commit_once();

  // Commits until the bus has nothing deliverable left.
  void drain();

  // Background loop; stop() finishes the cycle in progress and joins.
  void start();
  void stop();

  // Ingest tells the coordinator that records were published (size/age triggers).
  void notify_published(std::size_t count);

  // Blocks until every position <= `position` is resolved or `timeout`
  // passes; asks the loop to commit at once. True when resolved.
  bool wait_for(bus::Position position, std::chrono::milliseconds timeout);

  bus::Position watermark() const { return watermark_.load(); }

  // Events published but not yet resolved: the bus's head minus this
  // coordinator's watermark (one read of the bus, whatever the backlog).
  std::uint64_t lag() const;

  // Liveness of the background loop: when it last woke up (it wakes at
  // least every max_batch_age, and after each commit), 0 before start().
  // A value that stops moving means a commit cycle is stuck.
  std::int64_t heartbeat_unix_us() const { return heartbeat_unix_us_.load(); }
  bool running() const;

 private:
  struct Group;
  void reconcile_dead_letters();
  // Raises watermark_ to the catalog's and wakes waiters; a catalog error is
  // logged and ignored (the next poll retries).
  void refresh_watermark();
  void loop();
  void write_group(Group& group, std::vector<catalog::NewFile>& files,
                   std::vector<const bus::Record*>& bad, std::vector<std::string>& bad_reasons);
  // Where a new data file is written locally, and its key in the store.
  std::pair<std::filesystem::path, std::string> new_file_paths(
      const catalog::TableInfo& table, const std::optional<std::string>& partition);
  // The row count and pruning statistics of the one Parquet file a
  // `COPY ... (RETURN_STATS)` wrote, from that statement's answer.
  struct Written {
    std::int64_t row_count = 0;
    std::vector<catalog::ColumnStats> stats;
  };
  // The options of a data file's COPY: " (FORMAT parquet, ...)".
  std::string parquet_options() const;
  static Written written_statistics(duck::Result copy_result,
                                    const std::vector<const schema::Column*>& stat_columns,
                                    const schema::TableSchema& table_schema);
  // The records as an NDJSON file in the store's scratch directory, for
  // tables PayloadReader does not read; the caller removes it.
  std::filesystem::path stage_ndjson(const std::vector<const bus::Record*>& records);
  // A SELECT reading that file with the table's columns and the system
  // columns, as PayloadReader gives them.
  static std::string read_json_source(const std::filesystem::path& staging,
                                      const schema::TableSchema& table_schema, bool keyed);
  // One cycle; with defer_ack the bus ack runs in the background until the
  // next cycle's ack (or finish_ack) waits for it.
  CommitResult commit_cycle(bool defer_ack);
  // Waits for a deferred ack, if one runs.
  void finish_ack();
  // Claims up to `limit` records into the vector of an earlier full batch
  // when one is spare (see recycle_batch).
  std::vector<bus::Record> claim_records(std::size_t limit);
  // Frees a written batch's records; a full batch's vector is kept (at most
  // two) for the next claims, so that steady full batches reuse their room
  // instead of taking ~15 MB of fresh memory per 100k records each cycle.
  void recycle_batch(std::vector<bus::Record> batch);
  std::vector<catalog::NewFile> write_records(const catalog::TableInfo& table,
                                              const std::vector<const bus::Record*>& records);

  catalog::CatalogRepo& catalog_;
  bus::IngestBus& bus_;
  storage::ObjectStore& store_;
  CoordinatorOptions options_;
  std::unique_ptr<duck::Database> duckdb_;
  std::unique_ptr<duck::Connection> conn_;
  // Batches reach DuckDB through this table function (see PayloadReader).
  std::unique_ptr<duck::RowSource> rows_;
  std::size_t duckdb_threads_ = 1;

  std::atomic<bus::Position> watermark_{0};
  std::atomic<std::int64_t> heartbeat_unix_us_{0};
  mutable std::mutex mutex_;
  std::condition_variable wake_;      // the loop waits here
  std::condition_variable resolved_;  // wait_for waits here
  bool running_ = false;
  bool flush_requested_ = false;
  std::size_t waiters_ = 0;  // threads inside wait_for
  std::size_t unflushed_ = 0;
  std::optional<std::chrono::steady_clock::time_point> oldest_unflushed_;
  std::thread thread_;
  // The previous cycle's ack, while it runs (see commit_cycle).
  std::future<void> pending_ack_;
  // The next batch, claimed while a full one is written (see commit_cycle).
  std::future<std::vector<bus::Record>> next_claim_;
  // Vectors of full batches already written, for claim_records. Emptied
  // when a claim comes back less than full (the load has eased).
  std::mutex spare_mutex_;
  std::vector<std::vector<bus::Record>> spare_batches_;
};

}  // namespace duckmesh::commit
