#include "bus/local/local_log_bus.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "common/error.hpp"
#include "support/error_code.hpp"
#include "unit/bus/test_support.hpp"

namespace duckmesh::bus {
namespace {

using namespace test_support;
using std::chrono::milliseconds;

using duckmesh::testing::code_of;

TEST(LocalLogBus, ConcurrentPublishersShareSyncsAndAllSurviveReopen) {
  TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  std::vector<std::vector<Position>> positions(kThreads);
  std::uint64_t syncs = 0;
  {
    LocalLogBus bus(options_for(dir.path()));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::vector<Position> p =
              bus.publish(one(std::to_string(t) + ":" + std::to_string(i)));
          positions[t].push_back(p.at(0));
        }
      });
    }
    for (auto& th : threads) th.join();
    syncs = bus.sync_count();
    EXPECT_EQ(bus.stats().last_position, static_cast<Position>(kThreads * kPerThread));
  }
  std::map<Position, std::string> expected;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(positions[t].size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      if (i > 0) {
        EXPECT_LT(positions[t][i - 1], positions[t][i]);  // publish order kept
      }
      EXPECT_TRUE(
          expected.emplace(positions[t][i], std::to_string(t) + ":" + std::to_string(i)).second)
          << "position " << positions[t][i] << " handed out twice";
    }
  }
  // Group commit: one sync serves many publishers.
  const std::uint64_t publishes = kThreads * kPerThread;
  RecordProperty("syncs", static_cast<int>(syncs));
  EXPECT_GT(syncs, 0u);
  EXPECT_LE(syncs * 2, publishes) << syncs << " syncs for " << publishes << " publishes";

  LocalLogBus bus(options_for(dir.path()));
  const std::vector<Record> all = claim_all(bus);
  ASSERT_EQ(all.size(), expected.size());
  for (const Record& r : all) EXPECT_EQ(r.payload, expected.at(r.position));
  EXPECT_EQ(all.front().position, 1u);
  EXPECT_EQ(all.back().position, publishes);
}

