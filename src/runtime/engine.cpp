#include "runtime/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "base/error.h"
#include "runtime/constraint.h"
#include "runtime/prefill.h"
#include "runtime/prefix_cache.h"
#include "runtime/token_emitter.h"

namespace ug {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

constexpr int kMaxRequestDraft = 16;

// The fewest positions any sliding layer of the cache can take back (large when none wraps).
int64_t rollback_margin(const KvCache& cache, const Gemma4Config& c) {
  int64_t margin = std::numeric_limits<int64_t>::max();
  for (int l = 0; l < c.n_layer; ++l)
    if (cache.sliding(l) && cache.capacity(l) < cache.n_ctx())
      margin = std::min<int64_t>(margin, cache.capacity(l) - c.sliding_window);
  return margin;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RequestHandle

std::vector<EngineToken> RequestHandle::wait(std::chrono::milliseconds timeout, bool& done) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !pending_.empty() || done_; });
  std::vector<EngineToken> out;
  out.swap(pending_);
  done = done_;
  return out;
}

void RequestHandle::cancel() {
  cancelled_ = true;
  wake();  // a slot waiting for more of an open prompt must notice
}

void RequestHandle::append_prompt(const Prompt& rows) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) fail("the prompt was already closed");
    if (done_) return;
    incoming_.append(rows);
  }
  wake();
}

void RequestHandle::close_prompt() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  wake();
}

bool RequestHandle::take_rows(Prompt& to) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!incoming_.tokens.empty()) {
    to.append(incoming_);
    incoming_ = Prompt{};
  }
  return closed_;
}

bool RequestHandle::has_rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !incoming_.tokens.empty() || closed_;
}

void RequestHandle::wake() const {
  if (!engine_signal_) return;
  { std::lock_guard<std::mutex> lock(engine_signal_->mu); }  // a waiting engine re-checks after
  engine_signal_->cv.notify_all();
}

void RequestHandle::push(std::vector<EngineToken>& tokens) {
  if (tokens.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : tokens) pending_.push_back(std::move(t));
  }
  tokens.clear();
  cv_.notify_all();
}

void RequestHandle::finish(EngineResult r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    result_ = std::move(r);
    done_ = true;
  }
  cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Engine state

struct Engine::Job {
  EngineRequest req;
  std::shared_ptr<RequestHandle> handle;
  Clock::time_point queued_at;
  bool prompt_closed = true;  // open prompts: no more rows will come
};

struct Engine::Slot {
  Slot(const Gemma4Config& c, int64_t n_ctx, int64_t rollback) : cache(c, n_ctx, rollback) {}

  KvCache cache;
  std::vector<int32_t> cached;  // prefix key of every position in the cache (size n_past)
  uint64_t last_used = 0;

  // The request being served (null: free) and its progress.
  std::unique_ptr<Job> job;
  std::vector<int32_t> keys;  // prompt rows (as far as they have come) as prefix keys
  int64_t next_row = 0;       // next prompt row to compute
  bool decoding = false;      // the prompt is done; last_token goes in next
  int32_t last_token = 0;
  std::optional<TokenEmitter> emit;  // from the end of the prompt on
  DraftPolicy policy;
  std::vector<float> hidden;  // post-norm row whose logits gave last_token (for the drafter)
  EngineResult result;
  Clock::time_point started, first_token;
  bool got_first = false;

  // This step's input and output.
  Batch batch;
  std::vector<float> logits, hidden_out;
  int64_t batch_rows = 0;
  bool ready = false;            // the pass gave logits to sample from
  std::vector<int32_t> drafts;   // verified in this pass
  int accepted = 0;              // drafts the sampler agreed with
  std::vector<EngineToken> out;  // tokens drawn in this step
  std::string error;             // consume() failed
};

