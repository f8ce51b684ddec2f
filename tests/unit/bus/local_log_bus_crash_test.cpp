// Crash tests of the local log: a child process works on the log and reports
// every acknowledged publish and ack through a pipe; it is SIGKILLed (by the
// parent at a random moment, or by itself at a DUCKMESH_FAULT point), and the
// parent reopens the log and checks that nothing acknowledged was lost or
// duplicated and nothing acked came back.
//
// The child is this test binary itself, forked and exec'ed with a filter that
// selects LocalLogBusCrashChild.Run, so it reads DUCKMESH_FAULT fresh like a
// real process would.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "bus/local/local_log_bus.hpp"
#include "common/error.hpp"
#include "unit/bus/test_support.hpp"

extern char** environ;

namespace duckmesh::bus {
namespace {

using namespace test_support;
using std::chrono::milliseconds;

constexpr const char* kChildFilter = "--gtest_filter=LocalLogBusCrashChild.Run";
constexpr std::uint64_t kCrashSegmentBytes = 8 * 1024;

// ------------------------------------------------------------------ child

void write_line(int fd, const std::string& line) {
  // Lines are far below PIPE_BUF, so each write() is atomic on the pipe.
  std::string_view rest(line);
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      std::_Exit(4);
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

LocalLogBusOptions child_options(const fs::path& dir) {
  LocalLogBusOptions o = options_for(dir);
  const char* seg = std::getenv("DUCKMESH_TEST_CHILD_SEGMENT_BYTES");
  o.segment_bytes = seg ? std::stoull(seg) : kCrashSegmentBytes;
  return o;
}

// Publishers report "P <position> <payload>" after publish returns; the
// consumer reports "a <position>" before it acks and "A <position>" after ack
// returns. Runs until killed.
[[noreturn]] void child_publish_loop(const fs::path& dir, int fd, const std::string& round) {
  LocalLogBus bus(child_options(dir));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        const int n = 1 + i % 3;
        std::vector<Record> records;
        for (int k = 0; k < n; ++k) {
          records.push_back(make_record(round + "/" + std::to_string(t) + "/" + std::to_string(i) +
                                        "/" + std::to_string(k)));
        }
        std::vector<std::string> payloads;
        for (const Record& r : records) payloads.push_back(r.payload.str());
        const std::vector<Position> positions = bus.publish(std::move(records));
        for (int k = 0; k < n; ++k) {
          write_line(fd, "P " + std::to_string(positions[k]) + " " + payloads[k] + "\n");
        }
      }
    });
  }
  threads.emplace_back([&] {
    std::mt19937 rng(std::random_device{}());
    while (!stop.load()) {
      std::vector<Record> got = bus.claim_batch("consumer", 7, milliseconds(60'000));
      if (got.empty()) {
        std::this_thread::sleep_for(milliseconds(1));
        continue;
      }
      // Ack most, leave some in flight (they must come back after the crash).
      std::vector<Position> acks;
      for (const Record& r : got) {
        if (rng() % 4 != 0) acks.push_back(r.position);
      }
      // Announced first: an ack may be durable before the child dies without
      // having reported it.
      for (const Position p : acks) write_line(fd, "a " + std::to_string(p) + "\n");
      bus.ack("consumer", acks);
      for (const Position p : acks) write_line(fd, "A " + std::to_string(p) + "\n");
    }
  });
  // A child the parent forgot to kill must not run forever.
  std::this_thread::sleep_for(std::chrono::seconds(60));
  std::_Exit(3);
}

TEST(LocalLogBusCrashChild, Run) {
  const char* mode = std::getenv("DUCKMESH_TEST_CHILD_MODE");
  if (mode == nullptr) GTEST_SKIP() << "runs only as the child process of LocalLogBusCrash tests";
  const fs::path dir = std::getenv("DUCKMESH_TEST_CHILD_DIR");
  const int fd = std::stoi(std::getenv("DUCKMESH_TEST_CHILD_FD"));
  if (std::string(mode) == "publish") {
    child_publish_loop(dir, fd, std::getenv("DUCKMESH_TEST_CHILD_ROUND"));
  }
  if (std::string(mode) == "replay") {
    LocalLogBus bus(child_options(dir));
    const Position q =
        bus.replay_dead_letter(std::stoull(std::getenv("DUCKMESH_TEST_CHILD_REPLAY")));
    write_line(fd, "R " + std::to_string(q) + "\n");
    std::_Exit(0);
  }
  std::_Exit(5);
}

// ----------------------------------------------------------------- parent

struct ChildResult {
  std::vector<std::string> lines;
  int status = 0;
  bool killed_by_parent = false;
};

// Runs the child in `mode`; kills it with SIGKILL after it reported
// `kill_after_lines` lines (if given). Fails the test if it outlives 60 s.
ChildResult run_child(const std::map<std::string, std::string>& env,
                      std::optional<std::size_t> kill_after_lines) {
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  // The child's end, without O_CLOEXEC so it survives the exec.
  const int child_fd = ::fcntl(fds[1], F_DUPFD, 50);
  if (child_fd < 0) throw std::runtime_error("dup failed");

  // Everything execve needs is prepared before fork: after it only
  // async-signal-safe calls are allowed.
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = entry.substr(0, eq);
    if (name == "DUCKMESH_FAULT" || name.starts_with("DUCKMESH_TEST_CHILD_")) continue;
    vars[name] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : env) vars[k] = v;
  vars["DUCKMESH_TEST_CHILD_FD"] = std::to_string(child_fd);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = exe, arg1 = kChildFilter;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
    ::execve(exe.c_str(), argv, envp.data());
    ::_exit(127);
  }
  ::close(child_fd);
  ::close(fds[1]);

  ChildResult result;
  std::string buffer;
  char chunk[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "child did not finish in time";
      ::kill(pid, SIGKILL);
      result.killed_by_parent = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, 1000);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is gone
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      result.lines.push_back(buffer.substr(0, nl));
      buffer.erase(0, nl + 1);
    }
    if (kill_after_lines && !result.killed_by_parent && result.lines.size() >= *kill_after_lines) {
      ::kill(pid, SIGKILL);
      result.killed_by_parent = true;
    }
  }
  ::close(fds[0]);
  while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

