// PostgresBus: the IngestBus in a PostgreSQL database, shared by every node
// of a scale-out deployment (API nodes publish, coordinators claim).
//
// Tables (created on first open, see kSchema in postgres_bus.cpp):
//   bus_head          one row: the last position handed out, and the width of
//                     the events partitions (fixed when the bus is created)
//   bus_events        published records not yet acked or dead-lettered,
//                     PARTITION BY RANGE (position); partition k holds
//                     positions [k*w + 1, (k+1)*w]
//   bus_dead_letters  dead-lettered records with their reason
//   bus_table_leases  which consumer holds which (product, table), until when
//   bus_consumers     consumers that claimed lately, until when
//
// Positions: publish() adds n to bus_head.last_position in the transaction
// that inserts the records, so positions are gap-free (a rolled-back publish
// gives its positions back) and become visible in order: a publisher holds the
// head row until it commits, so position p + 1 is never claimable before p.
// Publishing is a group commit: concurrent publish() calls of one process
// queue up; whoever finds no transaction running becomes the leader and
// inserts every queued record in one transaction (multi-row INSERT), then
// wakes the others. All or nothing for the whole group, as for one call.
//
// Claims: claim_batch() locks deliverable rows with FOR UPDATE SKIP LOCKED,
// so concurrent consumers (in any process) never wait for each other nor get
// the same record. A record is deliverable when no consumer holds it or its
// lease (server clock) has passed.
// Single writer per table: a consumer that claims records of a (product,
// table) takes that table's lease (a bus_table_leases row, upserted under its
// row lock, so two claimers cannot both take it); while the lease lasts, no
// other consumer is given records of that table. The lease lasts as long as
// the consumer's longest record lease (extend_lease() extends both) and ends
// when the consumer has settled or returned all its records of the table.
// Sharing: a claim records its consumer as active (bus_consumers) until its
// lease ends; with k active consumers and n tables that have work (free, or
// held by another consumer), a claim takes at most ceil(n / k) tables, those
// waiting longest first, so coordinators split the tables between them
// instead of the first claimer taking all. Alone, a consumer takes them all.
//
// Durability: every call returns after its transaction committed. Delivery
// counts (attempts) are stored, so they survive restarts of any node.
//
// Cleanup: acked records are deleted; a partition that lies wholly at or below
// the head and holds no record any more is dropped (after an ack or dead
// letter touching it, and by requeue_expired() for all), so the table never
// needs vacuuming of old events.
//
// Failures: a lost connection is retried once on a fresh one, then Error
// unavailable; see pg/session.hpp. A publish() whose commit was in doubt
// reports unavailable; its records may still be delivered (as with the local
// log), never half of them.
//
// Thread safety: every method may be called concurrently, from any number of
// processes sharing the database.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bus/ingest_bus.hpp"

namespace duckmesh::pg {
class ConnectionPool;
}
namespace pqxx {
class transaction_base;
}

namespace duckmesh::bus {

struct PostgresBusOptions {
  std::string url;  // libpq connection string or postgresql:// URI (bus_url)
  std::size_t pool_size = 4;
  int statement_timeout_ms = 30'000;
  int checkout_timeout_ms = 30'000;
  int health_check_idle_ms = 1'000;
  // The nack() that finds a record delivered this many times dead-letters it.
  std::uint32_t max_attempts = 5;
  // Positions per bus_events partition; only used by the open that creates
  // the bus (later opens use the stored width).
  std::uint64_t partition_positions = 1'000'000;
};

class PostgresBus final : public IngestBus {
 public:
  // Connects and creates the tables if missing. Throws unavailable when the
  // server cannot be reached, invalid_input for bad options.
  explicit PostgresBus(PostgresBusOptions options);
  ~PostgresBus() override;

  std::vector<Position> publish(std::vector<Record> records) override;
  std::vector<Record> claim_batch(const std::string& consumer, std::size_t limit,
                                  std::chrono::milliseconds lease) override;
  void ack(const std::string& consumer, const std::vector<Position>& positions) override;
  void nack(const std::string& consumer, const std::vector<Position>& positions,
            const std::string& reason) override;
  void release(const std::string& consumer, const std::vector<Position>& positions) override;
  void dead_letter(const std::string& consumer, const std::vector<Position>& positions,
                   const std::string& reason) override;
  void extend_lease(const std::string& consumer, const std::vector<Position>& positions,
                    std::chrono::milliseconds lease) override;
  std::size_t requeue_expired() override;
  using IngestBus::dead_letters;
  std::vector<DeadLetter> dead_letters(std::size_t limit,
                                       const std::string& product) const override;
  Position replay_dead_letter(Position position) override;
  std::map<std::string, Position> unsettled_keys(
      const std::string& product, const std::string& table,
      const std::vector<std::string>& keys) const override;
  BusStats stats() const override;
  Position last_position() const override;
  void leave(const std::string& consumer) override;

  // Transactions that published a group, since open (tests watch group commit).
  std::uint64_t group_commits() const;
  // bus_events partitions that exist now.
  std::size_t partition_count() const;
  // Connections opened so far, replacements included (tests watch reconnects).
  std::size_t connections_opened() const;

 private:
  struct PublishRequest {
    std::vector<Record>* records = nullptr;
    Position first_position = 0;
    bool done = false;
    std::exception_ptr error;
  };

  // Leader only: one transaction for the whole group.
  void write_group(const std::vector<PublishRequest*>& group);
  // Inside a transaction holding the head row: creates the partitions that
  // positions [first, last] need and this process has not seen; appends the
  // ones it made sure of to `created` (remembered once the caller commits).
  void ensure_partitions(pqxx::transaction_base& tx, Position first, Position last,
                         std::vector<std::uint64_t>& created);
  // Drops partitions among `candidates` that lie wholly at or below the head
  // and are empty; a partition busy beyond a short lock wait is left for later.
  void drop_settled_partitions(const std::set<std::uint64_t>& candidates);
  std::set<std::uint64_t> partitions_of(const std::vector<Position>& positions) const;

  const PostgresBusOptions options_;
  std::unique_ptr<pg::ConnectionPool> pool_;
  std::uint64_t partition_width_ = 0;  // as stored in bus_head

  mutable std::mutex publish_mu_;
  std::condition_variable published_;
  std::deque<PublishRequest*> queue_;
  bool leader_running_ = false;
  std::uint64_t group_commits_ = 0;

  // Partitions this process knows to exist (created or seen), so a publish
  // creates one only when it crosses into a new range.
  mutable std::mutex partitions_mu_;
  std::set<std::uint64_t> known_partitions_;
};

}  // namespace duckmesh::bus
