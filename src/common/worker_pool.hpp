// A fixed set of threads running blocking work (DuckDB queries, fsyncs) off
// the I/O threads, with a bounded queue: when the queue is full, try_submit
// refuses at once so the caller can answer 503 instead of growing without
// bound.
//
// Thread safety: try_submit may be called from any thread. The destructor
// finishes queued work, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace duckmesh {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t queue_limit);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (task not queued) when queue_limit tasks are waiting.
  bool try_submit(std::function<void()> task);

  std::size_t queued() const;
  std::size_t busy() const;
  std::size_t threads() const { return threads_.size(); }

 private:
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::size_t queue_limit_;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace duckmesh
