// Compactor: merges a table's small data files into files near a target size
// and publishes them in a `compact` snapshot that swaps old files for new.
//
// Per table and partition (files grouped by partition_json), the small files
// (below small_file_bytes and small_file_rows) are packed, oldest first, into
// groups of at most target_file_bytes / target_file_rows; each group of two or
// more files becomes one new file. Rows keep every system column
// (_dm_position, _dm_ingested_at, _dm_op) and are ordered by the table's sort
// key (options_json "sort_key": ["col", ...]) then by _dm_position; column
// statistics are recomputed from the written file.
//
// Keyed tables are folded: a group keeps, for each key, only its row with the
// highest _dm_position. That never changes what a reader sees, because the
// reader (query::table_view_sql) takes the highest position per key over all
// live files, and the highest one of the group is kept. A delete marker is
// dropped only when the compaction merges every live file of the table into
// one file and
// the marker is at or below the snapshot's bus watermark (no record still to
// commit can hold an older version of its key); otherwise it stays, so no
// older version in another file can resurface.
//
// Concurrency: the plan is made from one snapshot; the publication lists the
// replaced files as removed, and the catalog refuses it (conflict) if any of
// them is no longer live (another compactor, a drop). Files added meanwhile
// by ingest are untouched. On conflict the new objects are deleted (never
// published) and the table is planned again, up to max_attempts times; then
// the compactor gives up cleanly. A crash between writing and publishing
// leaves only orphans for gc. Readers pinned to older snapshots keep reading
// the old files until expiry and gc remove them.
//
// Thread safety: one Compactor must not run compact_table concurrently with
// itself; several Compactors (threads or processes) over the same catalog
// may run at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog_repo.hpp"
#include "storage/object_store.hpp"

namespace duckmesh::duck {
class Database;
class Connection;
}  // namespace duckmesh::duck

namespace duckmesh::maintenance {

struct CompactionOptions {
  std::int64_t target_file_bytes = std::int64_t{128} << 20;
  std::int64_t target_file_rows = 1'000'000;
  // A file is small, and may be merged, below both of these.
  std::int64_t small_file_bytes = std::int64_t{32} << 20;
  std::int64_t small_file_rows = 250'000;
  int max_attempts = 3;
  std::int64_t row_group_size = 122'880;
  int duckdb_threads = 1;
  // Runs after the new files are written, just before the publication (tests
  // use it to lose a race on purpose).
  std::function<void()> before_publish;
};

enum class CompactionOutcome { compacted, nothing_to_do, gave_up };
std::string_view to_string(CompactionOutcome outcome);

struct TableCompaction {
  std::string product;
  std::string table;
  CompactionOutcome outcome = CompactionOutcome::nothing_to_do;
  int attempts = 0;
  std::int64_t snapshot_id = 0;  // the compact snapshot, when compacted
  std::int64_t files_removed = 0;
  std::int64_t files_added = 0;
  std::int64_t rows_before = 0;  // in the replaced files
  std::int64_t rows_after = 0;   // in the new files (fewer for folded keyed tables)
  std::int64_t bytes_before = 0;
  std::int64_t bytes_after = 0;
  std::string message;  // why it gave up
};

class Compactor {
 public:
  Compactor(catalog::CatalogRepo& catalog, storage::ObjectStore& store,
            CompactionOptions options = {});
  ~Compactor();
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  // Compacts one live table (not_found if there is none). Errors other than
  // a lost race (storage, DuckDB) throw after deleting the unpublished files.
  TableCompaction compact_table(const std::string& product, const std::string& table);

  // Every live table of `product`, or of every product when empty. A table
  // whose compaction throws is reported as gave_up with the message.
  std::vector<TableCompaction> compact_all(const std::string& product = "");

 private:
  struct Group;
  struct Plan;
  std::optional<Plan> plan(const catalog::TableInfo& table, const catalog::Snapshot& at);
  catalog::NewFile write_group(const catalog::TableInfo& table, const Group& group,
                               bool drop_deletes, std::uint64_t watermark);

  catalog::CatalogRepo& catalog_;
  storage::ObjectStore& store_;
  CompactionOptions options_;
  std::unique_ptr<duck::Database> duckdb_;
  std::unique_ptr<duck::Connection> conn_;
};

}  // namespace duckmesh::maintenance
