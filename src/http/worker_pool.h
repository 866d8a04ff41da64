// A fixed set of threads for request handlers with a bounded queue: try_post refuses work when
// every thread is busy and the queue is full, so the server can answer 503 instead of piling up.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ug::http {

class WorkerPool {
 public:
  WorkerPool(int threads, int queue);
  ~WorkerPool();  // runs what is queued, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when `queue` jobs are already waiting for a thread (or the pool is stopping).
  bool try_post(std::function<void()> job);
  int busy() const;     // jobs running
  int waiting() const;  // jobs queued
  void stop();          // no new jobs; queued ones still run; joins

 private:
  void run();

  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  int busy_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ug::http
