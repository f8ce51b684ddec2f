// The IngestBus contract, run against every backend: the local log (a
// temporary directory) and PostgreSQL (a fresh database on the test
// process's PostgreSQL 15 server). "Reopen" closes the bus and opens a new
// one on the same storage, as a restarted process would.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "bus/ingest_bus.hpp"
#include "bus/local/local_log_bus.hpp"
#include "bus/postgres/postgres_bus.hpp"
#include "common/error.hpp"
#include "support/error_code.hpp"
#include "support/postgres_server.hpp"
#include "unit/bus/test_support.hpp"

namespace duckmesh::bus {
namespace {

using namespace test_support;
using std::chrono::milliseconds;

enum class Backend { local, postgres };

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::local ? "local" : "postgres";
}

struct BusSettings {
  std::uint32_t max_attempts = 5;
};

// One bus's storage, on which a test opens (and reopens) buses.
class BusStore {
 public:
  explicit BusStore(Backend backend) : backend_(backend) {
    if (backend_ == Backend::postgres) {
      url_ = duckmesh::testing::shared_postgres().create_database("bus");
    } else {
      dir_.emplace();
    }
  }

  std::unique_ptr<IngestBus> open(const BusSettings& settings = {}) const {
    if (backend_ == Backend::local) {
      LocalLogBusOptions o = options_for(dir_->path());
      o.max_attempts = settings.max_attempts;
      return std::make_unique<LocalLogBus>(o);
    }
    PostgresBusOptions o;
    o.url = url_;
    o.max_attempts = settings.max_attempts;
    o.partition_positions = 100;
    return std::make_unique<PostgresBus>(o);
  }

  bool shared_by_processes() const { return backend_ == Backend::postgres; }