Engine::Engine(std::shared_ptr<const Gemma4Weights> weights,
               std::shared_ptr<const Tokenizer> tokenizer, EngineOptions options,
               DrafterFactory drafter)
    : opt_(options), tok_(std::move(tokenizer)), decoder_(std::move(weights), options.threads) {
  const Gemma4Config& c = decoder_.config();
  if (opt_.parallel < 1 || opt_.parallel > 256)
    fail("--parallel ", opt_.parallel, ": expected 1 to 256 slots");
  if (opt_.n_ctx < 2) fail("context size ", opt_.n_ctx, " is too small (at least 2 tokens)");
  opt_.n_ctx = std::min<int64_t>(opt_.n_ctx, c.context_length);
  opt_.step_tokens = std::max(opt_.step_tokens, opt_.parallel);
  opt_.max_queue = std::max(opt_.max_queue, 0);
  opt_.draft_max = std::clamp(opt_.draft_max, 0, kMaxRequestDraft);
  if (drafter) {
    drafter_ = drafter(decoder_);
    // Rejected drafts are taken back from the cache.
    opt_.rollback = std::max<int64_t>(opt_.rollback, kMaxRequestDraft);
  }
  for (int i = 0; i < opt_.parallel; ++i)
    slots_.push_back(std::make_unique<Slot>(c, opt_.n_ctx, opt_.rollback));
  stats_.slots = opt_.parallel;
  for (auto& s : slots_) stats_.kv_bytes_allocated += s->cache.bytes();
  thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
  shutdown();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<RequestHandle> Engine::submit(EngineRequest req) {
  const Gemma4Config& c = decoder_.config();
  const int64_t n = static_cast<int64_t>(req.prompt.tokens.size());
  if (n == 0 && !req.open_prompt) fail("the prompt is empty");
  if (n >= opt_.n_ctx)
    fail("the prompt has ", n, " tokens; the context holds ", opt_.n_ctx,
         " (a prompt must be shorter than the context to leave room for an answer)");
  if (!req.prompt.soft.empty() && static_cast<int64_t>(req.prompt.soft.size()) != n)
    fail("prompt has ", n, " tokens but ", req.prompt.soft.size(), " soft-token rows");
  for (int32_t t : req.prompt.tokens)
    if (t < 0 || t >= c.vocab_size)
      fail("token id ", t, " is outside the vocabulary (0..", c.vocab_size - 1, ")");
  for (int32_t t : req.sampling.suppress)
    if (t < 0 || t >= c.vocab_size)
      fail("suppressed token id ", t, " is outside the vocabulary (0..", c.vocab_size - 1, ")");

  auto job = std::make_unique<Job>();
  job->prompt_closed = !req.open_prompt;
  job->req = std::move(req);
  job->handle = std::make_shared<RequestHandle>();
  job->handle->closed_ = job->prompt_closed;
  job->handle->engine_signal_ = signal_;
  job->queued_at = Clock::now();
  auto handle = job->handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || shutdown_) return nullptr;
    int free = 0;
    for (auto& s : slots_) free += s->job ? 0 : 1;
    // Slots change hands under mu_, so this count is exact.
    if (static_cast<int>(queue_.size()) >= opt_.max_queue + free) return nullptr;
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
  return handle;
}

void Engine::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_.joinable() || stop_) return;
  shutdown_ = true;
  cv_.notify_all();
  shut_cv_.wait(lock, [&] { return shut_down_; });
}

EngineStats Engine::stats() const {
  EngineStats out;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    out = stats_;
  }
  std::lock_guard<std::mutex> lock(mu_);
  out.queued = static_cast<int>(queue_.size());
  out.active = 0;
  for (const auto& s : slots_) out.active += s->job ? 1 : 0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The engine thread

bool Engine::has_work() const {
  if (stop_ || shutdown_ || !queue_.empty()) return true;
  for (const auto& s : slots_) {
    if (!s->job) continue;
    if (s->job->handle->cancelled() || s->decoding) return true;
    if (s->next_row < prefill_limit(*s)) return true;
    if (!s->job->prompt_closed && s->job->handle->has_rows()) return true;  // rows, or the end
  }
  return false;
}

void Engine::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return has_work(); });
      if (shutdown_ && !shut_down_) {
        lock.unlock();
        end_all(StopReason::kShutdown);
        lock.lock();
        shut_down_ = true;
        shut_cv_.notify_all();
      }
      if (stop_) return;
      if (shutdown_) {
        cv_.wait(lock, [&] { return stop_; });
        return;
      }
    }
    // Whatever goes wrong inside a step ends the requests in it, never the engine.
    try {
      admit();
      pull_open_prompts();
      for (auto& s : slots_)
        if (s->job && s->job->handle->cancelled()) finish_slot(*s, StopReason::kCancelled);
      step();
    } catch (const std::exception& e) {
      fail_everything(std::string("internal error: ") + e.what());
    } catch (...) {
      fail_everything("internal error");
    }
  }
}

