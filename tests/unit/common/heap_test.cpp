#include "common/heap.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace duckmesh {
namespace {

std::int64_t resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  ADD_FAILURE() << "no VmRSS";
  return 0;
}

// 200 MiB in 1 KiB blocks, every 100th kept: the freed blocks stay in the
// heap (the kept ones pin its top) until released.
std::vector<std::unique_ptr<char[]>> fragment_heap() {
  std::vector<std::unique_ptr<char[]>> blocks(200 * 1024);
  for (auto& b : blocks) {
    b.reset(new char[1024]);
    std::fill(b.get(), b.get() + 1024, 'x');
  }
  std::vector<std::unique_ptr<char[]>> kept;
  for (std::size_t i = 0; i < blocks.size(); i += 100) kept.push_back(std::move(blocks[i]));
  return kept;
}

// These tests link glibc's allocator (the service binary links tcmalloc; the
// integration test MemoryFreedAfterABurstGoesBackToTheSystem covers that).
TEST(HeapTest, ReleasingGivesFreedMemoryBackToTheSystem) {
  EXPECT_FALSE(heap_is_tcmalloc());
  auto kept = fragment_heap();
  const std::int64_t held = resident_kib();
  release_free_heap();
  const std::int64_t released = resident_kib();
  EXPECT_LT(released, held - 100 * 1024) << "resident KiB " << held << " -> " << released;
}

TEST(HeapTest, TheReleaserReleasesEveryIntervalAndStopsAtOnce) {
  // The releaser starts after `held` is read: started before, it could
  // release the freed blocks first, and nothing would be left to see fall.
  auto kept = fragment_heap();
  const std::int64_t held = resident_kib();
  HeapReleaser releaser(std::chrono::milliseconds(100));
  std::int64_t now = held;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (now > held - 100 * 1024 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    now = resident_kib();
  }
  EXPECT_LT(now, held - 100 * 1024) << "resident KiB " << held << " -> " << now;
  auto start = std::chrono::steady_clock::now();
  { HeapReleaser slow(std::chrono::hours(1)); }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace duckmesh
