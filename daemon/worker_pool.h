// The daemon's worker threads: feed parsing, extraction and store writes run here (daemon/pipeline.h),
// never on the Fetcher's loop thread. See docs/threading.md.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace baotin {

// Fixed-size thread pool with a FIFO queue.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  void post(std::function<void()> fn);
  void stop();  // runs what is queued, then joins

 private:
  void run();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::queue<std::function<void()>> q_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

}  // namespace baotin
