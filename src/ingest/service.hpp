// IngestService: accepts events for a table, exactly once per idempotency key.
//
// An accepted event is durable in the ingest bus before the call returns; the
// returned visibility token tells when it is queryable. Validation happens
// before anything is published: with atomic=true one bad event refuses the
// whole request (nothing is published); with atomic=false the good events are
// published and the bad ones reported, never dropped silently.
//
// Idempotency: an event's key is its `_idempotency_key` field, else the
// table's idempotency column, else "<Idempotency-Key header>:<index>". A key
// already published (pending in the bus, or committed within the catalog's
// window) is reported as a duplicate and not published again; the token still
// covers its original position. A request retried with the same
// Idempotency-Key header gets the same answer back (marked replayed),
// whatever its atomic setting (the answer is what became of those events);
// the same key with another body or format is refused (unprocessable)
// instead of answered with the first request's outcome. The answer is kept
// in this node's memory (the last remembered_responses) and in the catalog
// for the idempotency window, so other nodes and this one after a restart
// give it too. Should the catalog not have it (it failed to store it), the
// per-event keys still make the retry publish nothing twice, and the
// commit coordinator drops any duplicate that races past this check.
//
// Backpressure: when the bus backlog passes max_bus_backlog, or the process's
// resident memory passes max_memory_bytes (read at most every 100 ms), ingest
// answers `unavailable` with a retry hint instead of growing without bound.
//
// Quotas (ingest/quota.hpp): the events a request would publish, after
// duplicates are set aside, are counted against the product's quotas first;
// over a quota, the request publishes nothing and answers quota_exceeded.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bus/ingest_bus.hpp"
#include "catalog/catalog_repo.hpp"
#include "commit/coordinator.hpp"
#include "ingest/quota.hpp"
#include "ingest/token.hpp"
#include "ingest/validation.hpp"
#include "product/product_service.hpp"

namespace duckmesh::ingest {

struct IngestOptions {
  std::size_t max_bus_backlog = 2'000'000;  // pending + in-flight records
  std::uint64_t max_memory_bytes = 0;       // resident memory of the process; 0: no limit
  std::size_t max_events_per_request = 100'000;
  std::size_t max_decompressed_bytes = 256u << 20;
  std::size_t remembered_responses = 10'000;  // Idempotency-Key replies kept in memory
  Quotas* quotas = nullptr;                   // per-product quotas; null: none
};

struct IngestRequest {
  std::string product;
  std::string table;
  std::string_view body;
  BodyFormat format = BodyFormat::json;
  bool gzip = false;
  bool atomic = true;
  std::string batch_key;  // Idempotency-Key header, or empty
};

struct IngestOutcome {
  std::size_t total = 0;
  std::size_t accepted = 0;
  std::size_t duplicates = 0;
  std::vector<EventError> rejected;
  VisibilityToken token;
  bool replayed = false;
};

struct Visibility {
  bool visible = false;
  bus::Position watermark = 0;
  std::optional<std::int64_t>
      snapshot_id;  // the latest snapshot, which holds the write, when visible
};

class IngestService {
 public:
  IngestService(catalog::CatalogRepo& catalog, bus::IngestBus& bus,
                commit::Coordinator& coordinator, product::ProductService& products,
                IngestOptions options = {});

  // Errors: not_found (product/table), invalid_input (unreadable body),
  // unprocessable (invalid events; details.rejected lists them),
  // payload_too_large, unavailable (backlog; details.retry_after_seconds),
  // quota_exceeded (details.quota names it).
  IngestOutcome ingest(const IngestRequest& request);

  // Blocks until the token is visible or the timeout passes.
  bool wait_visible(const VisibilityToken& token, std::chrono::milliseconds timeout);
  Visibility visibility(const VisibilityToken& token) const;

  // The product's quotas and what it used (not_found for an unknown
  // product). Limits of 0 mean none; without quotas configured, all are 0
  // and usage is still reported.
  QuotaUsage quota_usage(const std::string& product);

 private:
  struct PendingKey {
    bus::Position position = 0;
  };
  using KeyId = std::tuple<std::string, std::string, std::string>;  // product, table, key

  struct RememberedResponse {
    IngestOutcome outcome;
    std::uint64_t fingerprint = 0;  // of the body and format (see request_fingerprint)
  };
  // Keeps the answer to a request with an Idempotency-Key header in this
  // node's memory (the last options_.remembered_responses of them).
  void remember_response(const IngestRequest& request, const RememberedResponse& response);
  // Stores the answer in the catalog before the request returns, grouped
  // with the answers of concurrent requests into one write.
  void store_answer(catalog::RequestRecord record);
  void forget_committed_keys();
  // The process's resident memory, read again when the last reading is older
  // than 100 ms (reading /proc on every request would cost more than the
  // check is worth at thousands of requests per second). A reading at or
  // over max_memory_bytes first returns the heap's free memory to the
  // system and reads again.
  std::uint64_t resident_memory();

  // A table version's schema and options, parsed once: parsing their JSON
  // again for every request cost more than validating a small batch.
  struct ParsedTable {
    schema::TableSchema schema;
    product::TableOptions options;
  };
  std::shared_ptr<const ParsedTable> parsed_table(const catalog::TableInfo& table);

  catalog::CatalogRepo& catalog_;
  bus::IngestBus& bus_;
  commit::Coordinator& coordinator_;
  product::ProductService& products_;
  IngestOptions options_;

  std::mutex mutex_;
  std::map<KeyId, bus::Position> pending_keys_;    // published, maybe not yet committed
  std::map<KeyId, RememberedResponse> responses_;  // by Idempotency-Key header
  std::list<KeyId> response_order_;
  // Answers waiting for their catalog write (see store_answer); counts of
  // answers queued and written so far.
  std::mutex answers_mutex_;
  std::condition_variable answers_done_;
  std::vector<catalog::RequestRecord> answers_queue_;
  std::uint64_t answers_queued_ = 0;
  std::uint64_t answers_written_ = 0;
  bool answers_writing_ = false;
  std::mutex parsed_mutex_;
  // By schema JSON + '\0' + options JSON; cleared when kMaxParsed are kept.
  std::map<std::string, std::shared_ptr<const ParsedTable>> parsed_;
  static constexpr std::size_t kMaxParsed = 1024;
  std::atomic<std::int64_t> memory_read_at_ns_{0};  // steady clock; 0: never
  std::atomic<std::uint64_t> memory_bytes_{0};
};

}  // namespace duckmesh::ingest