// What the children reported across rounds.
struct Reported {
  std::map<Position, std::string> published;  // acknowledged publishes
  std::set<Position> acking;                  // ack attempted, maybe durable
  std::set<Position> acked;                   // acknowledged acks
};

void collect(const ChildResult& r, Reported& out) {
  for (const std::string& line : r.lines) {
    std::istringstream in(line);
    char kind = 0;
    Position p = 0;
    in >> kind >> p;
    if (kind == 'P') {
      std::string payload;
      in >> payload;
      EXPECT_TRUE(out.published.emplace(p, payload).second) << "position acknowledged twice: " << p;
    } else if (kind == 'a') {
      out.acking.insert(p);
    } else if (kind == 'A') {
      out.acked.insert(p);
    } else {
      ADD_FAILURE() << "unexpected line from child: " << line;
    }
  }
}

// Reopens the log and checks it against what was acknowledged.
void verify(const fs::path& dir, const Reported& reported) {
  LocalLogBusOptions o = options_for(dir);
  o.segment_bytes = kCrashSegmentBytes;
  LocalLogBus bus(o);
  const std::vector<Record> delivered = claim_all(bus, "verifier");
  std::map<Position, std::string> by_position;
  std::set<std::string> payloads;
  for (const Record& r : delivered) {
    by_position.emplace(r.position, r.payload.str());
    EXPECT_TRUE(payloads.insert(r.payload.str()).second)
        << "payload delivered twice: " << r.payload;
    EXPECT_FALSE(reported.acked.contains(r.position))
        << "position " << r.position << " was acked before the crash but came back";
  }
  std::size_t checked = 0;
  for (const auto& [p, payload] : reported.published) {
    if (reported.acking.contains(p)) continue;  // acked, or maybe acked
    const auto it = by_position.find(p);
    ASSERT_NE(it, by_position.end())
        << "acknowledged position " << p << " (" << payload << ") is lost";
    EXPECT_EQ(it->second, payload) << "position " << p;
    ++checked;
  }
  EXPECT_GT(reported.published.size(), 0u);
  const BusStats s = bus.stats();
  EXPECT_GE(s.last_position, reported.published.empty() ? 0 : reported.published.rbegin()->first);
  // The log keeps working after recovery, right after the last durable record.
  EXPECT_EQ(bus.publish(one("after-recovery")), std::vector<Position>{s.last_position + 1});
  ::testing::Test::RecordProperty("checked_positions", static_cast<int>(checked));
}

