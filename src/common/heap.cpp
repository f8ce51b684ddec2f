#include "common/heap.hpp"

#include <malloc.h>

// Defined by tcmalloc (gperftools' C interface) when it is linked in; weak,
// so a binary without it links and sees a null address.
extern "C" void MallocExtension_ReleaseFreeMemory(void) __attribute__((weak));

namespace duckmesh {

bool heap_is_tcmalloc() {
  return MallocExtension_ReleaseFreeMemory != nullptr;
}

void release_free_heap() {
  if (heap_is_tcmalloc()) {
    MallocExtension_ReleaseFreeMemory();
  } else {
    ::malloc_trim(0);
  }
}

HeapReleaser::HeapReleaser(std::chrono::milliseconds interval)
    : thread_([this, interval] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
          lock.unlock();
          release_free_heap();
          lock.lock();
        }
      }) {}

HeapReleaser::~HeapReleaser() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

}  // namespace duckmesh
