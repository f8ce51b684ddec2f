#include "common/worker_pool.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <string>

namespace duckmesh {
namespace {

TEST(WorkerPool, RunsEveryTask) {
  std::atomic<int> done{0};
  {
    WorkerPool pool(3, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.try_submit([&] { done++; }));
  }  // destructor drains the queue
  EXPECT_EQ(done.load(), 500);
}

TEST(WorkerPool, RefusesWhenTheQueueIsFull) {
  std::promise<void> release;
  auto gate = release.get_future().share();
  WorkerPool pool(1, 2);
  std::atomic<int> started{0};
  ASSERT_TRUE(pool.try_submit([&, gate] {
    started++;
    gate.wait();
  }));
  while (started.load() == 0) std::this_thread::yield();  // the only worker is now busy
  EXPECT_TRUE(pool.try_submit([gate] { gate.wait(); }));
  EXPECT_TRUE(pool.try_submit([gate] { gate.wait(); }));
  EXPECT_FALSE(pool.try_submit([] {}));  // queue_limit 2 reached
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_EQ(pool.busy(), 1u);
  release.set_value();
}

TEST(WorkerPool, ItsThreadsAreNamedForOperators) {
  std::promise<std::string> seen;
  {
    WorkerPool pool(1, 1);
    ASSERT_TRUE(pool.try_submit([&] {
      std::ifstream in("/proc/self/task/" + std::to_string(::gettid()) + "/comm");
      std::string name;
      std::getline(in, name);
      seen.set_value(name);
    }));
  }
  EXPECT_EQ(seen.get_future().get(), "dm-worker");
}

}  // namespace
}  // namespace duckmesh
