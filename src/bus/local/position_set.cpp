#include "bus/local/position_set.hpp"

#include <algorithm>
#include <iterator>

namespace duckmesh::bus::local {

bool PositionSet::contains(Position p) const {
  auto it = ranges_.upper_bound(p);
  if (it == ranges_.begin()) return false;
  --it;
  return p <= it->second;
}

void PositionSet::insert_range(Position lo, Position hi) {
  auto it = ranges_.upper_bound(lo);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    // Merge with a range that overlaps or touches from the left.
    if (prev->second >= lo - 1) {
      if (prev->second >= hi) return;
      lo = prev->first;
      ranges_.erase(prev);
    }
  }
  while (it != ranges_.end() && it->first - 1 <= hi) {
    hi = std::max(hi, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace(lo, hi);
}

void PositionSet::erase_below(Position floor) {
  auto it = ranges_.begin();
  while (it != ranges_.end() && it->second < floor) it = ranges_.erase(it);
  if (it != ranges_.end() && it->first < floor) {
    const Position hi = it->second;
    ranges_.erase(it);
    ranges_.emplace(floor, hi);
  }
}

}  // namespace duckmesh::bus::local
