// LocalLogBus: the IngestBus as an embedded, durable log on local disk (the
// default of a single-machine deployment).
//
// Files under LocalLogBusOptions::dir (format in bus/local/log_format.hpp):
//   segments/<first position, 20 digits>.log  the records, append-only; a new
//       segment starts once the current one reaches segment_bytes
//   state.log       append-only journal of settlements: acks, dead letters
//                   (with the whole record), replays of dead letters
//   state.snapshot  the journal folded into one file, written when state.log
//                   grows large (write temp, fsync, rename, then truncate the
//                   journal)
//   LOCK            flock()ed while open: one process per directory
//
// Durability:
// - publish() returns after its records are written and fdatasync'ed. It
//   uses group commit: publishers queue their records; whoever finds no flush
//   running becomes the leader and writes everything queued with one write()
//   and one fdatasync(), then wakes the others. A failed write or sync fails
//   every publish of that group and the bus refuses publishes until it is
//   reopened, because after a failed fsync Linux may have dropped the dirty
//   pages and nothing about the file's tail can be trusted.
//   A publish that failed may still be delivered after a reopen (its bytes may
//   have reached the disk); one that succeeded is never lost. A group
//   survives a crash whole or not at all, so a publish() of several records
//   never half-survives. Records become claimable only once synced.
// - ack(), dead_letter() and a nack() that dead-letters return after their
//   journal entry is fdatasync'ed. A failure there makes those calls refuse
//   until reopen, for the same reason.
// - A nack() that returns a record for redelivery, and release(), change
//   memory only; after a crash the record is pending anyway.
// - replay_dead_letter() is atomic: the new record carries the dead letter's
//   position, so a crash right after its publish still removes the dead
//   letter on recovery. The replayed record keeps its ingested_unix_us.
//
// Leases: a consumer whose lease ran out may still ack, nack or extend as
// long as the record has not been requeued (by requeue_expired() or by a
// claim_batch(), which requeues expired leases first).
// Single writer per table (as IngestBus requires): a (product, table) with a
// record leased to one consumer is skipped by every other consumer's claims.
//
// Recovery (constructor): segments are read in order. Damage at the tail of
// the LAST segment that lies inside the last, incomplete group commit is a
// torn write that was never acknowledged; it is truncated away. Any other
// damage — in an older segment, or followed by an intact record of a later
// group — means synced data changed, and opening fails with Error internal
// naming the file and offset instead of skipping records. Then the journal is
// applied; every record not acked or dead-lettered is pending again: leases
// and delivery counts (attempts) live in memory and do not survive a restart.
// (Damage inside the very last group that was synced cannot be told apart
// from a torn write and is truncated like one.)
//
// Positions: a torn group's positions were never returned to anyone; they are
// handed out again after recovery, so positions stay gapless.
//
// Memory: every pending record is held in memory, in blocks of consecutive
// positions (one per group commit), and dead letters too. claim_batch() hands
// a record's payload to the consumer instead of copying it: while leased, only
// the rest of the record stays here, with the offset of its frame. A record
// whose payload is lent is read back from its segment when it is claimed again
// (nacked, released, lease expired) or dead-lettered; if that read fails, the
// claim stops before it (and throws when it got nothing) and a dead_letter()
// or exhausting nack() throws with nothing settled. Acked
// records are dropped from memory (a block once all of its records are), and
// a segment whose records are all acked or dead-lettered is deleted (never
// the segment being appended to). Acks are journaled as position ranges.
//
// Thread safety: every method may be called concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bus/ingest_bus.hpp"
#include "bus/local/position_set.hpp"
#include "common/file_io.hpp"

namespace duckmesh::bus {

struct LocalLogBusOptions {
  std::filesystem::path dir;
  // A segment is closed and a new one started once it holds this many bytes
  // (a group commit is never split, so a segment may end a little larger).
  std::uint64_t segment_bytes = 64ull << 20;
  // The nack() that finds a record delivered this many times dead-letters it.
  std::uint32_t max_attempts = 5;
  // Extra time a leader waits before writing, to let more publishers join the
  // group. 0: write at once, batching whoever queued while the previous
  // group was being synced (already one sync per group under load).
  std::chrono::microseconds group_commit_window{0};
  // state.log is folded into state.snapshot once it is larger than this and
  // than twice the last snapshot.
  std::uint64_t state_compact_bytes = 4ull << 20;
};

class LocalLogBus final : public IngestBus {
 public:
  // Opens (creating if needed) and recovers the log in options.dir. Throws
  // Error internal on corruption, conflict if another process has it open,
  // invalid_input for bad options, unavailable/internal on I/O failure.
  explicit LocalLogBus(LocalLogBusOptions options);
  ~LocalLogBus() override;