void Engine::end_all(StopReason reason) {
  for (auto& s : slots_)
    if (s->job) finish_slot(*s, reason);
  std::deque<std::unique_ptr<Job>> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting.swap(queue_);
  }
  for (auto& j : waiting) {
    EngineResult r;
    r.stop_reason = reason;
    r.prompt_tokens = static_cast<int64_t>(j->req.prompt.tokens.size());
    r.queue_seconds = seconds_between(j->queued_at, Clock::now());
    j->handle->finish(std::move(r));
  }
}

void Engine::fail_everything(const std::string& error) {
  for (auto& s : slots_) {
    if (!s->job) continue;
    s->cache.clear();
    s->cached.clear();
    finish_slot(*s, StopReason::kError, error);
  }
}

// Moves queued requests into free slots, each into the slot that holds its longest usable
// prefix.
void Engine::admit() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!queue_.empty()) {
    std::unique_ptr<Job>& front = queue_.front();
    if (front->handle->cancelled()) {
      EngineResult r;
      r.stop_reason = StopReason::kCancelled;
      r.prompt_tokens = static_cast<int64_t>(front->req.prompt.tokens.size());
      r.queue_seconds = seconds_between(front->queued_at, Clock::now());
      front->handle->finish(std::move(r));
      queue_.pop_front();
      continue;
    }
    std::vector<SlotCandidate> cands;
    std::vector<Slot*> free;
    for (auto& s : slots_)
      if (!s->job) {
        cands.push_back({&s->cache, &s->cached, s->last_used});
        free.push_back(s.get());
      }
    if (free.empty()) return;

    const Prompt& p = front->req.prompt;
    std::vector<int32_t> keys = prompt_prefix_keys(p);
    SlotChoice choice = choose_slot(cands, keys);
    Slot& s = *free[choice.index];
    choice.keep = keep_outside_blocks(choice.keep, p);
    if (choice.keep > 0 && s.cache.can_truncate(choice.keep)) {
      s.cache.truncate(choice.keep);
    } else {
      choice.keep = 0;
      s.cache.clear();
    }
    s.cached.resize(static_cast<size_t>(choice.keep));

    s.job = std::move(front);
    queue_.pop_front();
    s.keys = std::move(keys);
    s.next_row = choice.keep;
    s.decoding = false;
    s.emit.reset();
    s.hidden.clear();
    const int want = s.job->req.draft < 0 ? opt_.draft_max : s.job->req.draft;
    s.policy = DraftPolicy(drafter_ ? std::clamp(want, 0, kMaxRequestDraft) : 0);
    s.result = EngineResult{};
    s.result.prompt_tokens = static_cast<int64_t>(s.job->req.prompt.tokens.size());
    s.result.cached_tokens = choice.keep;
    {
      std::lock_guard<std::mutex> slock(stats_mu_);
      stats_.cached_tokens += static_cast<uint64_t>(choice.keep);
    }
    s.started = Clock::now();
    s.result.queue_seconds = seconds_between(s.job->queued_at, s.started);
    s.got_first = false;
  }
}

// Rows of open prompts that arrived since the last step join their slot's prompt.
void Engine::pull_open_prompts() {
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.job || s.job->prompt_closed) continue;
    Prompt& p = s.job->req.prompt;
    const int64_t before = static_cast<int64_t>(p.tokens.size());
    s.job->prompt_closed = s.job->handle->take_rows(p);
    const int64_t n = static_cast<int64_t>(p.tokens.size());
    if (n > before) {
      std::vector<int32_t> more = prompt_prefix_keys(p.slice(before, n));
      s.keys.insert(s.keys.end(), more.begin(), more.end());
      s.result.prompt_tokens = n;
    }
    if (n >= opt_.n_ctx) {
      finish_slot(s, StopReason::kError,
                  "the prompt grew to " + std::to_string(n) + " tokens; the context holds " +
                      std::to_string(opt_.n_ctx));
      continue;
    }
    if (s.job->prompt_closed && n == 0) {
      finish_slot(s, StopReason::kError, "the prompt is empty");
      continue;
    }
    for (int64_t i = before; i < n; ++i)
      if (p.tokens[i] < 0 || p.tokens[i] >= decoder_.config().vocab_size) {
        finish_slot(s, StopReason::kError,
                    "token id " + std::to_string(p.tokens[i]) + " is outside the vocabulary");
        break;
      }
  }
}

