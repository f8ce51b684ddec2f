// Several catalog instances and processes sharing one catalog lose nothing,
// against every backend.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "catalog_backends.hpp"
#include "catalog_test_support.hpp"
#include "common/error.hpp"

namespace duckmesh::catalog {
namespace {

using testing::add_files;
using testing::append_table;
using testing::Backend;
using testing::CatalogStore;
using testing::new_file;

// Every snapshot 1..expected_latest exists once, each the child of the one
// before, committed later than it; the live files are exactly `paths`.
void expect_gapless_history(const CatalogRepo& catalog, std::int64_t expected_latest,
                            const std::set<std::string>& paths) {
  const auto snapshots = catalog.list_snapshots("sales", 1'000'000, 0);
  ASSERT_EQ(snapshots.size(), static_cast<std::size_t>(expected_latest));
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    const Snapshot& s = snapshots[i];
    EXPECT_EQ(s.id, expected_latest - static_cast<std::int64_t>(i));
    if (s.id == 1) {
      EXPECT_FALSE(s.parent.has_value());
    } else {
      EXPECT_EQ(s.parent, s.id - 1);
      EXPECT_GT(s.committed_unix_us, snapshots[i + 1].committed_unix_us);
    }
  }
  const auto files = catalog.live_files("sales", expected_latest, "events");
  std::set<std::string> live;
  std::set<std::int64_t> ids;
  for (const auto& file : files) {
    live.insert(file.path);
    ids.insert(file.id);
  }
  EXPECT_EQ(files.size(), paths.size());
  EXPECT_EQ(ids.size(), files.size());  // no id handed out twice
  EXPECT_EQ(live, paths);
}

class CatalogConcurrency : public ::testing::TestWithParam<Backend> {
 protected:
  CatalogStore store_{GetParam()};
};

TEST_P(CatalogConcurrency, TwoInstancesPublishingFromThreadsLoseNothing) {
  auto first_instance = store_.open();
  auto second_instance = store_.open();
  CatalogRepo& first = *first_instance;
  CatalogRepo& second = *second_instance;
  first.create_product({"sales", "", ""});
  first.create_table("sales", append_table("events"));  // snapshot 1

  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::mutex mutex;
  std::vector<std::int64_t> returned_ids;
  std::set<std::string> paths;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      CatalogRepo& catalog = t % 2 == 0 ? first : second;
      for (int i = 0; i < kPerThread; ++i) {
        const std::string file_path = "t" + std::to_string(t) + "-" + std::to_string(i);
        // Thread t resolves positions t+1, t+1+kThreads, ...: out of order overall.
        const bus::Position position = static_cast<bus::Position>(i * kThreads + t + 1);
        try {
          const auto snapshots = catalog.publish(
              {add_files("sales", {new_file("events", file_path)})}, {{position, position}});
          std::lock_guard lock(mutex);
          returned_ids.push_back(snapshots.at(0).id);
          paths.insert(file_path);
        } catch (const Error& e) {
          std::lock_guard lock(mutex);
          failures.push_back(e.what());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  ASSERT_TRUE(failures.empty()) << failures.front();
  constexpr std::int64_t kLatest = 1 + kThreads * kPerThread;
  std::set<std::int64_t> unique_ids(returned_ids.begin(), returned_ids.end());
  EXPECT_EQ(unique_ids.size(), returned_ids.size());
  EXPECT_EQ(*unique_ids.begin(), 2);
  EXPECT_EQ(*unique_ids.rbegin(), kLatest);
  expect_gapless_history(first, kLatest, paths);
  expect_gapless_history(second, kLatest, paths);
  EXPECT_EQ(first.watermark(), static_cast<bus::Position>(kThreads * kPerThread));
}

TEST_P(CatalogConcurrency, ProcessesSharingTheCatalogLoseNothing) {
  {
    auto setup = store_.open();
    setup->create_product({"sales", "", ""});
    setup->create_table("sales", append_table("events"));  // snapshot 1
  }                                                        // no connection is open across fork()

  constexpr int kProcesses = 3;
  constexpr int kPerProcess = 20;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int status = 0;
      try {
        auto catalog = store_.open();
        for (int i = 0; i < kPerProcess; ++i) {
          const std::string file_path = "p" + std::to_string(p) + "-" + std::to_string(i);
          catalog->publish({add_files("sales", {new_file("events", file_path)})}, {});
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", p, e.what());
        status = 1;
      }
      _exit(status);
    }
    children.push_back(pid);
  }
  for (const pid_t child : children) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }

  std::set<std::string> paths;
  for (int p = 0; p < kProcesses; ++p) {
    for (int i = 0; i < kPerProcess; ++i)
      paths.insert("p" + std::to_string(p) + "-" + std::to_string(i));
  }
  auto catalog = store_.open();
  expect_gapless_history(*catalog, 1 + kProcesses * kPerProcess, paths);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogConcurrency,
                         ::testing::Values(Backend::sqlite, Backend::postgres),
                         testing::backend_name);

}  // namespace
}  // namespace duckmesh::catalog
