// The process heap's free memory, given back to the system.
//
// The service binary allocates through tcmalloc, which keeps the memory a
// burst of ingest freed for reuse instead of returning it: without help,
// resident memory stays at the burst's peak, and ingest_max_memory (which
// watches resident memory) would hold ingest back for memory nobody uses.
// release_free_heap() returns it: tcmalloc's
// MallocExtension_ReleaseFreeMemory when tcmalloc is linked in, glibc's
// malloc_trim otherwise (as in the unit tests). HeapReleaser calls it every
// `interval` on a thread of its own.
//
// Thread safety: both may be used from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace duckmesh {

// True when the process allocates through tcmalloc.
bool heap_is_tcmalloc();

void release_free_heap();

class HeapReleaser {
 public:
  explicit HeapReleaser(std::chrono::milliseconds interval);
  ~HeapReleaser();  // stops and joins
  HeapReleaser(const HeapReleaser&) = delete;
  HeapReleaser& operator=(const HeapReleaser&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace duckmesh