// The prompt rows a slot may compute now: all of them, or while the prompt is still open all but
// the last, whose logits are only wanted once the prompt is complete.
int64_t Engine::prefill_limit(const Slot& s) const {
  const int64_t n = static_cast<int64_t>(s.job->req.prompt.tokens.size());
  return s.job->prompt_closed ? n : n - 1;
}

// How many drafts slot s verifies in this pass, limited by what could still be emitted, the
// context, the cache's rollback margin and the pass's row budget.
int Engine::plan_drafts(Slot& s, int other_rows, int64_t& budget) {
  if (!drafter_ || s.policy.max_draft() == 0) return 0;
  const EngineRequest& rq = s.job->req;
  const int64_t p = s.cache.n_past();
  int64_t room = std::min<int64_t>(rq.max_tokens - s.emit->generated() - 1, opt_.n_ctx - p - 1);
  room = std::min<int64_t>(room, rollback_margin(s.cache, decoder_.config()));
  room = std::min<int64_t>(room, budget);
  if (room <= 0 || s.hidden.empty()) return 0;
  const int want = opt_.draft_fixed ? s.policy.max_draft() : s.policy.choose(costs_, other_rows);
  const int k = static_cast<int>(std::min<int64_t>(room, want));
  if (k <= 0) return 0;
  auto t0 = Clock::now();
  drafter_->draft(s.emit->history(), s.hidden.data(), p, s.cache, k, s.emit->sampling().suppress,
                  s.drafts);
  if (static_cast<int>(s.drafts.size()) > k) s.drafts.resize(k);
  if (!s.drafts.empty())
    costs_.observe_draft(seconds_between(t0, Clock::now()) / static_cast<double>(s.drafts.size()));
  // A draft the output constraint would refuse can never be accepted: stop before it.
  if (rq.constraint) {
    size_t ok = 0;
    while (ok < s.drafts.size() && rq.constraint->accept(s.drafts[ok])) ++ok;
    rq.constraint->rollback(static_cast<int>(ok));
    s.drafts.resize(ok);
  }
  budget -= static_cast<int64_t>(s.drafts.size());
  return static_cast<int>(s.drafts.size());
}

