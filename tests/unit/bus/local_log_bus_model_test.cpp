// The local log against a plain model of the IngestBus contract: thousands of
// random publishes, claims by two consumers, acks, nacks, releases, expired
// leases and reopens, each answer compared with what the model says.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "bus/local/local_log_bus.hpp"
#include "unit/bus/test_support.hpp"

namespace duckmesh::bus {
namespace {

using namespace test_support;
using std::chrono::milliseconds;

constexpr std::uint32_t kMaxAttempts = 3;

enum class State { pending, leased, acked, dead };

struct ModelRecord {
  std::string table;
  State state = State::pending;
  std::string consumer;
  std::uint32_t attempts = 0;
};

class Model {
 public:
  std::map<Position, ModelRecord> records;

  std::vector<Position> claim(const std::string& consumer, std::size_t limit) {
    // Tables another consumer holds a lease on are skipped.
    std::set<std::string> held_by_others;
    for (const auto& [p, r] : records) {
      if (r.state == State::leased && r.consumer != consumer) held_by_others.insert(r.table);
    }
    std::vector<Position> out;
    for (auto& [p, r] : records) {
      if (out.size() >= limit) break;
      if (r.state != State::pending || held_by_others.count(r.table)) continue;
      r.state = State::leased;
      r.consumer = consumer;
      ++r.attempts;
      out.push_back(p);
    }
    return out;
  }

  std::vector<Position> leased_by(const std::string& consumer) const {
    std::vector<Position> out;
    for (const auto& [p, r] : records) {
      if (r.state == State::leased && r.consumer == consumer) out.push_back(p);
    }
    return out;
  }

