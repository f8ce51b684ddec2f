#include "common/fault.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace duckmesh::fault {
namespace {

struct ArmedPoint {
  std::string name;
  std::uint64_t fire_on_hit = 1;
  std::atomic<std::uint64_t> hits{0};
};

// Parsed once and never changed afterwards, apart from the atomic counters.
// A malformed entry (bad count) arms nothing rather than guessing: a crash
// test that meant to crash notices, a production process is never killed by
// a typo.
std::vector<std::unique_ptr<ArmedPoint>> parse(const char* spec) {
  std::vector<std::unique_ptr<ArmedPoint>> points;
  if (spec == nullptr) return points;
  std::string_view rest(spec);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view entry = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) continue;
    auto point = std::make_unique<ArmedPoint>();
    const std::size_t at = entry.find('@');
    point->name = std::string(entry.substr(0, at));
    if (at != std::string_view::npos) {
      const std::string_view count = entry.substr(at + 1);
      std::uint64_t n = 0;
      const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
      if (ec != std::errc{} || end != count.data() + count.size() || n == 0) continue;
      point->fire_on_hit = n;
    }
    if (!point->name.empty()) points.push_back(std::move(point));
  }
  return points;
}

const std::vector<std::unique_ptr<ArmedPoint>>& armed_points() {
  static const std::vector<std::unique_ptr<ArmedPoint>> points =
      parse(std::getenv("DUCKMESH_FAULT"));
  return points;
}

}  // namespace

bool armed(std::string_view point) {
  for (const auto& p : armed_points()) {
    if (p->name == point) {
      return p->hits.fetch_add(1, std::memory_order_relaxed) + 1 == p->fire_on_hit;
    }
  }
  return false;
}

void crash() {
  ::kill(::getpid(), SIGKILL);
  // SIGKILL cannot be caught or ignored; if delivery is somehow delayed, do
  // not run any cleanup either.
  std::_Exit(137);
}

void maybe_crash(std::string_view point) {
  if (armed(point)) crash();
}

}  // namespace duckmesh::fault