 private:
  Backend backend_;
  std::string url_;
  std::optional<TempDir> dir_;
};

using duckmesh::testing::code_of;

class BusConformance : public ::testing::TestWithParam<Backend> {
 protected:
  BusStore store_{GetParam()};
};

TEST_P(BusConformance, PublishClaimAckRoundTrip) {
  auto bus = store_.open();
  std::vector<Record> in;
  in.push_back(make_record(R"({"a":1})", "orders", "key-1"));
  in.push_back(make_record(R"({"a":2})", "orders"));
  in.push_back(make_record(std::string("bin\0ary \xff", 9), "refunds", std::string("k\0\x80", 3)));
  in[1].ingested_unix_us = 42;
  EXPECT_EQ(bus->publish(in), (std::vector<Position>{1, 2, 3}));
  EXPECT_TRUE(bus->publish({}).empty());

  BusStats s = bus->stats();
  EXPECT_EQ(s.last_position, 3u);
  EXPECT_EQ(s.pending, 3u);
  EXPECT_EQ(s.in_flight, 0u);

  const std::vector<Record> got = bus->claim_batch("c1", 10, milliseconds(60'000));
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].position, i + 1);
    EXPECT_EQ(got[i].product, "sales");
    EXPECT_EQ(got[i].table, in[i].table);
    EXPECT_EQ(got[i].idempotency_key, in[i].idempotency_key);
    EXPECT_EQ(got[i].payload, in[i].payload);
    EXPECT_EQ(got[i].attempts, 1u);
  }
  EXPECT_GT(got[0].ingested_unix_us, 1'600'000'000'000'000);  // set by the bus
  EXPECT_EQ(got[1].ingested_unix_us, 42);                     // kept when given
  s = bus->stats();
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.in_flight, 3u);
  EXPECT_TRUE(bus->claim_batch("c2", 10, milliseconds(60'000)).empty());

  bus->ack("c1", {1, 2, 3});
  s = bus->stats();
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.last_position, 3u);
  EXPECT_TRUE(bus->claim_batch("c1", 10, milliseconds(60'000)).empty());
}

TEST_P(BusConformance, ClaimsLowestPositionsFirstUpToTheLimit) {
  auto bus = store_.open();
  for (int i = 0; i < 5; ++i) bus->publish(one("p" + std::to_string(i)));
  EXPECT_EQ(positions_of(bus->claim_batch("a", 2, milliseconds(60'000))),
            (std::vector<Position>{1, 2}));
  bus->nack("a", {2}, "retry");
  EXPECT_EQ(positions_of(bus->claim_batch("a", 2, milliseconds(60'000))),
            (std::vector<Position>{2, 3}));
  EXPECT_TRUE(bus->claim_batch("a", 0, milliseconds(60'000)).empty());
  EXPECT_EQ(positions_of(bus->claim_batch("a", 5, milliseconds(60'000))),
            (std::vector<Position>{4, 5}));
}

TEST_P(BusConformance, ClaimIntoAVectorInUseReplacesWhatItHeld) {
  auto bus = store_.open();
  for (int i = 0; i < 5; ++i) bus->publish(one("p" + std::to_string(i)));
  std::vector<Record> batch;
  bus->claim_batch_into("a", 3, milliseconds(60'000), batch);
  EXPECT_EQ(positions_of(batch), (std::vector<Position>{1, 2, 3}));
  // The same vector again, its old records still in it: only the new claim.
  bus->claim_batch_into("a", 3, milliseconds(60'000), batch);
  ASSERT_EQ(positions_of(batch), (std::vector<Position>{4, 5}));
  EXPECT_EQ(batch[0].payload, "p3");
  EXPECT_EQ(batch[1].payload, "p4");
  bus->claim_batch_into("a", 3, milliseconds(60'000), batch);
  EXPECT_TRUE(batch.empty());
}

TEST_P(BusConformance, OneConsumerAtATimeGetsATablesRecords) {
  auto bus = store_.open();
  bus->publish({make_record("o1", "orders"), make_record("r1", "refunds"),
                make_record("o2", "orders"), make_record("r2", "refunds")});
  // "a" takes both tables' first records, so "b" gets none while a holds them.
  EXPECT_EQ(positions_of(bus->claim_batch("a", 2, milliseconds(60'000))),
            (std::vector<Position>{1, 2}));
  EXPECT_TRUE(bus->claim_batch("b", 10, milliseconds(60'000)).empty());
  // Once "a" has settled every record of orders, the table is free again.
  bus->ack("a", {1});
  EXPECT_EQ(positions_of(bus->claim_batch("b", 10, milliseconds(60'000))),
            (std::vector<Position>{3}));
  // "a" still holds refunds and keeps getting its records.
  EXPECT_EQ(positions_of(bus->claim_batch("a", 10, milliseconds(60'000))),
            (std::vector<Position>{4}));
  bus->release("a", {2, 4});
  EXPECT_EQ(positions_of(bus->claim_batch("b", 10, milliseconds(60'000))),
            (std::vector<Position>{2, 4}));
}

TEST_P(BusConformance, AnExpiredHolderLosesTheTable) {
  auto bus = store_.open();
  bus->publish({make_record("o1", "orders"), make_record("o2", "orders")});
  ASSERT_EQ(bus->claim_batch("a", 1, milliseconds(40)).size(), 1u);
  EXPECT_TRUE(bus->claim_batch("b", 10, milliseconds(60'000)).empty());
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(positions_of(bus->claim_batch("b", 10, milliseconds(60'000))),
            (std::vector<Position>{1, 2}));
  EXPECT_TRUE(bus->claim_batch("a", 10, milliseconds(60'000)).empty());
}

TEST_P(BusConformance, PositionsIncreaseFromOneAndAcrossReopen) {
  {
    auto bus = store_.open();
    for (Position want = 1; want <= 5; ++want) {
      EXPECT_EQ(bus->publish(one("x")), std::vector<Position>{want});
    }
  }
  {
    auto bus = store_.open();
    EXPECT_EQ(bus->stats().last_position, 5u);
    EXPECT_EQ(bus->publish(one("y")), std::vector<Position>{6});
    EXPECT_EQ(bus->publish({make_record("a"), make_record("b")}), (std::vector<Position>{7, 8}));
  }
  auto bus = store_.open();
  EXPECT_EQ(bus->stats().last_position, 8u);
  EXPECT_EQ(positions_of(claim_all(*bus)), (std::vector<Position>{1, 2, 3, 4, 5, 6, 7, 8}));
}

// Every publisher gets distinct, gap-free positions in its own publish order;
// with the PostgreSQL bus the publishers are two buses (two nodes) at once.
TEST_P(BusConformance, ConcurrentPublishersGetGapFreeDistinctPositions) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::vector<std::vector<Position>> positions(kThreads);
  {
    std::vector<std::unique_ptr<IngestBus>> buses;
    buses.push_back(store_.open());
    if (store_.shared_by_processes()) buses.push_back(store_.open());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        IngestBus& bus = *buses[t % buses.size()];
        for (int i = 0; i < kPerThread; ++i) {
          std::vector<Record> records;
          records.push_back(make_record(std::to_string(t) + ":" + std::to_string(i)));
          if (i % 3 == 0) {
            records.push_back(make_record(std::to_string(t) + ":" + std::to_string(i) + "b"));
          }
          const std::vector<Position> p = bus.publish(records);
          ASSERT_EQ(p.size(), records.size());
          for (std::size_t k = 1; k < p.size(); ++k) EXPECT_EQ(p[k], p[k - 1] + 1);
          positions[t].insert(positions[t].end(), p.begin(), p.end());
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  std::set<Position> all;
  for (const auto& mine : positions) {
    for (std::size_t i = 1; i < mine.size(); ++i) EXPECT_LT(mine[i - 1], mine[i]);
    for (const Position p : mine) EXPECT_TRUE(all.insert(p).second) << p << " handed out twice";
  }
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), all.size()) << "positions have a gap";
  auto bus = store_.open();
  EXPECT_EQ(bus->stats().last_position, all.size());
  EXPECT_EQ(claim_all(*bus).size(), all.size());
}

TEST_P(BusConformance, AckIsDurableAcrossReopen) {
  {
    auto bus = store_.open();
    for (int i = 0; i < 10; ++i) bus->publish(one(std::to_string(i)));
    ASSERT_EQ(claim_all(*bus).size(), 10u);
    bus->ack("c", {1, 2, 3, 5, 8});
  }
  auto bus = store_.open();
  // A shared bus keeps c's leases across the reopen (other processes use it
  // too); once c returns them, exactly the unacked records are delivered.
  const std::vector<Position> unacked = {4, 6, 7, 9, 10};
  bus->release("c", unacked);
  EXPECT_EQ(positions_of(claim_all(*bus)), unacked);
  EXPECT_EQ(bus->stats().last_position, 10u);
}

TEST_P(BusConformance, RecordsOfADeadConsumerAreRedeliveredAfterTheirLease) {
  {
    auto bus = store_.open();
    for (int i = 0; i < 4; ++i) bus->publish(one(std::to_string(i)));
    ASSERT_EQ(bus->claim_batch("c", 2, milliseconds(300)).size(), 2u);
    EXPECT_EQ(bus->stats().in_flight, 2u);
  }
  auto bus = store_.open();
  std::this_thread::sleep_for(milliseconds(400));
  bus->requeue_expired();
  const BusStats s = bus->stats();
  EXPECT_EQ(s.pending, 4u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(positions_of(claim_all(*bus, "other")), (std::vector<Position>{1, 2, 3, 4}));
}

TEST_P(BusConformance, AckOrNackOfAnotherConsumersLeaseIsIgnored) {
  auto bus = store_.open();
  bus->publish(one("x"));
  ASSERT_EQ(bus->claim_batch("owner", 1, milliseconds(60'000)).size(), 1u);
  bus->ack("intruder", {1});
  bus->nack("intruder", {1}, "no");
  bus->dead_letter("intruder", {1}, "no");
  bus->release("intruder", {1});
  bus->ack("owner", {99});  // unknown positions too
  EXPECT_EQ(bus->stats().in_flight, 1u);
  EXPECT_EQ(bus->stats().dead_letters, 0u);
  bus->ack("owner", {1});
  EXPECT_EQ(bus->stats().in_flight, 0u);
  bus->ack("owner", {1});  // a second ack is ignored
  EXPECT_EQ(code_of([&] { bus->claim_batch("", 1, milliseconds(1)); }), ErrorCode::invalid_input);
}

TEST_P(BusConformance, ExpiredLeasesAreRequeued) {
  auto bus = store_.open();
  bus->publish({make_record("a"), make_record("b")});
  ASSERT_EQ(bus->claim_batch("c", 1, milliseconds(200)).size(), 1u);
  EXPECT_EQ(bus->requeue_expired(), 0u);
  EXPECT_EQ(bus->stats().in_flight, 1u);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(bus->requeue_expired(), 1u);
  EXPECT_EQ(bus->requeue_expired(), 0u);
  EXPECT_EQ(bus->stats().pending, 2u);
  const std::vector<Record> again = bus->claim_batch("d", 1, milliseconds(60'000));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].position, 1u);
  EXPECT_EQ(again[0].attempts, 2u);
  EXPECT_EQ(again[0].payload, "a");  // redelivered whole
  // The first consumer lost the lease: its ack no longer counts.
  bus->ack("c", {1});
  EXPECT_EQ(bus->stats().in_flight, 1u);
}

TEST_P(BusConformance, ClaimRequeuesExpiredLeasesItself) {
  auto bus = store_.open();
  bus->publish(one("a"));
  ASSERT_EQ(bus->claim_batch("c", 1, milliseconds(100)).size(), 1u);
  EXPECT_TRUE(bus->claim_batch("d", 1, milliseconds(100)).empty());
  std::this_thread::sleep_for(milliseconds(200));
  const std::vector<Record> again = bus->claim_batch("d", 1, milliseconds(60'000));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 2u);
}

TEST_P(BusConformance, ExtendedLeaseDoesNotExpire) {
  auto bus = store_.open();
  bus->publish(one("a"));
  ASSERT_EQ(bus->claim_batch("c", 1, milliseconds(100)).size(), 1u);
  bus->extend_lease("c", {1}, milliseconds(60'000));
  bus->extend_lease("someone-else", {1}, milliseconds(0));  // not theirs: ignored
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(bus->requeue_expired(), 0u);
  EXPECT_TRUE(bus->claim_batch("d", 1, milliseconds(1000)).empty());
  bus->ack("c", {1});
  EXPECT_EQ(bus->stats().in_flight, 0u);
}

TEST_P(BusConformance, NackRedeliversUntilMaxAttemptsThenDeadLetters) {
  BusSettings settings;
  settings.max_attempts = 3;
  auto bus = store_.open(settings);
  bus->publish({make_record(R"({"bad":true})", "orders", "k1"), make_record("fine")});
  for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
    const std::vector<Record> got = bus->claim_batch("c", 1, milliseconds(60'000));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].position, 1u);
    EXPECT_EQ(got[0].attempts, attempt);
    EXPECT_EQ(got[0].payload, R"({"bad":true})");
    EXPECT_EQ(got[0].idempotency_key, "k1");
    bus->nack("c", {1}, "schema mismatch on attempt " + std::to_string(attempt));
    EXPECT_EQ(bus->stats().dead_letters, attempt == 3 ? 1u : 0u);
  }
  const BusStats s = bus->stats();
  EXPECT_EQ(s.pending, 1u);  // only position 2
  EXPECT_EQ(s.in_flight, 0u);
  const std::vector<DeadLetter> dead = bus->dead_letters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].record.position, 1u);
  EXPECT_EQ(dead[0].record.payload, R"({"bad":true})");
  EXPECT_EQ(dead[0].record.table, "orders");
  EXPECT_EQ(dead[0].record.idempotency_key, "k1");
  EXPECT_EQ(dead[0].record.attempts, 3u);
  EXPECT_EQ(dead[0].reason, "schema mismatch on attempt 3");
  EXPECT_GT(dead[0].dead_unix_us, 0);
  EXPECT_EQ(positions_of(claim_all(*bus)), std::vector<Position>{2});
}

TEST_P(BusConformance, ReleaseRedeliversWithoutUsingUpAnAttempt) {
  BusSettings settings;
  settings.max_attempts = 2;
  auto bus = store_.open(settings);
  bus->publish({make_record("during an outage")});
  for (int i = 0; i < 10; ++i) {
    const std::vector<Record> got = bus->claim_batch("c", 1, milliseconds(60'000));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].attempts, 1u);
    EXPECT_EQ(got[0].payload, "during an outage");
    bus->release("c", {got[0].position});
  }
  EXPECT_EQ(bus->stats().dead_letters, 0u);
  EXPECT_EQ(bus->stats().pending, 1u);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(bus->claim_batch("c", 1, milliseconds(60'000)).size(), 1u);
    bus->nack("c", {1}, "bad record");
  }
  EXPECT_EQ(bus->stats().dead_letters, 1u);
}

TEST_P(BusConformance, DeadLettersSurviveReopenAndReplayGivesANewPosition) {
  {
    auto bus = store_.open();
    bus->publish({make_record("poison", "orders", "idem"), make_record("ok")});
    ASSERT_EQ(claim_all(*bus).size(), 2u);
    bus->dead_letter("c", {1}, std::string("cannot parse \xff\0 here", 18));
    bus->ack("c", {2});
    EXPECT_EQ(bus->stats().dead_letters, 1u);
  }
  Position replayed = 0;
  {
    auto bus = store_.open();
    EXPECT_TRUE(claim_all(*bus).empty());  // dead letters are not delivered
    const std::vector<DeadLetter> dead = bus->dead_letters(10);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].record.position, 1u);
    EXPECT_EQ(dead[0].record.payload, "poison");
    EXPECT_EQ(dead[0].record.idempotency_key, "idem");
    EXPECT_EQ(dead[0].reason.substr(0, 13), "cannot parse ");
    EXPECT_EQ(dead[0].record.attempts, 1u);

    replayed = bus->replay_dead_letter(1);
    EXPECT_EQ(replayed, 3u);
    EXPECT_TRUE(bus->dead_letters(10).empty());
    EXPECT_EQ(bus->stats().dead_letters, 0u);
    EXPECT_EQ(code_of([&] { bus->replay_dead_letter(1); }), ErrorCode::not_found);
    EXPECT_EQ(code_of([&] { bus->replay_dead_letter(2); }), ErrorCode::not_found);
  }
  auto bus = store_.open();
  EXPECT_TRUE(bus->dead_letters(10).empty());
  const std::vector<Record> got = claim_all(*bus);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].position, replayed);
  EXPECT_EQ(got[0].payload, "poison");
  EXPECT_EQ(got[0].table, "orders");
  EXPECT_EQ(got[0].idempotency_key, "idem");
  EXPECT_EQ(got[0].attempts, 1u);
}

TEST_P(BusConformance, DeadLettersAreListedOldestFirstUpToTheLimit) {
  auto bus = store_.open();
  for (int i = 0; i < 3; ++i) bus->publish(one(std::to_string(i)));
  ASSERT_EQ(claim_all(*bus).size(), 3u);
  bus->dead_letter("c", {3}, "first");
  std::this_thread::sleep_for(milliseconds(2));
  bus->dead_letter("c", {1}, "second");
  std::this_thread::sleep_for(milliseconds(2));
  bus->dead_letter("c", {2}, "third");
  const std::vector<DeadLetter> all = bus->dead_letters(10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].reason, "first");
  EXPECT_EQ(all[1].reason, "second");
  EXPECT_EQ(all[2].reason, "third");
  EXPECT_EQ(bus->dead_letters(2).size(), 2u);
}

TEST_P(BusConformance, DeadLettersAreListedPerProduct) {
  auto bus = store_.open();
  std::vector<Record> records;
  for (const char* product : {"sales", "stock", "sales", "stock", "sales"}) {
    records.push_back(make_record(std::string("from ") + product));
    records.back().product = product;
  }
  bus->publish(std::move(records));
  ASSERT_EQ(claim_all(*bus).size(), 5u);
  bus->dead_letter("c", {1, 2, 3, 4, 5}, "bad");
  std::vector<Position> sales, stock;
  for (const auto& d : bus->dead_letters(10, "sales")) {
    EXPECT_EQ(d.record.payload, "from sales");
    sales.push_back(d.record.position);
  }
  for (const auto& d : bus->dead_letters(10, "stock")) stock.push_back(d.record.position);
  EXPECT_EQ(sales, (std::vector<Position>{1, 3, 5}));
  EXPECT_EQ(stock, (std::vector<Position>{2, 4}));
  // The limit counts the product's own dead letters, not the others'.
  ASSERT_EQ(bus->dead_letters(2, "sales").size(), 2u);
  EXPECT_EQ(bus->dead_letters(2, "sales")[1].record.position, 3u);
  EXPECT_TRUE(bus->dead_letters(10, "none").empty());
  EXPECT_EQ(bus->dead_letters(10).size(), 5u);
}

// Two consumers draining one backlog of many tables concurrently: every
// record is delivered to exactly one of them while they hold it, and no table
// is held by both at once.
TEST_P(BusConformance, ConcurrentConsumersShareTheWorkWithoutOverlap) {
  std::vector<std::unique_ptr<IngestBus>> buses;
  buses.push_back(store_.open());
  if (store_.shared_by_processes()) buses.push_back(store_.open());
  constexpr int kRecords = 600;
  for (int i = 0; i < kRecords; i += 20) {
    std::vector<Record> group;
    for (int k = 0; k < 20; ++k) {
      group.push_back(make_record("e", "t" + std::to_string((i + k) % 6)));
    }
    buses[0]->publish(group);
  }
  std::mutex mu;
  std::map<Position, std::string> delivered_to;
  std::map<std::string, std::string> table_holder;
  std::atomic<bool> overlap{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      IngestBus& bus = *buses[c % buses.size()];
      const std::string me = "consumer-" + std::to_string(c);
      for (int idle = 0; idle < 3;) {
        std::vector<Record> batch = bus.claim_batch(me, 37, milliseconds(60'000));
        if (batch.empty()) {
          ++idle;
          std::this_thread::sleep_for(milliseconds(5));
          continue;
        }
        idle = 0;
        std::vector<Position> mine;
        {
          std::lock_guard lock(mu);
          for (const Record& r : batch) {
            if (!delivered_to.emplace(r.position, me).second) overlap = true;
            auto [it, fresh] = table_holder.emplace(r.table, me);
            if (!fresh && it->second != me) overlap = true;
            mine.push_back(r.position);
          }
        }
        std::this_thread::sleep_for(milliseconds(1));
        {
          // Let go of the tables before the ack makes them claimable.
          std::lock_guard lock(mu);
          for (const Record& r : batch) table_holder.erase(r.table);
        }
        bus.ack(me, mine);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_EQ(delivered_to.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(buses[0]->stats().pending, 0u);
  EXPECT_EQ(buses[0]->stats().in_flight, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, BusConformance,
                         ::testing::Values(Backend::local, Backend::postgres), backend_name);

}  // namespace
}  // namespace duckmesh::bus
