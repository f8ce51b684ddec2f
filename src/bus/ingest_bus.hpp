// IngestBus: the durable hand-off between ingest acceptance and commit.
//
// A record is acknowledged to the client once publish() returns: from then on
// it survives any crash of the process and is delivered to consumers until it
// is acked or dead-lettered. Positions are assigned by the bus, strictly
// increasing in publish order, never reused, and start at 1.
//
// Delivery is at-least-once: a claimed record whose lease expires (consumer
// crashed) or that is nacked is delivered again. Consumers make it exactly
// once by recording committed positions in the catalog in the same
// transaction as the data (see commit::Coordinator).
//
// Single writer per table: while a consumer holds a lease on any record of a
// (product, table), claim_batch() gives no other consumer records of that
// table; the table is free again once that consumer has acked, nacked,
// released or dead-lettered all of them, or their leases expired. So
// coordinators sharing a bus split the work by table and never write the
// same table at once. A claim may leave deliverable tables to other active
// consumers (the PostgreSQL bus shares tables fairly among them).
//
// Thread safety: every method may be called concurrently. Errors throw
// duckmesh::Error.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bus/payload.hpp"

namespace duckmesh::bus {

using Position = std::uint64_t;

struct Record {
  Position position = 0;  // set by the bus on publish
  std::string product;
  std::string table;
  std::string idempotency_key;        // empty when the event has none
  Payload payload;                    // the validated event: binary or JSON object text
  std::int64_t ingested_unix_us = 0;  // set by the bus on publish if 0
  std::uint32_t attempts = 0;         // deliveries so far (set by the bus)
};

struct DeadLetter {
  Record record;
  std::string reason;
  std::int64_t dead_unix_us = 0;
};

struct BusStats {
  Position last_position = 0;   // highest position published
  std::uint64_t pending = 0;    // published, not claimed
  std::uint64_t in_flight = 0;  // claimed under a lease
  std::uint64_t dead_letters = 0;
};

class IngestBus {
 public:
  virtual ~IngestBus() = default;
  IngestBus() = default;
  IngestBus(const IngestBus&) = delete;
  IngestBus& operator=(const IngestBus&) = delete;

  // Appends records durably, in order, and returns their positions (same
  // order). All or nothing: on error none of them is acknowledged. Concurrent
  // callers share fsyncs (group commit).
  virtual std::vector<Position> publish(std::vector<Record> records) = 0;

  // Claims up to `limit` deliverable records for `consumer`, lowest position
  // first (skipping tables another consumer holds), leased until now + lease. Records of an expired
  // lease are deliverable again. Returns an empty vector when nothing is deliverable.
  virtual std::vector<Record> claim_batch(const std::string& consumer, std::size_t limit,
                                          std::chrono::milliseconds lease) = 0;

  // As claim_batch(), into `out`, which is cleared first. A consumer that
  // claims batch after batch hands back the vector of an earlier batch, so
  // the records go into room already in use: 100k records are ~15 MB, and
  // fresh room costs a page fault per 4 KiB on first touch. The default
  // claims into a new vector.
  virtual void claim_batch_into(const std::string& consumer, std::size_t limit,
                                std::chrono::milliseconds lease, std::vector<Record>& out) {
    out = claim_batch(consumer, limit, lease);
  }

  // Marks records done; they are never delivered again (durable on return).
  // Acking a position not leased by `consumer` is ignored.
  virtual void ack(const std::string& consumer, const std::vector<Position>& positions) = 0;

  // Returns leased records for redelivery. A record nacked max_attempts times
  // moves to the dead-letter area with `reason` instead (durable on return).
  virtual void nack(const std::string& consumer, const std::vector<Position>& positions,
                    const std::string& reason) = 0;

  // Returns leased records for redelivery without counting this delivery
  // against max_attempts: for failures that are not the records' fault (the
  // object store or the catalog unavailable), so that an outage, however
  // long, never moves an acknowledged event to the dead-letter area.
  // Positions not leased by `consumer` are ignored.
  virtual void release(const std::string& consumer, const std::vector<Position>& positions) = 0;

  // Moves records straight to the dead-letter area with `reason`.
  virtual void dead_letter(const std::string& consumer, const std::vector<Position>& positions,
                           const std::string& reason) = 0;

  // Pushes the lease of `consumer`'s records forward to now + lease.
  virtual void extend_lease(const std::string& consumer, const std::vector<Position>& positions,
                            std::chrono::milliseconds lease) = 0;

  // Makes records whose lease has expired deliverable again; returns how many.
  virtual std::size_t requeue_expired() = 0;

  // Dead letters, oldest first, of one product (or of every product when
  // `product` is empty), and replay: replay republishes a dead letter's
  // record as a new record (new position) and removes it from the area.
  virtual std::vector<DeadLetter> dead_letters(std::size_t limit,
                                               const std::string& product) const = 0;
  std::vector<DeadLetter> dead_letters(std::size_t limit) const { return dead_letters(limit, {}); }
  virtual Position replay_dead_letter(Position position) = 0;

  // Which of `keys` (non-empty idempotency keys of `product`'s `table`)
  // records published and not yet acked, dead-lettered or dropped hold:
  // key -> its lowest such position. At least the keys of records other
  // processes published (a retry sent to another node); a bus that serves
  // one process answers with none, its publisher knowing its own. A record
  // is acked only after its commit is in the catalog, so a key looked up
  // here first and in the catalog's idempotency records next is found in
  // one of the two once any publish of it has returned.
  virtual std::map<std::string, Position> unsettled_keys(
      const std::string& product, const std::string& table,
      const std::vector<std::string>& keys) const = 0;

  // Counts of what the bus holds. May cost time in proportion to the
  // backlog (the PostgreSQL bus counts rows): not for every request.
  virtual BusStats stats() const = 0;

  // The highest position published so far (0 before the first): one read,
  // whatever the backlog. Positions at or below it that the catalog has not
  // resolved are the backlog, as ingest's backpressure counts it.
  virtual Position last_position() const = 0;

  // `consumer` stops claiming (a coordinator shutting down): it no longer
  // counts as active when others share the tables. Records it still holds
  // stay leased until acked, returned or expired.
  virtual void leave(const std::string& consumer) = 0;
};

}  // namespace duckmesh::bus
