// DeadLetters: what a product's admin sees of, and does with, the events
// that failed to commit (the bus's dead-letter area).
//
// An event lands there when committing it failed max_attempts times for a
// reason of its own (a value the table's Parquet types refuse), or at once
// when its table no longer exists (dropped after the event was accepted).
// Each keeps its table, idempotency key, ingest time, attempts and the
// reason. Once the cause is mended (the table created again, the schema
// evolved), replay publishes the events again as new records: committed
// like any other, exactly once per idempotency key, and the original
// position stays resolved so the watermark is never held back.
//
// Thread safety: all methods may be called concurrently; replaying one
// position twice at once publishes it once (the loser finds it gone).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bus/ingest_bus.hpp"
#include "commit/coordinator.hpp"
#include "ingest/token.hpp"
#include "product/product_service.hpp"

namespace duckmesh::ingest {

struct DeadLetterQuery {
  std::string product;
  std::string table;  // empty: every table of the product
  std::size_t limit = 100;
};

// Exactly one of `positions` and `table` says what to replay.
struct ReplayRequest {
  std::string product;
  std::vector<bus::Position> positions;
  std::string table;
};

struct Replayed {
  bus::Position position = 0;     // where the dead letter was
  bus::Position replayed_as = 0;  // its new record
};

struct ReplayOutcome {
  std::vector<Replayed> replayed;
  // Positions asked for that another replay took first (not an error: each
  // event is published again once).
  std::vector<bus::Position> already_replayed;
  std::size_t remaining = 0;             // the table's, left past kMaxPerCall
  std::optional<VisibilityToken> token;  // covers every replayed event
};

class DeadLetters {
 public:
  // At most this many dead letters are listed or replayed per call.
  static constexpr std::size_t kMaxPerCall = 10'000;

  DeadLetters(bus::IngestBus& bus, commit::Coordinator& coordinator,
              product::ProductService& products);

  // Oldest first. not_found for an unknown product; invalid_input for a
  // limit outside 1..kMaxPerCall.
  std::vector<bus::DeadLetter> list(const DeadLetterQuery& query) const;

  // Checks everything before publishing anything: invalid_input when neither
  // or both of positions/table are given or there are more than
  // kMaxPerCall positions; not_found (details.position) for a position
  // that is no dead letter of this product; conflict (details.table) when
  // an event's table does not exist, since replaying it would only
  // dead-letter it again.
  ReplayOutcome replay(const ReplayRequest& request);

 private:
  bus::IngestBus& bus_;
  commit::Coordinator& coordinator_;
  product::ProductService& products_;
};

}  // namespace duckmesh::ingest