TEST(LocalLogBus, GroupCommitWindowGathersMorePublishersPerSync) {
  TempDir dir;
  LocalLogBusOptions o = options_for(dir.path());
  o.group_commit_window = std::chrono::milliseconds(2);
  LocalLogBus bus(o);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> published{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        bus.publish(one("w"));
        ++published;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(published.load(), kThreads * kPerThread);
  EXPECT_EQ(bus.stats().pending, static_cast<std::uint64_t>(kThreads * kPerThread));
  // With every publisher waiting inside the window, most groups hold all of
  // them; allow slack for scheduling.
  EXPECT_LE(bus.sync_count(), static_cast<std::uint64_t>(kThreads * kPerThread / 2));
}

TEST(LocalLogBus, AckIsDurableAcrossReopen) {
  TempDir dir;
  {
    LocalLogBus bus(options_for(dir.path()));
    for (int i = 0; i < 10; ++i) bus.publish(one(std::to_string(i)));
    ASSERT_EQ(claim_all(bus).size(), 10u);
    bus.ack("c", {1, 2, 3, 5, 8});
  }
  LocalLogBus bus(options_for(dir.path()));
  const std::vector<Record> again = claim_all(bus);
  EXPECT_EQ(positions_of(again), (std::vector<Position>{4, 6, 7, 9, 10}));
  // Delivery counts do not survive a restart.
  for (const Record& r : again) EXPECT_EQ(r.attempts, 1u);
  EXPECT_EQ(bus.stats().last_position, 10u);
}

TEST(LocalLogBus, UnackedAndInFlightRecordsAreRedeliveredAfterReopen) {
  TempDir dir;
  {
    LocalLogBus bus(options_for(dir.path()));
    for (int i = 0; i < 4; ++i) bus.publish(one(std::to_string(i)));
    ASSERT_EQ(bus.claim_batch("c", 2, milliseconds(3'600'000)).size(), 2u);
    EXPECT_EQ(bus.stats().in_flight, 2u);
  }
  LocalLogBus bus(options_for(dir.path()));
  const BusStats s = bus.stats();
  EXPECT_EQ(s.pending, 4u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(positions_of(claim_all(bus, "other")), (std::vector<Position>{1, 2, 3, 4}));
}

// ------------------------------------------------------------ lent payloads

// Payloads of varied sizes and keys, so a wrong offset cannot read back a
// neighbour's bytes by luck.
std::vector<Record> varied_records(int from, int to) {
  std::vector<Record> out;
  for (int i = from; i < to; ++i) {
    out.push_back(make_record(std::string(static_cast<std::size_t>(1 + i * 7 % 90), 'a' + i % 26) +
                                  "#" + std::to_string(i),
                              i % 3 == 0 ? "orders" : "events", "key-" + std::to_string(i)));
  }
  return out;
}

void expect_whole(const std::vector<Record>& got, const std::map<Position, Record>& published) {
  for (const Record& r : got) {
    SCOPED_TRACE("position " + std::to_string(r.position));
    const Record& want = published.at(r.position);
    EXPECT_EQ(r.payload, want.payload);
    EXPECT_EQ(r.table, want.table);
    EXPECT_EQ(r.product, want.product);
    EXPECT_EQ(r.idempotency_key, want.idempotency_key);
    EXPECT_EQ(r.ingested_unix_us, want.ingested_unix_us);
  }
}

TEST(LocalLogBus, ReturnedRecordsAreDeliveredWholeAgainFromEverySegment) {
  // A claim lends the payload to its consumer; a record that comes back
  // (nack, release, expired lease, restart) is read back from its segment.
  TempDir dir;
  LocalLogBusOptions o = options_for(dir.path());
  o.segment_bytes = 700;  // several segments, rolled between groups
  std::map<Position, Record> published;
  {
    LocalLogBus bus(o);
    for (int g = 0; g < 12; ++g) {
      std::vector<Record> group = varied_records(g * 5, g * 5 + 5);
      const std::vector<Record> copy = group;
      const std::vector<Position> at = bus.publish(std::move(group));
      for (std::size_t i = 0; i < at.size(); ++i) published[at[i]] = copy[i];
    }
    ASSERT_GE(segment_files(dir.path()).size(), 4u);
    std::vector<Record> first = claim_all(bus);
    ASSERT_EQ(first.size(), 60u);
    for (Record& r : first) published[r.position].ingested_unix_us = r.ingested_unix_us;
    expect_whole(first, published);

    // Returned three ways, each then claimed again whole.
    std::vector<Position> nacked, released, expiring;
    for (const Record& r : first) {
      (r.position % 3 == 0   ? nacked
       : r.position % 3 == 1 ? released
                             : expiring)
          .push_back(r.position);
    }
    bus.nack("c", nacked, "retry");
    bus.release("c", released);
    bus.extend_lease("c", expiring, milliseconds(0));
    std::this_thread::sleep_for(milliseconds(5));
    const std::vector<Record> second = claim_all(bus, "d");
    ASSERT_EQ(second.size(), 60u);
    expect_whole(second, published);

    // A dead letter keeps the whole record; acks free the rest, leaving runs
    // of unsettled records in the middle of segments for the reopen below.
    bus.dead_letter("d", {7, 23}, "bad");
    std::vector<Position> acked;
    for (Position p = 1; p <= 60; ++p) {
      if (p != 7 && p != 23 && (p % 4 == 0 || p % 11 == 0)) acked.push_back(p);
    }
    bus.ack("d", acked);
    const std::vector<DeadLetter> dead = bus.dead_letters(10);
    ASSERT_EQ(dead.size(), 2u);
    EXPECT_EQ(dead[0].record.payload, published[7].payload);
    EXPECT_EQ(dead[1].record.idempotency_key, published[23].idempotency_key);
    EXPECT_EQ(dead[1].record.payload, published[23].payload);
    for (Position p : acked) published.erase(p);
    published.erase(7);
    published.erase(23);
  }
  // After a restart the offsets come from the recovery scan.
  LocalLogBus bus(o);
  std::vector<Record> recovered = claim_all(bus);
  ASSERT_EQ(recovered.size(), published.size());
  expect_whole(recovered, published);
  bus.release("c", positions_of(recovered));
  std::vector<Record> again = claim_all(bus);
  ASSERT_EQ(again.size(), published.size());
  expect_whole(again, published);
  const std::vector<DeadLetter> dead = bus.dead_letters(10);
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].record.position, 7u);
}

