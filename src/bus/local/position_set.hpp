// A set of log positions stored as disjoint ranges.
//
// Consumers settle (ack or dead-letter) positions roughly in order, so the set
// of settled positions of a long-running log is a handful of ranges even
// after millions of acks; this is what the state snapshot persists.
#pragma once

#include <cstddef>
#include <map>

#include "bus/ingest_bus.hpp"

namespace duckmesh::bus::local {

class PositionSet {
 public:
  bool contains(Position p) const;
  void insert(Position p) { insert_range(p, p); }
  // Inserts [lo, hi] (inclusive). REQUIRES: 1 <= lo <= hi.
  void insert_range(Position lo, Position hi);
  // Drops every position below `floor`.
  void erase_below(Position floor);
  bool empty() const noexcept { return ranges_.empty(); }
  // Highest position in the set, 0 when empty.
  Position max() const noexcept { return ranges_.empty() ? 0 : ranges_.rbegin()->second; }
  // Disjoint, non-adjacent ranges: first -> last (inclusive), ascending.
  const std::map<Position, Position>& ranges() const noexcept { return ranges_; }

 private:
  std::map<Position, Position> ranges_;
};

}  // namespace duckmesh::bus::local
