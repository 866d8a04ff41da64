#include "base/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ug {

namespace {
inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// How long a thread polls for the next job (or for the last part to finish) before it sleeps.
// A sleeping thread costs a futex wake-up, and on a virtual machine waking an idle vCPU can take
// tens of microseconds, twice per parallel region; decode runs ~250 regions per token, with
// gaps of a few microseconds between them. UG_SPIN_US overrides (0: always sleep).
std::atomic<int64_t> g_spin_ns{[] {
  const char* e = std::getenv("UG_SPIN_US");
  return (e ? std::max(0L, std::atol(e)) : 20L) * 1000;
}()};
int64_t spin_ns() { return g_spin_ns.load(std::memory_order_relaxed); }

// Polls until ready() or the spin budget is spent; true when ready.
template <class F>
bool spin_until(F ready) {
  const int64_t budget = spin_ns();
  if (budget == 0) return ready();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if (i % 64 == 0 &&
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
                .count() > budget)
      return ready();
  }
}
}  // namespace

void set_pool_spin_us(int64_t us) { g_spin_ns.store(std::max<int64_t>(0, us) * 1000); }

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0)
    n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_part(const std::function<void(int64_t, int64_t, int)>& fn, int64_t n,
                          int parts, int index) {
  if (index >= parts) return;
  int64_t begin = n * index / parts, end = n * (index + 1) / parts;
  if (begin >= end) return;
  // A task that throws must not end the process (a worker has no caller to catch it) nor leave
  // the others running on a finished region: the first exception is kept and rethrown by
  // parallel_for once every part is done.
  try {
    fn(begin, end, index);
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mu_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                              int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int parts = static_cast<int>(std::min<int64_t>(n_threads_, (n + grain - 1) / grain));
  if (parts <= 1 || workers_.empty()) {
    fn(0, n, 0);  // on the caller's thread: an exception simply propagates
    return;
  }
  {
    // The job is published by the generation's release; the lock pairs with sleeping workers.
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    job_n_ = n;
    job_parts_ = parts;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_cv_.notify_all();
  run_part(fn, n, parts, 0);
  if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
  }
  job_ = nullptr;
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(error_mu_);
    error.swap(error_);
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto fresh = [&] {
      return stop_.load(std::memory_order_acquire) ||
             generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(fresh)) {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, fresh);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    const std::function<void(int64_t, int64_t, int)>* job;
    int64_t n;
    int parts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = generation_.load(std::memory_order_relaxed);
      job = job_;
      n = job_n_;
      parts = job_parts_;
    }
    run_part(*job, n, parts, index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);  // the caller may be between its check and its wait
      done_cv_.notify_one();
    }
  }
}

}  // namespace ug
