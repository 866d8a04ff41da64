#include "http/worker_pool.h"

#include <algorithm>

namespace ug::http {

WorkerPool::WorkerPool(int threads, int queue)
    : max_queue_(static_cast<size_t>(std::max(queue, 0))) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::try_post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Running plus waiting jobs: one per thread, and `max_queue_` more.
    if (stop_ || static_cast<size_t>(busy_) + jobs_.size() >= threads_.size() + max_queue_)
      return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

int WorkerPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_;
}

int WorkerPool::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(jobs_.size());
}

void WorkerPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

void WorkerPool::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping and drained
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    ++busy_;
    lock.unlock();
    job();
    job = nullptr;  // captured state goes before the thread counts as idle
    lock.lock();
    --busy_;
  }
}

}  // namespace ug::http
