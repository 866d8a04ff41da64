// A persistent pool of workers that run one parallel-for at a time; the caller's thread
// takes part, so a pool of n threads starts n-1 workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ug {

// How long idle threads poll for work before sleeping (all pools; default 20 µs, or UG_SPIN_US).
void set_pool_spin_us(int64_t us);

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads = 0);  // 0: one per hardware thread
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread_index) on contiguous chunks covering [0, n); returns when all
  // chunks are done. Chunks are at least `grain` long. If a chunk throws, the other chunks still
  // run to their end and the first exception is rethrown here.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                    int64_t grain = 1);

 private:
  void worker(int index);
  void run_part(const std::function<void(int64_t, int64_t, int)>& fn, int64_t n, int parts,
                int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int job_parts_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex error_mu_;
  std::exception_ptr error_;  // the first exception of the running region
};

}  // namespace ug