  std::vector<Position> publish(std::vector<Record> records) override;
  std::vector<Record> claim_batch(const std::string& consumer, std::size_t limit,
                                  std::chrono::milliseconds lease) override;
  void claim_batch_into(const std::string& consumer, std::size_t limit,
                        std::chrono::milliseconds lease, std::vector<Record>& out) override;
  void ack(const std::string& consumer, const std::vector<Position>& positions) override;
  void release(const std::string& consumer, const std::vector<Position>& positions) override;
  void nack(const std::string& consumer, const std::vector<Position>& positions,
            const std::string& reason) override;
  void dead_letter(const std::string& consumer, const std::vector<Position>& positions,
                   const std::string& reason) override;
  void extend_lease(const std::string& consumer, const std::vector<Position>& positions,
                    std::chrono::milliseconds lease) override;
  std::size_t requeue_expired() override;
  using IngestBus::dead_letters;
  std::vector<DeadLetter> dead_letters(std::size_t limit,
                                       const std::string& product) const override;
  Position replay_dead_letter(Position position) override;
  // None: the log serves one process, whose ingest remembers the keys it
  // published until they are committed.
  std::map<std::string, Position> unsettled_keys(
      const std::string& /*product*/, const std::string& /*table*/,
      const std::vector<std::string>& /*keys*/) const override {
    return {};
  }
  BusStats stats() const override;
  Position last_position() const override;
  // One process consumes the local log: nothing is shared, nothing to do.
  void leave(const std::string& consumer) override;

