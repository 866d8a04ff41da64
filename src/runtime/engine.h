// The generation engine: the one path by which `run`, `chat` and the server generate text.
// A background thread runs continuous batching over a fixed number of slots. Each slot owns a
// KvCache; every step one Decoder::forward_multi advances all busy slots together (a prefill
// chunk of a new request, one decode token of a running one, or a running one's last token with
// the drafts to verify). Requests join between steps from a bounded queue; a cancelled request
// leaves at the next step; a request whose step fails ends with an error while the others go on.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/decoder.h"
#include "runtime/draft_policy.h"
#include "runtime/drafter.h"
#include "runtime/request.h"
#include "text/tokenizer.h"

namespace ug {

struct EngineOptions {
  int parallel = 4;         // slots
  int64_t n_ctx = 4096;     // tokens per slot
  int64_t rollback = 1024;  // sliding-layer margin that lets a slot cut back (see docs/SERVER.md)
  int max_queue = 64;       // waiting requests beyond the busy slots; more are refused
  int step_tokens = 512;    // rows per forward pass (prefill chunks share what decode leaves)
  int threads = 0;          // decoder threads, 0: all cores
  int draft_max = 4;        // with a drafter: draft tokens per step at most (requests may ask)
  // Always draft the most tokens allowed instead of adapting the length to the acceptance and
  // the measured costs (benchmarks and tests of the verification path).
  bool draft_fixed = false;
};

// What the engine thread sleeps on; handles keep it alive, so a handle that outlives its engine
// (a client disconnecting during shutdown) can still signal it harmlessly.
struct EngineSignal {
  std::mutex mu;
  std::condition_variable cv;
};

// The caller's side of a submitted request: tokens and the final result arrive here from the
// engine thread; cancel() asks the engine to stop it at its next step.
class RequestHandle {
 public:
  // Waits up to `timeout` for news; returns tokens produced since the last call (possibly none).
  // `done` becomes true once the result is ready (after the last tokens were returned).
  std::vector<EngineToken> wait(std::chrono::milliseconds timeout, bool& done);
  void cancel();
  bool cancelled() const { return cancelled_.load(); }
  const EngineResult& result() const { return result_; }  // valid once done

  // An open prompt (EngineRequest::open_prompt) grows here; the engine prefills what has come.
  // Throws ug::Error once the prompt was closed.
  void append_prompt(const Prompt& rows);
  // No more rows: the engine prefills the rest and starts generating.
  void close_prompt();

 private:
  friend class Engine;
  void push(std::vector<EngineToken>& tokens);
  void finish(EngineResult r);
  // Moves rows that arrived into `to`; true when the prompt has been closed.
  bool take_rows(Prompt& to);
  bool has_rows() const;
  void wake() const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<EngineToken> pending_;
  bool done_ = false;
  std::atomic<bool> cancelled_{false};
  EngineResult result_;
  Prompt incoming_;  // open prompt: rows not yet taken by the engine
  bool closed_ = true;
  std::shared_ptr<EngineSignal> engine_signal_;
};

struct EngineStats {
  uint64_t prompt_tokens = 0;  // rows computed in prefill (cache hits excluded)
  uint64_t cached_tokens = 0;  // prompt rows reused from a slot's prefix cache
  uint64_t generated_tokens = 0;
  uint64_t drafted_tokens = 0, accepted_tokens = 0;  // speculative decoding
  uint64_t verify_passes = 0;                        // passes that checked drafts
  uint64_t failed_requests = 0;
  double prefill_seconds = 0, decode_seconds = 0;  // engine time spent in each kind of step
  int queued = 0, active = 0, slots = 0;
  uint64_t kv_bytes_allocated = 0, kv_bytes_in_use = 0;
  uint64_t steps = 0;
};

class Engine {
 public:
  // drafter: where speculative drafts come from (assistant_drafter(...)), or null for none.
  Engine(std::shared_ptr<const Gemma4Weights> weights, std::shared_ptr<const Tokenizer> tokenizer,
         EngineOptions options, DrafterFactory drafter = nullptr);
  ~Engine();  // stops the thread; requests still running or waiting end "shutdown"
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request; nullptr when the queue is full or the engine is shutting down. Throws
  // ug::Error for a request that can never run (empty prompt, prompt not shorter than the
  // context, a token outside the vocabulary).
  std::shared_ptr<RequestHandle> submit(EngineRequest request);

  // Ends every running and waiting request with StopReason::kShutdown (their clients get a
  // final event) and refuses new ones. Returns once they have ended.
  void shutdown();

  // Called with each request's time to first token (seconds), from the engine thread.
  void on_first_token(std::function<void(double)> fn) { on_first_token_ = std::move(fn); }

  EngineStats stats() const;
  const EngineOptions& options() const { return opt_; }
  const Gemma4Config& config() const { return decoder_.config(); }
  const Tokenizer& tokenizer() const { return *tok_; }
  bool has_drafter() const { return drafter_ != nullptr; }

 private:
  struct Slot;
  struct Job;

  void run();
  bool has_work() const;  // under mu_
  void admit();
  void pull_open_prompts();
  void step();
  int64_t prefill_limit(const Slot& s) const;
  int plan_drafts(Slot& s, int other_rows, int64_t& budget);
  void consume(Slot& s);  // samples the slot's tokens from its logits (parallel per slot)
  void deliver(Slot& s);  // hands them to the request, stops, bookkeeping (engine thread)
  void finish_slot(Slot& s, StopReason reason, const std::string& error = {});
  void fail_everything(const std::string& error);
  void end_all(StopReason reason);

  EngineOptions opt_;
  std::shared_ptr<const Tokenizer> tok_;
  Decoder decoder_;
  std::unique_ptr<Drafter> drafter_;
  DraftCosts costs_;
  std::vector<std::unique_ptr<Slot>> slots_;

  std::shared_ptr<EngineSignal> signal_ = std::make_shared<EngineSignal>();
  std::mutex& mu_ = signal_->mu;  // guards the queue, the slots' jobs and the flags below
  std::condition_variable& cv_ = signal_->cv;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stop_ = false;        // the thread ends
  bool shutdown_ = false;    // requests end, new ones are refused
  bool shut_down_ = false;   // the engine thread has ended them all
  std::condition_variable shut_cv_;
  std::function<void(double)> on_first_token_;
  uint64_t use_clock_ = 0;  // engine thread: orders slots by last use

  mutable std::mutex stats_mu_;
  EngineStats stats_;
  std::thread thread_;
};

// Submits a request and waits for its end on the calling thread: on_token gets every token as
// it comes (return false to cancel), `cancel` may be set from elsewhere (a signal handler).
// Throws ug::Error when the request cannot run or the queue refuses it.
EngineResult generate(Engine& engine, EngineRequest request,
                      const std::function<bool(const EngineToken&)>& on_token = nullptr,
                      const std::atomic<bool>* cancel = nullptr);

}  // namespace ug