TEST(LocalLogBusCrash, SigkillAtRandomMomentsLosesNothingAcknowledged) {
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  Reported reported;
  for (int round = 0; round < 3; ++round) {
    const std::size_t kill_after = 50 + rng() % 1500;
    SCOPED_TRACE("round " + std::to_string(round) + ", kill after " + std::to_string(kill_after) +
                 " lines");
    const ChildResult r = run_child({{"DUCKMESH_TEST_CHILD_MODE", "publish"},
                                     {"DUCKMESH_TEST_CHILD_DIR", dir.path().string()},
                                     {"DUCKMESH_TEST_CHILD_ROUND", std::to_string(round)}},
                                    kill_after);
    ASSERT_TRUE(WIFSIGNALED(r.status)) << "child exited with status " << r.status;
    EXPECT_EQ(WTERMSIG(r.status), SIGKILL);
    EXPECT_GE(r.lines.size(), kill_after);
    collect(r, reported);
  }
  EXPECT_GT(segment_files(dir.path()).size(), 1u);  // rolls happened under the crashes
  verify(dir.path(), reported);
}

TEST(LocalLogBusCrash, HalfWrittenGroupIsCutOffAndNothingAcknowledgedIsLost) {
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  Reported reported;
  for (int round = 0; round < 2; ++round) {
    const unsigned crash_on = 10 + rng() % 90;
    SCOPED_TRACE("round " + std::to_string(round) + ", crash on group write " +
                 std::to_string(crash_on));
    const ChildResult r =
        run_child({{"DUCKMESH_TEST_CHILD_MODE", "publish"},
                   {"DUCKMESH_TEST_CHILD_DIR", dir.path().string()},
                   {"DUCKMESH_TEST_CHILD_ROUND", std::to_string(round)},
                   {"DUCKMESH_FAULT", "log_mid_append@" + std::to_string(crash_on)}},
                  std::nullopt);
    ASSERT_TRUE(WIFSIGNALED(r.status)) << "child exited with status " << r.status;
    EXPECT_EQ(WTERMSIG(r.status), SIGKILL);
    EXPECT_FALSE(r.killed_by_parent);
    collect(r, reported);

    // The fault leaves half a group at the end of the last segment; opening
    // must cut exactly that off.
    const fs::path last = segment_files(dir.path()).back();
    const std::uintmax_t torn_size = fs::file_size(last);
    {
      LocalLogBusOptions o = options_for(dir.path());
      o.segment_bytes = kCrashSegmentBytes;
      LocalLogBus bus(o);
    }
    EXPECT_LT(fs::file_size(last), torn_size) << "no torn tail was cut off " << last;
  }
  verify(dir.path(), reported);
}

TEST(LocalLogBusCrash, ReplayIsAtomicWithItsPublish) {
  TempDir dir;
  LocalLogBusOptions o = options_for(dir.path());
  o.segment_bytes = 1;  // one segment per group, so segments get deleted
  {
    LocalLogBus bus(o);
    bus.publish({make_record("one"), make_record("two"), make_record("three")});
    claim_all(bus);
    bus.dead_letter("c", {2}, "bad");
    bus.ack("c", {1, 3});
  }
  const ChildResult r = run_child({{"DUCKMESH_TEST_CHILD_MODE", "replay"},
                                   {"DUCKMESH_TEST_CHILD_DIR", dir.path().string()},
                                   {"DUCKMESH_TEST_CHILD_SEGMENT_BYTES", "1"},
                                   {"DUCKMESH_TEST_CHILD_REPLAY", "2"},
                                   {"DUCKMESH_FAULT", "log_replay_published"}},
                                  std::nullopt);
  ASSERT_TRUE(WIFSIGNALED(r.status)) << "child exited with status " << r.status;
  EXPECT_TRUE(r.lines.empty());  // it died inside replay_dead_letter
  {
    LocalLogBus bus(o);
    EXPECT_TRUE(bus.dead_letters(10).empty());
    const std::vector<Record> got = claim_all(bus);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].position, 4u);
    EXPECT_EQ(got[0].payload, "two");
    bus.ack("c", {4});
    // A later segment makes the replayed record's segment deletable, so only
    // the journal can still tell that dead letter 2 is gone.
    bus.publish(one("five"));
    claim_all(bus);
    bus.ack("c", {5});
    for (const fs::path& seg : segment_files(dir.path())) {
      EXPECT_NE(seg.filename(), "00000000000000000004.log");
    }
  }
  LocalLogBus bus(o);
  EXPECT_TRUE(bus.dead_letters(10).empty());
  EXPECT_TRUE(claim_all(bus).empty());
  EXPECT_EQ(bus.stats().last_position, 5u);
}

}  // namespace
}  // namespace duckmesh::bus
