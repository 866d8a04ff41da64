// The serving engine: a background thread that runs continuous batching over a fixed number of
// slots. Each slot owns a KvCache; every step one Decoder::forward_multi advances all busy slots
// together (a prefill chunk of a new request, or one decode token of a running one). Requests
// join between steps from a bounded queue; a cancelled request leaves at the next step.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model/decoder.h"
#include "runtime/generator.h"
#include "runtime/sampler.h"
#include "text/tokenizer.h"

namespace ug {

struct EngineOptions {
  int parallel = 4;         // slots
  int64_t n_ctx = 4096;     // tokens per slot
  int64_t rollback = 1024;  // sliding-layer margin that lets a slot cut back (see docs/SERVER.md)
  int max_queue = 64;       // waiting requests beyond the busy slots; more are refused
  int step_tokens = 512;    // rows per forward pass (prefill chunks share what decode leaves)
  int threads = 0;          // decoder threads, 0: all cores
};

// What one request asks for. prompt.soft rows (multimodal soft tokens) never match the prefix
// cache, so an image is always recomputed.
struct EngineRequest {
  Prompt prompt;
  int max_tokens = 256;
  SamplingParams sampling;  // own seed: a request's output does not depend on its neighbours
  std::vector<int32_t> stop_ids;
  std::vector<std::string> stop_strings;
  int top_logprobs = 0;   // candidates per step (0: none)
  bool logprobs = false;  // record the chosen token's log-probability
};

// One step's worth of output: the sampled token and the text released with it (text can lag a
// token while it may still be the start of a stop string, and a token may release nothing when
// it ends inside a UTF-8 character).
struct EngineToken {
  StepInfo step;
  std::string text;
};

struct EngineResult {
  std::vector<int32_t> generated;  // includes a stop token
  std::string text;
  std::vector<StepInfo> steps;
  std::string stop_reason;  // "stop", "length", "cancelled", "shutdown", "error"
  std::string error;        // stop_reason "error": what failed
  int64_t prompt_tokens = 0, cached_tokens = 0;  // cached: taken from the slot's prefix cache
  double queue_seconds = 0, prompt_seconds = 0, generation_seconds = 0;
};

// The caller's side of a submitted request: tokens and the final result arrive here from the
// engine thread; cancel() asks the engine to stop it at its next step.
class RequestHandle {
 public:
  // Waits up to `timeout` for news; returns tokens produced since the last call (possibly none).
  // `done` becomes true once the result is ready (after the last tokens were returned).
  std::vector<EngineToken> wait(std::chrono::milliseconds timeout, bool& done);
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_.load(); }
  const EngineResult& result() const { return result_; }  // valid once done

 private:
  friend class Engine;
  void push(EngineToken t);
  void finish(EngineResult r);

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<EngineToken> pending_;
  bool done_ = false;
  std::atomic<bool> cancelled_{false};
  EngineResult result_;
};

struct EngineStats {
  uint64_t prompt_tokens = 0;  // rows computed in prefill (cache hits excluded)
  uint64_t cached_tokens = 0;  // prompt rows reused from a slot's prefix cache
  uint64_t generated_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;  // engine time spent in each kind of step
  int queued = 0, active = 0, slots = 0;
  uint64_t kv_bytes_allocated = 0, kv_bytes_in_use = 0;
  uint64_t steps = 0;
};

class Engine {
 public:
  Engine(std::shared_ptr<const Gemma4Weights> weights, std::shared_ptr<const Tokenizer> tokenizer,
         EngineOptions options);
  ~Engine();  // stops the thread; requests still waiting end "cancelled"
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request; nullptr when the queue is full. Throws ug::Error for a request that can
  // never run (empty prompt, prompt not shorter than the context).
  std::shared_ptr<RequestHandle> submit(EngineRequest request);

  // Ends every running and waiting request with stop reason "shutdown" (their clients get a
  // final event) and refuses new ones (submit returns null). Returns once they have ended,
  // which can take the rest of a forward pass that is running.
  void shutdown();

  // Called with each request's time to first token (seconds), from the engine thread.
  void on_first_token(std::function<void(double)> fn) { on_first_token_ = std::move(fn); }

  EngineStats stats() const;
  const EngineOptions& options() const { return opt_; }
  const Gemma4Config& config() const { return decoder_.config(); }

 private:
  struct Slot;
  struct Job;

  void run();
  void admit(std::unique_lock<std::mutex>& lock);
  bool step();
  void finish_slot(Slot& s, const std::string& reason, const std::string& error = {});
  void end_all(const std::string& reason);  // every slot and queued request (engine thread)
  // Draws the slot's next token from its logits (no shared state: runs in parallel per slot).
  void draw(Slot& s);
  // Hands the drawn token to the request: text, stop checks, limits (engine thread only).
  void deliver(Slot& s);

  EngineOptions opt_;
  std::shared_ptr<const Tokenizer> tok_;
  Decoder decoder_;
  std::vector<std::unique_ptr<Slot>> slots_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stop_ = false;
  bool shutdown_ = false;   // requests end, new ones are refused
  bool shut_down_ = false;  // the engine thread has ended them all
  std::condition_variable shut_cv_;
  std::function<void(double)> on_first_token_;
  uint64_t use_clock_ = 0;  // engine thread: orders slots by last use

  mutable std::mutex stats_mu_;
  EngineStats stats_;
  std::thread thread_;
};

}  // namespace ug