TEST(LocalLogBus, ARecordThatCannotBeReadBackIsNeitherClaimedNorLost) {
  TempDir dir;
  LocalLogBus bus(options_for(dir.path()));
  bus.publish(
      {make_record("first-payload"), make_record("second-payload"), make_record("third-payload")});
  ASSERT_EQ(claim_all(bus).size(), 3u);
  // The frame of position 2 changes on disk while its payload is lent.
  const fs::path segment = segment_files(dir.path()).at(0);
  std::string bytes = read_file(segment);
  const std::size_t at = bytes.find("second-payload");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'S';
  write_file(segment, bytes);

  // Dead-lettering it fails and settles nothing: it stays leased to "c".
  EXPECT_EQ(code_of([&] { bus.dead_letter("c", {1, 2}, "bad"); }), ErrorCode::internal);
  EXPECT_EQ(bus.stats().dead_letters, 0u);
  EXPECT_EQ(bus.stats().in_flight, 3u);

  // Returned, it is not claimed: a claim that meets it first fails and names
  // it; one that got records before it delivers those and stops there.
  bus.release("c", {1, 2, 3});
  const std::vector<Record> before = bus.claim_batch("d", 10, milliseconds(60'000));
  ASSERT_EQ(positions_of(before), std::vector<Position>{1});
  EXPECT_EQ(before[0].payload, "first-payload");
  try {
    bus.claim_batch("d", 10, milliseconds(60'000));
    ADD_FAILURE() << "claim did not fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(std::string(e.what()).find("position 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
  EXPECT_EQ(bus.stats().pending, 2u);  // 2 and 3 wait; nothing was dropped
  EXPECT_EQ(bus.stats().in_flight, 1u);
  bus.ack("d", {1});
  EXPECT_EQ(bus.stats().in_flight, 0u);

  // Repaired, it is delivered whole.
  bytes[at] = 's';
  write_file(segment, bytes);
  const std::vector<Record> rest = claim_all(bus, "d");
  ASSERT_EQ(positions_of(rest), (std::vector<Position>{2, 3}));
  EXPECT_EQ(rest[0].payload, "second-payload");
  EXPECT_EQ(rest[1].payload, "third-payload");
}

// ------------------------------------------------------------ damaged files

// Publishes `n` single-record groups of identical size; returns the frame size.
std::uint64_t publish_uniform(const fs::path& dir, int n) {
  LocalLogBus bus(options_for(dir));
  for (int i = 0; i < n; ++i) bus.publish(one("payload-" + std::to_string(100 + i)));
  const std::vector<fs::path> segs = segment_files(dir);
  EXPECT_EQ(segs.size(), 1u);
  return fs::file_size(segs.back()) / static_cast<std::uint64_t>(n);
}

TEST(LocalLogBus, GarbageAfterTheLastRecordIsCutOff) {
  TempDir dir;
  const std::uint64_t frame = publish_uniform(dir.path(), 10);
  const fs::path seg = segment_files(dir.path()).back();
  std::string bytes = read_file(seg);
  bytes += std::string("\x44\x4d\x4c\x31garbage that is not a record", 32);
  write_file(seg, bytes);

  LocalLogBus bus(options_for(dir.path()));
  EXPECT_EQ(fs::file_size(seg), 10 * frame);
  EXPECT_EQ(bus.stats().last_position, 10u);
  EXPECT_EQ(bus.publish(one("after")), std::vector<Position>{11});
  const std::vector<Record> all = claim_all(bus);
  ASSERT_EQ(all.size(), 11u);
  EXPECT_EQ(all[9].payload, "payload-109");
  EXPECT_EQ(all[10].payload, "after");
}

TEST(LocalLogBus, RecordCutMidwayIsDroppedAndPublishingContinues) {
  TempDir dir;
  const std::uint64_t frame = publish_uniform(dir.path(), 10);
  const fs::path seg = segment_files(dir.path()).back();
  fs::resize_file(seg, 9 * frame + frame / 2);
  {
    LocalLogBus bus(options_for(dir.path()));
    EXPECT_EQ(bus.stats().last_position, 9u);
    // Position 10 was never acknowledged by a real crash (publish returns
    // after the sync), so it is free again.
    EXPECT_EQ(bus.publish(one("new ten")), std::vector<Position>{10});
  }
  // A cut inside the header, too.
  fs::resize_file(seg, fs::file_size(seg) - frame + 5);
  LocalLogBus bus(options_for(dir.path()));
  const std::vector<Record> all = claim_all(bus);
  ASSERT_EQ(all.size(), 9u);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(all[i].payload, "payload-" + std::to_string(100 + i));
}

TEST(LocalLogBus, TornGroupCommitIsDroppedAsAWhole) {
  TempDir dir;
  const std::uint64_t frame = publish_uniform(dir.path(), 5);
  {
    LocalLogBus bus(options_for(dir.path()));
    std::vector<Record> group;
    for (int i = 0; i < 3; ++i) group.push_back(make_record("payload-" + std::to_string(105 + i)));
    EXPECT_EQ(bus.publish(std::move(group)), (std::vector<Position>{6, 7, 8}));
  }
  // Damage the first record of the last group while the two after it stay
  // intact: pages of one write reach the disk in any order, so this is a
  // torn write, and the whole group goes (publish is all or nothing).
  const fs::path seg = segment_files(dir.path()).back();
  std::string bytes = read_file(seg);
  ASSERT_EQ(bytes.size(), 8 * frame);
  bytes[5 * frame + frame - 3] ^= 0x5a;
  write_file(seg, bytes);

  LocalLogBus bus(options_for(dir.path()));
  EXPECT_EQ(fs::file_size(seg), 5 * frame);
  EXPECT_EQ(bus.stats().last_position, 5u);
  EXPECT_EQ(positions_of(claim_all(bus)), (std::vector<Position>{1, 2, 3, 4, 5}));
  EXPECT_EQ(bus.publish(one("x")), std::vector<Position>{6});
}

TEST(LocalLogBus, GroupCutAtARecordBoundaryIsDroppedAsAWhole) {
  TempDir dir;
  const std::uint64_t frame = publish_uniform(dir.path(), 2);
  {
    LocalLogBus bus(options_for(dir.path()));
    bus.publish({make_record("payload-102"), make_record("payload-103")});
  }
  const fs::path seg = segment_files(dir.path()).back();
  fs::resize_file(seg, 3 * frame);  // the group's second record never arrived
  LocalLogBus bus(options_for(dir.path()));
  EXPECT_EQ(positions_of(claim_all(bus)), (std::vector<Position>{1, 2}));
}

TEST(LocalLogBus, DamageInsideSyncedRecordsIsAnError) {
  TempDir dir;
  const std::uint64_t frame = publish_uniform(dir.path(), 10);
  const fs::path seg = segment_files(dir.path()).back();
  std::string bytes = read_file(seg);
  const std::uint64_t at = 3 * frame + frame - 2;  // payload of position 4
  bytes[at] ^= 0x01;
  write_file(seg, bytes);
  try {
    LocalLogBus bus(options_for(dir.path()));
    FAIL() << "opened a log with a corrupt synced record";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    const std::string what = e.what();
    EXPECT_NE(what.find(seg.filename().string()), std::string::npos) << what;
    EXPECT_NE(what.find("offset " + std::to_string(3 * frame)), std::string::npos) << what;
    EXPECT_EQ(e.details().at("offset").as_uint64(), 3 * frame);
  }
  // Nothing was truncated on the way.
  EXPECT_EQ(fs::file_size(seg), 10 * frame);
}

TEST(LocalLogBus, DamageInAnOlderSegmentIsAnErrorEvenAtItsEnd) {
  TempDir dir;
  LocalLogBusOptions o = options_for(dir.path());
  o.segment_bytes = 1;  // every group starts a new segment
  {
    LocalLogBus bus(o);
    for (int i = 0; i < 3; ++i) bus.publish(one("r" + std::to_string(i)));
  }
  const std::vector<fs::path> segs = segment_files(dir.path());
  ASSERT_EQ(segs.size(), 3u);
  fs::resize_file(segs[1], fs::file_size(segs[1]) - 1);
  EXPECT_EQ(code_of([&] { LocalLogBus bus(o); }), ErrorCode::internal);
}

TEST(LocalLogBus, DamageInTheMiddleOfTheJournalIsAnError) {
  TempDir dir;
  {
    LocalLogBus bus(options_for(dir.path()));
    for (int i = 0; i < 4; ++i) bus.publish(one(std::to_string(i)));
    claim_all(bus);
    for (Position p = 1; p <= 4; ++p) bus.ack("c", {p});
  }
  const fs::path journal = dir.path() / "state.log";
  std::string bytes = read_file(journal);
  ASSERT_FALSE(bytes.empty());
  const std::string intact = bytes;
  bytes[bytes.size() / 4 + 13] ^= 0x10;  // inside the second of four entries
  write_file(journal, bytes);
  EXPECT_EQ(code_of([&] { LocalLogBus bus(options_for(dir.path())); }), ErrorCode::internal);

  // A torn last entry, by contrast, was never acknowledged and is dropped.
  write_file(journal, intact.substr(0, intact.size() - 3));
  LocalLogBus bus(options_for(dir.path()));
  EXPECT_EQ(positions_of(claim_all(bus)), std::vector<Position>{4});
  EXPECT_EQ(fs::file_size(journal), intact.size() * 3 / 4);
}

TEST(LocalLogBus, MissingSegmentsWithAJournalAreAnError) {
  TempDir dir;
  {
    LocalLogBus bus(options_for(dir.path()));
    bus.publish(one("a"));
    claim_all(bus);
    bus.ack("c", {1});
  }
  for (const fs::path& seg : segment_files(dir.path())) fs::remove(seg);
  EXPECT_EQ(code_of([&] { LocalLogBus bus(options_for(dir.path())); }), ErrorCode::internal);
}

// ------------------------------------------------------ failing writes

// Caps the size any file of this process may grow to (RLIMIT_FSIZE), so that
// writes past it fail with EFBIG, like a full disk would fail them.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    if (::getrlimit(RLIMIT_FSIZE, &old_) != 0) throw std::runtime_error("getrlimit");
    rlimit lower = old_;
    lower.rlim_cur = bytes;
    if (::setrlimit(RLIMIT_FSIZE, &lower) != 0) throw std::runtime_error("setrlimit");
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  sighandler_t old_handler_{};
};

TEST(LocalLogBus, FailedSegmentWriteFailsThePublishAndRefusesMoreUntilReopen) {
  TempDir dir;
  {
    LocalLogBus bus(options_for(dir.path()));
    bus.publish(one("before"));
    const std::uintmax_t size = fs::file_size(segment_files(dir.path()).back());
    {
      FileSizeLimit limit(size + 100);
      EXPECT_THROW(bus.publish(one(std::string(1000, 'x'))), Error);
      // Even a record that would fit is refused: the file's tail is unknown.
      EXPECT_EQ(code_of([&] { bus.publish(one("small")); }), ErrorCode::unavailable);
    }
    EXPECT_EQ(code_of([&] { bus.publish(one("small")); }), ErrorCode::unavailable);
    EXPECT_EQ(bus.stats().last_position, 1u);
    // Consuming what is durable still works.
    const std::vector<Record> got = claim_all(bus);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].payload, "before");
  }
  LocalLogBus bus(options_for(dir.path()));
  EXPECT_EQ(positions_of(claim_all(bus)), std::vector<Position>{1});
  EXPECT_EQ(bus.publish(one("after")), std::vector<Position>{2});
}

TEST(LocalLogBus, FailedJournalWriteFailsTheAckAndRefusesMoreUntilReopen) {
  TempDir dir;
  {
    LocalLogBus bus(options_for(dir.path()));
    bus.publish({make_record("a"), make_record("b")});
    ASSERT_EQ(claim_all(bus).size(), 2u);
    {
      FileSizeLimit limit(10);  // smaller than one journal entry
      EXPECT_THROW(bus.ack("c", {1}), Error);
    }
    EXPECT_EQ(code_of([&] { bus.ack("c", {2}); }), ErrorCode::unavailable);
    EXPECT_EQ(code_of([&] { bus.dead_letter("c", {2}, "x"); }), ErrorCode::unavailable);
    // The failed ack left the record leased, not lost.
    EXPECT_EQ(bus.stats().in_flight, 2u);
  }
  // The half-written entry is cut off: neither ack happened.
  LocalLogBus bus(options_for(dir.path()));
  EXPECT_EQ(positions_of(claim_all(bus)), (std::vector<Position>{1, 2}));
  bus.ack("c", {1, 2});
  EXPECT_EQ(bus.stats().pending + bus.stats().in_flight, 0u);
}

// ------------------------------------------------- segments and compaction

TEST(LocalLogBus, RollsSegmentsAndDeletesThoseFullySettled) {
  TempDir dir;
  LocalLogBusOptions o = options_for(dir.path());
  o.segment_bytes = 512;
  {
    LocalLogBus bus(o);
    for (int i = 1; i <= 40; ++i) bus.publish(one(std::string(60, 'a' + i % 26)));
    const std::vector<fs::path> segs = segment_files(dir.path());
    ASSERT_GE(segs.size(), 5u);
    EXPECT_EQ(segs.front().filename(), "00000000000000000001.log");
    for (std::size_t i = 0; i + 1 < segs.size(); ++i) EXPECT_GE(fs::file_size(segs[i]), 512u);

    const std::vector<Record> all = claim_all(bus);
    ASSERT_EQ(all.size(), 40u);
    std::vector<Position> first_half;
    for (Position p = 1; p <= 20; ++p) first_half.push_back(p);
    bus.ack("c", first_half);
    const std::vector<fs::path> after = segment_files(dir.path());
    EXPECT_LT(after.size(), segs.size());
    // Every remaining segment still holds an unsettled record (>= 21) or is
    // the active one.
    EXPECT_GT(std::stoull(after.front().filename().string()), 1u);
    EXPECT_LE(std::stoull(after.front().filename().string()), 21u);

    // A dead letter settles its record too, and keeps its body when the
    // segment goes.
    bus.dead_letter("c", {21}, "bad");
    std::vector<Position> rest;
    for (Position p = 22; p <= 40; ++p) rest.push_back(p);
    bus.ack("c", rest);
    EXPECT_EQ(segment_files(dir.path()).size(), 1u);  // only the active segment
  }
  LocalLogBus bus(o);
  EXPECT_EQ(bus.stats().last_position, 40u);
  EXPECT_EQ(bus.stats().pending, 0u);
  const std::vector<DeadLetter> dead = bus.dead_letters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].record.payload, std::string(60, 'a' + 21 % 26));
  EXPECT_EQ(bus.publish(one("next")), std::vector<Position>{41});
  EXPECT_EQ(positions_of(claim_all(bus)), std::vector<Position>{41});
  EXPECT_EQ(bus.replay_dead_letter(21), 42u);
}