  // Segment fdatasyncs since open: one per group commit. With concurrent
  // publishers this stays far below the number of publish() calls.
  std::uint64_t sync_count() const noexcept { return sync_count_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  // Which consumer holds a (product, table), and how many of its records.
  struct Hold {
    std::string consumer;
    std::size_t leased = 0;
  };

  enum class SlotState : std::uint8_t { settled, pending, leased };

  // A record that was published and is not yet settled (acked or
  // dead-lettered); a settled slot keeps no record.
  struct Slot {
    Record* record = nullptr;  // in its block's records; attempts = deliveries
                               // so far; no payload while lent
    SlotState state = SlotState::settled;
    bool settling = false;          // its ack/dead letter is being journaled
    bool payload_lent = false;      // a claim handed the payload to its consumer
    std::uint32_t consumer = 0;     // index into consumers_ while leased
    std::uint64_t offset = 0;       // of the record's frame in its segment
    std::uint32_t frame_bytes = 0;  // the frame's size, header included
    Clock::time_point deadline{};
  };

  // The records of one group commit (or of one run recovered from a
  // segment): consecutive positions in one allocation, so publishing,
  // claiming and acking touch no per-record index node. A block is dropped
  // once every slot in it is settled.
  struct Block {
    // The records as publishers handed them over (a group commit holds one
    // vector per publish), never resized, so slots point into them.
    std::vector<std::vector<Record>> records;
    std::vector<Slot> slots;        // slots[i] holds position first + i
    std::size_t live = 0;           // slots not settled
    std::size_t pending = 0;        // slots deliverable now
    std::size_t first_pending = 0;  // no pending slot below this index
  };
  using Blocks = std::map<Position, Block>;  // by first position

  // Leases are taken per claim: one entry for the ranges of positions leased
  // with one deadline. An entry only names positions; a slot whose deadline
  // no longer matches (acked, returned, extended) is skipped when it expires.
  using Leases = std::multimap<Clock::time_point, std::vector<std::pair<Position, Position>>>;

  // A segment file holding durable records [first, last]; last == first - 1
  // while empty.
  struct Segment {
    Position first = 0;
    Position last = 0;
    std::uint64_t unsettled = 0;  // records neither acked nor dead-lettered
  };

  // One publish() waiting in the group-commit queue.
  struct PublishRequest {
    std::vector<Record>* records = nullptr;
    Position replayed_from = 0;
    Position first_position = 0;
    bool done = false;
    std::exception_ptr error;
  };

  enum class Settlement { ack, dead };

  // The constructor's work; runs before any other thread can see the bus.
  void recover();
  void load_snapshot();
  void load_journal();
  void scan_segments();

  std::vector<Position> publish_records(std::vector<Record> records, Position replayed_from);
  // Leader only: writes and syncs one group; rolls the segment first if full.
  // Returns the offset of the group's first frame in the active segment.
  std::uint64_t write_group(const std::deque<PublishRequest*>& batch, bool& rolled);
  void roll_segment(Position first);

  // Marks the positions `consumer` holds (and that are not being settled
  // already) as settling and returns them. REQUIRES: mu_ held.
  std::vector<Position> reserve_locked(const std::string& consumer,
                                       const std::vector<Position>& positions);
  // Journals the reserved positions as acked or dead, then drops them from
  // memory; on failure they go back to being plainly leased.
  // REQUIRES: state_mu_ held, mu_ not held.
  void settle(const std::vector<Position>& reserved, Settlement how, const std::string& reason);
  // REQUIRES mu_ held and `slot` leased: makes the record claimable again.
  void return_to_pending(Block& block, std::size_t index);
  // The block holding position p with an unsettled slot, or end().
  // REQUIRES: mu_ held.
  Blocks::iterator find_block_locked(Position p);
  // The block whose positions span p, settled or not: `hint` when it does
  // (positions mostly come in order), else a search; end() when none.
  // REQUIRES: mu_ held.
  Blocks::iterator block_spanning_locked(Blocks::iterator hint, Position p);
  // The unsettled slot at p, or nullptr. REQUIRES: mu_ held.
  Slot* find_slot_locked(Position p);
  // The id of `consumer`, registering it (claims) or nullopt when it never
  // claimed (settlements). REQUIRES: mu_ held.
  std::uint32_t consumer_id_locked(const std::string& consumer);
  std::optional<std::uint32_t> known_consumer_locked(const std::string& consumer) const;
  // Indexes synced records (consecutive positions, whose frames follow each
  // other in one segment from first_offset on) as one pending block.
  // REQUIRES: mu_ held.
  void add_block_locked(Position first, std::vector<std::vector<Record>>&& records,
                        std::uint64_t first_offset);
  // The segment file a run of restores reads from, kept open between them.
  struct SegmentReader {
    Position first = 0;  // of the open segment
    fileio::UniqueFd fd;
  };
  // Reads the payload of the record at p back from its segment when a claim
  // lent it. Throws (and changes nothing) when the frame cannot be read or
  // is not that record's. REQUIRES: mu_ held, `slot` is p's.
  void restore_payload_locked(Position p, Slot& slot, SegmentReader& reader);
  // Appends already framed bytes to state.log and syncs. REQUIRES: state_mu_.
  void append_journal(const std::string& frames);
  void throw_if_journal_failed() const;
  // Deletes segments with nothing unsettled, then folds the journal if it is
  // large. REQUIRES: state_mu_ held.
  void after_settlement();
  void delete_settled_segments();
  void maybe_compact();

  // REQUIRES: mu_ held.
  std::size_t requeue_expired_locked(Clock::time_point now);
  // The hold on `record`'s table, or nullptr when nobody holds it.
  Hold* hold_of_locked(const Record& record);
  // `count` of the record's table's leased records stopped being leased.
  void unhold_locked(const Record& record, std::size_t count = 1);
  // Drops settled positions (ascending) from memory. REQUIRES: mu_ held.
  void forget_slots_locked(const std::vector<Position>& positions);

  std::filesystem::path segment_path(Position first) const;

  const LocalLogBusOptions options_;
  const std::filesystem::path segments_dir_;
  const std::filesystem::path journal_path_;
  const std::filesystem::path snapshot_path_;
  fileio::UniqueFd lock_fd_;

  // Everything in memory. Lock order: state_mu_ before mu_.
  mutable std::mutex mu_;
  std::condition_variable flushed_;
  std::deque<PublishRequest*> queue_;
  bool flushing_ = false;
  std::string publish_failure_;  // non-empty once a segment write/sync failed
  Position next_position_ = 1;   // next to hand out
  Position last_durable_ = 0;    // highest synced position
  Blocks blocks_;
  std::set<Position> pending_blocks_;  // first positions of blocks with pending slots
  std::size_t live_count_ = 0;         // unsettled records
  std::size_t pending_count_ = 0;      // of them, deliverable now
  Leases leases_;
  std::vector<std::string> consumers_;  // names of consumers that ever claimed
  std::map<std::string, Hold> holds_;   // by table_key(product, table)
  local::PositionSet settled_;          // acked or dead-lettered, not yet forgotten
  std::map<Position, DeadLetter> dead_;
  std::map<Position, Segment> segments_;  // by first position; the last is active
  std::atomic<std::uint64_t> sync_count_{0};

  // The segment being appended to. Touched only by the current leader (the
  // thread that set flushing_) and by the constructor.
  fileio::UniqueFd active_fd_;
  std::filesystem::path active_path_;
  Position active_first_ = 0;
  std::uint64_t active_size_ = 0;
  std::string group_bytes_;  // the leader's encoding buffer, reused

  // The journal. Guarded by state_mu_.
  mutable std::mutex state_mu_;
  fileio::UniqueFd journal_fd_;
  std::uint64_t journal_size_ = 0;
  std::uint64_t snapshot_size_ = 0;
  std::string journal_failure_;  // non-empty once a journal write/sync failed
  // Dead letters whose replay recovery found in the segments but whose
  // undead entry never reached the journal; journaled at the end of recover().
  std::vector<std::pair<Position, Position>> recovered_replays_;
};

}  // namespace duckmesh::bus
