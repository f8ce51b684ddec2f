// QueryService: SQL over a product's snapshots.
//
// Resolves the snapshot to read (explicit id, as of a time, latest, or latest
// once it covers a visibility token), binds every table of the product to
// exactly that snapshot's files in a sandboxed DuckDB session that can read
// only this product's files, and runs the statement with the limits asked
// for. Concurrency: each product has a bounded pool of sandboxes; a query
// waits up to queue_wait for one and is refused as `unavailable` (503) past
// that.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "catalog/catalog_repo.hpp"
#include "query/executor.hpp"
#include "query/sandbox.hpp"
#include "storage/object_store.hpp"

namespace duckmesh::query {

struct QueryServiceOptions {
  std::filesystem::path scratch_dir;           // sandboxes' private directories
  SandboxLimits limits;                        // per sandbox (per query)
  std::size_t sandboxes_per_product = 4;       // concurrent queries per product
  std::chrono::milliseconds queue_wait{5000};  // wait for a free sandbox before 503
  std::chrono::milliseconds max_timeout{300'000};
  std::size_t max_rows_limit = 1'000'000;
};

// What a client asks (the JSON body of POST /v1/products/{p}/query).
struct QueryRequest {
  std::string sql;
  boost::json::value params;
  std::optional<std::int64_t> snapshot_id;
  std::optional<std::string> as_of;  // RFC 3339
  std::optional<std::string> min_visibility_token;
  std::chrono::milliseconds wait_timeout{5000};
  std::size_t max_rows = 10'000;
  bool error_on_truncate = false;
  std::chrono::milliseconds timeout{30'000};
  Format format = Format::json;
  bool include_system_columns = false;

  // invalid_input naming the field on any bad member.
  static QueryRequest from_json(const boost::json::value& body);
};

struct QueryResult {
  QueryOutcome outcome;
  std::int64_t snapshot_id = 0;
  std::size_t files_scanned = 0;  // files of the bound tables' views
  std::size_t files_pruned = 0;   // live files left out by their statistics
};

// Waits until every bus position <= the given one is resolved, or the
// timeout passes; true when resolved.
using VisibilityWaiter =
    std::function<bool(std::uint64_t position, std::chrono::milliseconds timeout)>;

class QueryService {
 public:
  QueryService(const catalog::CatalogRepo& catalog, const storage::ObjectStore& store,
               VisibilityWaiter waiter, QueryServiceOptions options);
  ~QueryService();
  QueryService(const QueryService&) = delete;
  QueryService& operator=(const QueryService&) = delete;

  // The snapshot a request reads. not_found (no such snapshot / none before
  // as_of / product without snapshots), timeout (token not visible in time),
  // invalid_input (bad token or time).
  catalog::Snapshot resolve(const std::string& product, const QueryRequest& request);

  // Rows added to `table` by ingest after snapshot `from` up to and
  // including snapshot `to`, with their system columns (_dm_position,
  // _dm_ingested_at, and _dm_op for keyed tables: every version, deletes
  // included). Rows rewritten by compaction are not changes.
  QueryResult changes(const std::string& product, const std::string& table, std::int64_t from,
                      std::int64_t to, Format format, std::size_t max_rows, ResultSink& sink);

  // Runs the query, writing the encoded result to `sink`.
  QueryResult run(const std::string& product, const QueryRequest& request, ResultSink& sink);

  // Per product that has run a query: sandboxes busy and idle, and queries
  // waiting for one (the query queue).
  struct SandboxFigures {
    std::size_t busy = 0;
    std::size_t idle = 0;
    std::size_t waiting = 0;
  };
  std::map<std::string, SandboxFigures> sandbox_figures();

 private:
  SandboxPool& pool_for(const std::string& product);

  const catalog::CatalogRepo& catalog_;
  const storage::ObjectStore& store_;
  VisibilityWaiter waiter_;
  QueryServiceOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<SandboxPool>> pools_;
};

}  // namespace duckmesh::query
