#include "daemon/worker_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace baotin {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::post(std::function<void()> fn) {
  {
    std::lock_guard lk(mu_);
    q_.push(std::move(fn));
  }
  cv_.notify_one();
}

void WorkerPool::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void WorkerPool::run() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !q_.empty(); });
      if (q_.empty()) return;
      fn = std::move(q_.front());
      q_.pop();
    }
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("worker: unexpected error: {}", e.what());
    } catch (...) {
      spdlog::error("worker: unexpected non-standard exception");
    }
  }
}

}  // namespace baotin