  BusStats stats() const {
    BusStats s;
    s.last_position = records.empty() ? 0 : records.rbegin()->first;
    for (const auto& [p, r] : records) {
      s.pending += r.state == State::pending;
      s.in_flight += r.state == State::leased;
      s.dead_letters += r.state == State::dead;
    }
    return s;
  }
};

TEST(LocalLogBusModel, RandomOperationsAgreeWithTheModel) {
  TempDir dir;
  LocalLogBusOptions o = options_for(dir.path());
  o.max_attempts = kMaxAttempts;
  o.segment_bytes = 16 << 10;  // many segments come and go
  o.state_compact_bytes = 4 << 10;
  auto bus = std::make_unique<LocalLogBus>(o);
  Model model;
  std::mt19937 rng(20261206);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const std::vector<std::string> tables{"a", "b", "c"};
  const std::vector<std::string> consumers{"c1", "c2"};
  const milliseconds long_lease = std::chrono::hours(1);

  // Some of `leased`, and a position nobody holds.
  auto some_of = [&](std::vector<Position> leased) {
    std::shuffle(leased.begin(), leased.end(), rng);
    leased.resize(pick(leased.size() + 1));
    if (!model.records.empty()) leased.push_back(1 + pick(model.records.rbegin()->first + 5));
    return leased;
  };

  for (int step = 0; step < 4000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const std::string& consumer = consumers[pick(consumers.size())];
    const std::size_t op = pick(100);
    if (op < 30) {
      // A publish of 1-40 records, runs of one table as ingest makes them.
      std::vector<Record> batch;
      const std::size_t n = 1 + pick(40);
      std::string table = tables[pick(tables.size())];
      for (std::size_t i = 0; i < n; ++i) {
        if (pick(8) == 0) table = tables[pick(tables.size())];
        batch.push_back(make_record("e" + std::to_string(step) + "-" + std::to_string(i), table));
      }
      std::vector<std::string> names;
      for (const Record& r : batch) names.push_back(r.table);
      const std::vector<Position> got = bus->publish(std::move(batch));
      ASSERT_EQ(got.size(), n);
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i], model.stats().last_position + 1);
        model.records[got[i]].table = names[i];
      }
    } else if (op < 55) {
      const std::size_t limit = 1 + pick(60);
      const std::vector<Record> got = bus->claim_batch(consumer, limit, long_lease);
      const std::vector<Position> want = model.claim(consumer, limit);
      ASSERT_EQ(positions_of(got), want);
      for (const Record& r : got) {
        ASSERT_EQ(r.table, model.records.at(r.position).table);
        ASSERT_EQ(r.attempts, model.records.at(r.position).attempts);
      }
    } else if (op < 75) {
      const std::vector<Position> acked = some_of(model.leased_by(consumer));
      bus->ack(consumer, acked);
      for (Position p : acked) {
        auto it = model.records.find(p);
        if (it != model.records.end() && it->second.state == State::leased &&
            it->second.consumer == consumer) {
          it->second.state = State::acked;
        }
      }
    } else if (op < 82) {
      const std::vector<Position> nacked = some_of(model.leased_by(consumer));
      bus->nack(consumer, nacked, "model says no");
      for (Position p : nacked) {
        auto it = model.records.find(p);
        if (it == model.records.end() || it->second.state != State::leased ||
            it->second.consumer != consumer) {
          continue;
        }
        it->second.state = it->second.attempts >= kMaxAttempts ? State::dead : State::pending;
      }
    } else if (op < 88) {
      const std::vector<Position> released = some_of(model.leased_by(consumer));
      bus->release(consumer, released);
      for (Position p : released) {
        auto it = model.records.find(p);
        if (it == model.records.end() || it->second.state != State::leased ||
            it->second.consumer != consumer) {
          continue;
        }
        it->second.state = State::pending;
        --it->second.attempts;
      }
    } else if (op < 94) {
      // Leases that end now: the records are deliverable again.
      const std::vector<Position> expiring = some_of(model.leased_by(consumer));
      bus->extend_lease(consumer, expiring, milliseconds(0));
      std::this_thread::sleep_for(milliseconds(1));
      std::set<Position> expired;
      for (Position p : expiring) {
        auto it = model.records.find(p);
        if (it != model.records.end() && it->second.state == State::leased &&
            it->second.consumer == consumer) {
          expired.insert(p);
        }
      }
      ASSERT_EQ(bus->requeue_expired(), expired.size());
      for (Position p : expired) model.records.at(p).state = State::pending;
    } else if (op < 97) {
      // Extending a lease keeps it: nothing is requeued.
      bus->extend_lease(consumer, some_of(model.leased_by(consumer)), long_lease);
      ASSERT_EQ(bus->requeue_expired(), 0u);
    } else {
      // Reopen: what was leased is pending again, with no deliveries counted.
      bus.reset();
      bus = std::make_unique<LocalLogBus>(o);
      for (auto& [p, r] : model.records) {
        if (r.state == State::leased) r.state = State::pending;
        r.attempts = 0;
      }
    }
    const BusStats got = bus->stats();
    const BusStats want = model.stats();
    ASSERT_EQ(got.last_position, want.last_position);
    ASSERT_EQ(got.pending, want.pending);
    ASSERT_EQ(got.in_flight, want.in_flight);
    ASSERT_EQ(got.dead_letters, want.dead_letters);
  }

  // In the end every record not dead is delivered once more and then gone.
  bus.reset();
  bus = std::make_unique<LocalLogBus>(o);
  std::vector<Position> left;
  for (const auto& [p, r] : model.records) {
    if (r.state == State::pending || r.state == State::leased) left.push_back(p);
  }
  const std::vector<Record> all = claim_all(*bus);
  ASSERT_EQ(positions_of(all), left);
  bus->ack("c", left);
  EXPECT_TRUE(claim_all(*bus).empty());
  bus.reset();
  bus = std::make_unique<LocalLogBus>(o);
  EXPECT_TRUE(claim_all(*bus).empty());
  EXPECT_EQ(bus->stats().dead_letters, model.stats().dead_letters);
}

}  // namespace
}  // namespace duckmesh::bus
