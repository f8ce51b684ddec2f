// Crash safety of the embedded core, with real processes killed by SIGKILL at
// every fault point: after restart every acknowledged event is visible
// exactly once, and nothing from an unpublished write is ever visible.
#include <gtest/gtest.h>

#include <csignal>
#include <random>
#include <set>
#include <sstream>

#include "support/service_process.hpp"

namespace duckmesh::testing {
namespace {

struct Counts {
  long rows = -1, distinct = -1, snapshot = -1;
};

class CrashTest : public ::testing::Test {
 protected:
  RunResult driver(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin() + 1, dir_.path().string());
    return run_program(CORE_DRIVER, args, env);
  }
  void SetUp() override { ASSERT_EQ(driver({"setup"}).exit_code, 0); }

  Counts count(const std::string& table) {
    auto r = driver({"count", table});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Counts c;
    std::istringstream(r.out) >> c.rows >> c.distinct >> c.snapshot;
    return c;
  }
  long orphans() {
    auto r = driver({"orphans"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::stol(r.out);
  }
  // Number of events acknowledged according to "ack FIRST LAST" lines.
  static long acked(const std::string& out) {
    std::istringstream in(out);
    std::string word;
    unsigned long long first, last;
    long total = 0;
    while (in >> word >> first >> last) total += static_cast<long>(last - first + 1);
    return total;
  }

  TempDir dir_;
};

class CommitFaultTest : public CrashTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(CommitFaultTest, KilledCoordinatorLosesAndDuplicatesNothing) {
  std::string point = GetParam();
  for (std::string table : {"orders", "orders_by_day"}) {
    auto pub = driver({"publish", table, "1000", table});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_EQ(acked(pub.out), 1000);
  }
  // The coordinator dies on the second batch at the fault point (the first
  // batch commits fully), then a fresh process finishes the work.
  auto crashed = driver({"commit"}, {{"DUCKMESH_FAULT", point + "@2"}});
  EXPECT_EQ(crashed.exit_code, -SIGKILL) << crashed.err;
  auto mid = count("orders");
  if (point != "after_catalog_commit") {
    // Nothing of the killed batch became visible.
    EXPECT_LT(mid.rows, 1000);
    EXPECT_EQ(mid.rows, mid.distinct);
  }
  if (point == "after_parquet_write" || point == "before_catalog_commit") {
    EXPECT_GE(orphans(), 1) << "the killed write's file is left for gc to remove";
  }
  auto recovered = driver({"commit"});
  ASSERT_EQ(recovered.exit_code, 0) << recovered.err;
  for (std::string table : {"orders", "orders_by_day"}) {
    auto c = count(table);
    EXPECT_EQ(c.rows, 1000) << table;
    EXPECT_EQ(c.distinct, 1000) << table;
  }
}

INSTANTIATE_TEST_SUITE_P(FaultPoints, CommitFaultTest,
                         ::testing::Values("after_parquet_write", "before_catalog_commit",
                                           "after_catalog_commit"));

TEST_F(CrashTest, TornLogAppendLosesNoAcknowledgedEvent) {
  auto pub = driver({"publish", "orders", "2000", "torn", "100"},
                    {{"DUCKMESH_FAULT", "log_mid_append@5"}});
  EXPECT_EQ(pub.exit_code, -SIGKILL) << pub.err;
  long acknowledged = acked(pub.out);
  EXPECT_GE(acknowledged, 300);
  EXPECT_LT(acknowledged, 2000);
  ASSERT_EQ(driver({"commit"}).exit_code, 0);
  auto c = count("orders");
  // Every acknowledged event is there once; a torn, unacknowledged batch may
  // survive only as whole records, never twice.
  EXPECT_GE(c.rows, acknowledged);
  EXPECT_EQ(c.rows, c.distinct);
  // And the log keeps working after the torn tail.
  auto more = driver({"publish", "orders", "100", "after"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  ASSERT_EQ(driver({"commit"}).exit_code, 0);
  EXPECT_EQ(count("orders").rows, c.rows + 100);
}

TEST_F(CrashTest, RandomKillDuringIngestAndCommit) {
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    std::string prefix = "round" + std::to_string(round);
    // A live process publishing with the coordinator running, killed at a
    // random moment.
    TempDir out_dir;
    auto out_path = out_dir.path() / "out";
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      std::string dir = dir_.path().string();
      ::execl(CORE_DRIVER, CORE_DRIVER, "run", dir.c_str(), "orders", "100000", prefix.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::ifstream in(out_path);
    std::stringstream text;
    text << in.rdbuf();
    long acknowledged = acked(text.str());
    ASSERT_EQ(driver({"commit"}).exit_code, 0);
    auto c = count("orders");
    EXPECT_EQ(c.rows, c.distinct) << "round " << round;
    static long total_acked = 0;
    total_acked += acknowledged;
    EXPECT_GE(c.rows, total_acked) << "round " << round;
  }
}

TEST_F(CrashTest, RetriedPublishWithSameKeysYieldsOneRowEach) {
  ASSERT_EQ(driver({"publish", "orders", "300", "same"}).exit_code, 0);
  ASSERT_EQ(driver({"commit"}).exit_code, 0);
  // Same keys again, across a restart: a new process, new positions.
  ASSERT_EQ(driver({"publish", "orders", "300", "same"}).exit_code, 0);
  ASSERT_EQ(driver({"publish", "orders", "300", "same"}).exit_code, 0);
  ASSERT_EQ(driver({"commit"}).exit_code, 0);
  auto c = count("orders");
  EXPECT_EQ(c.rows, 300);
  EXPECT_EQ(c.distinct, 300);
}

}  // namespace
}  // namespace duckmesh::testing