// One forward pass over every busy slot: decode rows first (one each, plus drafts), then prefill
// chunks in slot order with what is left of the step's row budget.
void Engine::step() {
  const Gemma4Config& c = decoder_.config();
  std::vector<Slot*> in;
  int64_t budget = opt_.step_tokens;
  int n_decoding = 0;
  for (auto& sp : slots_) n_decoding += (sp->job && sp->decoding) ? 1 : 0;
  bool any_prefill = false, any_drafts = false;
  for (auto& sp : slots_) {
    Slot& s = *sp;
    s.ready = false;
    s.drafts.clear();
    if (!s.job || !s.decoding) continue;
    --budget;
    try {
      plan_drafts(s, n_decoding - 1, budget);
    } catch (const std::exception& e) {
      finish_slot(s, StopReason::kError, std::string("drafting failed: ") + e.what());
      continue;
    }
    s.batch = Batch{};
    s.batch.tokens.reserve(1 + s.drafts.size());
    s.batch.tokens.push_back(s.last_token);
    s.batch.tokens.insert(s.batch.tokens.end(), s.drafts.begin(), s.drafts.end());
    s.batch.all_logits = !s.drafts.empty();
    s.batch_rows = static_cast<int64_t>(s.batch.tokens.size());
    any_drafts |= !s.drafts.empty();
    in.push_back(&s);
  }
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.job || s.decoding || budget <= 0) continue;
    const Prompt& p = s.job->req.prompt;
    const int64_t limit = prefill_limit(s);
    if (s.next_row >= limit) continue;  // an open prompt waiting for more rows
    const int64_t begin = s.next_row;
    const int64_t end = chunk_end(p, begin, std::min(budget, limit - begin));
    if (end - begin > budget && !in.empty()) continue;  // a whole block waits for a fuller step
    if (end > limit) continue;  // an image block at the open end waits for what follows it
    try {
      s.batch = prompt_batch(p, begin, end, c.n_embd);
    } catch (const Error& e) {
      finish_slot(s, StopReason::kError, e.what());
      continue;
    }
    // A chunk that does not end the prompt needs no logits (open prompts: never before close).
    s.batch.no_logits = end < static_cast<int64_t>(p.tokens.size()) || !s.job->prompt_closed;
    s.batch_rows = end - begin;
    budget -= s.batch_rows;
    in.push_back(&s);
    any_prefill = true;
  }
  if (in.empty()) return;

  std::vector<SequenceBatch> seqs;
  for (Slot* s : in)
    seqs.push_back({&s->batch, &s->cache, &s->logits, drafter_ ? &s->hidden_out : nullptr});
  const auto t0 = Clock::now();
  try {
    decoder_.forward_multi(seqs);
  } catch (const std::exception& e) {
    for (Slot* s : in) {
      s->cache.clear();
      s->cached.clear();
      finish_slot(*s, StopReason::kError, e.what());
    }
    return;
  }
  const double dt = seconds_between(t0, Clock::now());
  int64_t n_rows = 0;
  for (Slot* s : in) n_rows += s->batch_rows;
  if (!any_prefill) costs_.observe_pass(static_cast<int>(n_rows), dt);

  uint64_t n_prefill = 0, n_decode = 0;
  std::vector<Slot*> ready;
  for (Slot* s : in) {
    if (s->decoding) {
      n_decode += static_cast<uint64_t>(s->batch_rows);
    } else {
      const EngineRequest& rq = s->job->req;
      s->cached.insert(s->cached.end(), s->keys.begin() + s->next_row,
                       s->keys.begin() + s->next_row + s->batch_rows);
      s->next_row += s->batch_rows;
      n_prefill += static_cast<uint64_t>(s->batch_rows);
      if (s->next_row < static_cast<int64_t>(rq.prompt.tokens.size()) || !s->job->prompt_closed)
        continue;  // more prompt to go
      s->result.prompt_seconds = seconds_between(s->started, Clock::now());
      // The prompt is complete: the answer may take what is left of the context.
      EngineRequest& mrq = s->job->req;
      const int64_t room = opt_.n_ctx - static_cast<int64_t>(mrq.prompt.tokens.size());
      if (mrq.max_tokens <= 0 || mrq.max_tokens > room) mrq.max_tokens = static_cast<int>(room);
      s->emit.emplace(c, *tok_, mrq);
    }
    s->ready = true;
    ready.push_back(s);
  }
  // Sampling is O(vocab) per row; the slots are independent, so they draw together.
  decoder_.pool().parallel_for(static_cast<int64_t>(ready.size()), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) consume(*ready[i]);
  });
  uint64_t drawn = 0, drafted = 0, accepted = 0;
  for (Slot* s : ready) {
    drawn += s->out.size();
    drafted += s->drafts.size();
    accepted += static_cast<uint64_t>(s->accepted);
  }
  {
    // Counted before delivering: a client that has its answer must see it in /metrics.
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.prompt_tokens += n_prefill;
    stats_.generated_tokens += drawn;
    stats_.drafted_tokens += drafted;
    stats_.accepted_tokens += accepted;
    if (any_drafts) ++stats_.verify_passes;
    // A mixed step's time is split between prefill and decode by rows.
    const double rows = static_cast<double>(n_prefill + n_decode);
    if (rows > 0) {
      stats_.prefill_seconds += dt * static_cast<double>(n_prefill) / rows;
      stats_.decode_seconds += dt * static_cast<double>(n_decode) / rows;
    }
    ++stats_.steps;
    stats_.kv_bytes_in_use = 0;
    for (auto& sp : slots_) {
      const KvCache& kc = sp->cache;
      for (int l = 0; l < c.n_layer; ++l)
        stats_.kv_bytes_in_use += static_cast<uint64_t>(std::min(kc.n_past(), kc.capacity(l))) *
                                  kc.kv_width(l) * 2 * (kc.is_f32() ? 4 : 2);
    }
  }
  for (Slot* s : ready) deliver(*s);
}

// Row i of the pass holds the logits after [last, d1..di]; d(i+1) is kept when the sampler picks
// it there. The token sampled at the first disagreement (or after the last draft) is the target's
// own and always emitted. Sampling each row from the target's distribution and keeping a draft
// only when it equals the sample is the rejection-sampling rule for a deterministic drafter, so
// the output follows the target's distribution and, seed for seed, equals plain decoding.
void Engine::consume(Slot& s) {
  s.out.clear();
  s.accepted = 0;
  s.error.clear();
  const int64_t vocab = decoder_.config().vocab_size;
  try {
    for (size_t i = 0; i < s.batch.tokens.size(); ++i) {
      if (!s.batch.all_logits && i + 1 < s.batch.tokens.size()) continue;  // prefill rows
      const int64_t row = s.batch.all_logits ? static_cast<int64_t>(i) : 0;
      s.out.push_back(s.emit->take(&s.logits[row * vocab]));
      const bool match = s.decoding && i < s.drafts.size() && s.out.back().step.id == s.drafts[i];
      if (match) ++s.accepted;  // its row is in the cache, even if it ends the answer
      if (!match || s.emit->stop() != StopReason::kNone) break;
    }
  } catch (const std::exception& e) {
    s.error = e.what();
  }
}