TEST(LocalLogBus, JournalIsCompactedIntoASnapshot) {
  TempDir dir;
  LocalLogBusOptions o = options_for(dir.path());
  o.state_compact_bytes = 256;
  o.segment_bytes = 4096;
  {
    LocalLogBus bus(o);
    for (int i = 0; i < 200; ++i) bus.publish(one("r" + std::to_string(i)));
    claim_all(bus);
    bus.dead_letter("c", {7}, "kept through compaction");
    for (Position p = 1; p <= 150; ++p) {
      if (p != 7) bus.ack("c", {p});
    }
    EXPECT_TRUE(fs::exists(dir.path() / "state.snapshot"));
    EXPECT_LT(fs::file_size(dir.path() / "state.log"), 1024u);
  }
  LocalLogBus bus(o);
  const std::vector<Record> left = claim_all(bus);
  ASSERT_EQ(left.size(), 50u);
  EXPECT_EQ(left.front().position, 151u);
  ASSERT_EQ(bus.dead_letters(10).size(), 1u);
  EXPECT_EQ(bus.dead_letters(10)[0].reason, "kept through compaction");
  EXPECT_EQ(bus.dead_letters(10)[0].record.payload, "r6");
}

// ----------------------------------------------------------------- options

TEST(LocalLogBus, RefusesBadOptionsAndASecondOpen) {
  TempDir dir;
  LocalLogBusOptions o = options_for(dir.path());
  o.max_attempts = 0;
  EXPECT_EQ(code_of([&] { LocalLogBus bus(o); }), ErrorCode::invalid_input);
  o = options_for(dir.path());
  o.segment_bytes = 0;
  EXPECT_EQ(code_of([&] { LocalLogBus bus(o); }), ErrorCode::invalid_input);
  EXPECT_EQ(code_of([&] { LocalLogBus bus(LocalLogBusOptions{}); }), ErrorCode::invalid_input);

  LocalLogBus bus(options_for(dir.path()));
  EXPECT_EQ(code_of([&] { LocalLogBus second(options_for(dir.path())); }), ErrorCode::conflict);
  EXPECT_EQ(code_of([&] { bus.claim_batch("", 1, milliseconds(1)); }), ErrorCode::invalid_input);
  EXPECT_EQ(code_of([&] { bus.claim_batch("c", 1, milliseconds(-1)); }), ErrorCode::invalid_input);
}

}  // namespace
}  // namespace duckmesh::bus