void Engine::deliver(Slot& s) {
  if (s.decoding) {
    // Positions p .. p+k were written; keep the last token and the accepted drafts.
    const int64_t p = s.cache.n_past() - s.batch_rows;
    s.cached.push_back(s.last_token);
    s.cached.insert(s.cached.end(), s.drafts.begin(), s.drafts.begin() + s.accepted);
    if (s.cache.n_past() > p + 1 + s.accepted) s.cache.truncate(p + 1 + s.accepted);
    s.policy.observe(static_cast<int>(s.drafts.size()), s.accepted);
    s.result.drafted += static_cast<int64_t>(s.drafts.size());
    s.result.accepted += s.accepted;
  }
  if (!s.error.empty()) {
    s.cache.clear();
    s.cached.clear();
    finish_slot(s, StopReason::kError, s.error);
    return;
  }
  if (s.job->handle->cancelled()) {
    finish_slot(s, StopReason::kCancelled);
    return;
  }
  if (!s.got_first && !s.out.empty()) {
    s.got_first = true;
    s.first_token = Clock::now();
    if (on_first_token_) on_first_token_(seconds_between(s.job->queued_at, s.first_token));
  }
  for (const EngineToken& t : s.out) {
    s.result.generated.push_back(t.step.id);
    s.result.steps.push_back(t.step);
    s.result.text += t.text;
  }
  if (drafter_ && !s.out.empty()) {
    const int64_t d = decoder_.config().n_embd;
    const int64_t row = s.batch.all_logits ? s.accepted : 0;
    s.hidden.assign(s.hidden_out.begin() + row * d, s.hidden_out.begin() + (row + 1) * d);
  }
  const int32_t last = s.out.empty() ? s.last_token : s.out.back().step.id;
  s.job->handle->push(s.out);
  if (s.emit->stop() != StopReason::kNone) {
    finish_slot(s, s.emit->stop());
  } else if (s.cache.n_past() >= s.cache.n_ctx()) {
    finish_slot(s, StopReason::kLength);
  } else {
    s.last_token = last;
    s.decoding = true;
  }
}

void Engine::finish_slot(Slot& s, StopReason reason, const std::string& error) {
  if (!s.job) return;
  if (s.emit && reason != StopReason::kError) {
    EngineToken t;  // text held back for a stop string that never came
    t.step.id = -1;
    t.text = s.emit->flush();
    if (!t.text.empty()) {
      s.result.text += t.text;
      std::vector<EngineToken> one;
      one.push_back(std::move(t));
      s.job->handle->push(one);
    }
  }
  s.result.stop_reason = reason;
  s.result.error = error;
  const auto now = Clock::now();
  if (s.got_first) {
    s.result.generation_seconds = seconds_between(s.first_token, now);
  } else if (!s.decoding) {
    s.result.prompt_seconds = seconds_between(s.started, now);
  }
  if (reason == StopReason::kError) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.failed_requests;
  }
  s.job->handle->finish(std::move(s.result));
  s.result = EngineResult{};
  s.emit.reset();
  s.decoding = false;
  s.hidden.clear();
  s.last_used = ++use_clock_;
  std::lock_guard<std::mutex> lock(mu_);
  s.job.reset();
}

// ---------------------------------------------------------------------------------------------

EngineResult generate(Engine& engine, EngineRequest request,
                      const std::function<bool(const EngineToken&)>& on_token,
                      const std::atomic<bool>* cancel) {
  std::shared_ptr<RequestHandle> h = engine.submit(std::move(request));
  if (!h) fail("the engine is busy or shutting down");
  for (;;) {
    bool done = false;
    std::vector<EngineToken> tokens = h->wait(std::chrono::milliseconds(20), done);
    for (const EngineToken& t : tokens)
      if (on_token && !on_token(t)) h->cancel();
    if (cancel && cancel->load()) h->cancel();
    if (done) return h->result();
  }
}

}  // namespace ug
