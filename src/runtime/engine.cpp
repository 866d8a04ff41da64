#include "runtime/engine.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "runtime/prefix_cache.h"
#include "runtime/token_emitter.h"

namespace ug {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
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

void RequestHandle::push(EngineToken t) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(t));
  }
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
};

struct Engine::Slot {
  Slot(const Gemma4Config& c, int64_t n_ctx, int64_t rollback) : cache(c, n_ctx, rollback) {}

  KvCache cache;
  std::vector<int32_t> cached;  // prefix key of every position in the cache (size n_past)
  uint64_t last_used = 0;

  // The request being served (null: free) and its progress.
  std::unique_ptr<Job> job;
  std::vector<int32_t> keys;  // prompt rows as prefix keys
  int64_t next_row = 0;       // next prompt row to compute
  bool decoding = false;      // the prompt is done; last_token goes in next
  int32_t last_token = 0;
  std::optional<Sampler> sampler;
  std::optional<StopText> text;  // generated text, held back while it may start a stop string
  std::vector<int32_t> history;  // prompt + generated, for the penalties
  EngineResult result;
  Clock::time_point started, first_token;
  bool got_first = false;

  // This step's input and output.
  Batch batch;
  std::vector<float> logits;
  int64_t batch_rows = 0;
  EngineToken drawn;
  std::vector<float> raw;  // logits before the sampler changed them (for logprobs)
};

Engine::Engine(std::shared_ptr<const Gemma4Weights> weights,
               std::shared_ptr<const Tokenizer> tokenizer, EngineOptions options)
    : opt_(options), tok_(std::move(tokenizer)), decoder_(std::move(weights), options.threads) {
  const Gemma4Config& c = decoder_.config();
  if (opt_.parallel < 1 || opt_.parallel > 256)
    fail("--parallel ", opt_.parallel, ": expected 1 to 256 slots");
  if (opt_.n_ctx < 2) fail("context size ", opt_.n_ctx, " is too small (at least 2 tokens)");
  opt_.n_ctx = std::min<int64_t>(opt_.n_ctx, c.context_length);
  opt_.step_tokens = std::max(opt_.step_tokens, opt_.parallel);
  opt_.max_queue = std::max(opt_.max_queue, 0);
  for (int i = 0; i < opt_.parallel; ++i)
    slots_.push_back(std::make_unique<Slot>(c, opt_.n_ctx, opt_.rollback));
  stats_.slots = opt_.parallel;
  for (auto& s : slots_) stats_.kv_bytes_allocated += s->cache.bytes();
  thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  shut_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& s : slots_)
    if (s->job) finish_slot(*s, "cancelled");
  for (auto& j : queue_) {
    EngineResult r;
    r.stop_reason = "cancelled";
    r.prompt_tokens = static_cast<int64_t>(j->req.prompt.tokens.size());
    j->handle->finish(std::move(r));
  }
}

std::shared_ptr<RequestHandle> Engine::submit(EngineRequest req) {
  const int64_t n = static_cast<int64_t>(req.prompt.tokens.size());
  if (n == 0) fail("the prompt is empty");
  if (n >= opt_.n_ctx)
    fail("the prompt has ", n, " tokens; the context holds ", opt_.n_ctx,
         " (a prompt must be shorter than the context to leave room for an answer)");
  if (!req.prompt.soft.empty() && static_cast<int64_t>(req.prompt.soft.size()) != n)
    fail("prompt has ", n, " tokens but ", req.prompt.soft.size(), " soft-token rows");
  for (int32_t t : req.prompt.tokens)
    if (t < 0 || t >= decoder_.config().vocab_size)
      fail("token id ", t, " is outside the vocabulary (0..", decoder_.config().vocab_size - 1,
           ")");
  const int64_t room = opt_.n_ctx - n;
  if (req.max_tokens <= 0 || req.max_tokens > room) req.max_tokens = static_cast<int>(room);

  auto job = std::make_unique<Job>();
  job->req = std::move(req);
  job->handle = std::make_shared<RequestHandle>();
  job->queued_at = Clock::now();
  auto handle = job->handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || shutdown_) return nullptr;
    int free = 0;
    for (auto& s : slots_) free += s->job ? 0 : 1;
    // Slots are only read here under mu_; the engine thread changes `job` under mu_ as well.
    if (static_cast<int>(queue_.size()) >= opt_.max_queue + free) return nullptr;
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
  return handle;
}

void Engine::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
  std::unique_lock<std::mutex> lock(mu_);
  shut_cv_.wait(lock, [&] { return shut_down_ || stop_; });
}

EngineStats Engine::stats() const {
  EngineStats out;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    out = stats_;
  }
  // Slots change hands under mu_, so these two are exact at this moment.
  std::lock_guard<std::mutex> lock(mu_);
  out.queued = static_cast<int>(queue_.size());
  out.active = 0;
  for (const auto& s : slots_) out.active += s->job ? 1 : 0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The engine thread

void Engine::run() {
  for (;;) {
    bool ending = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        if (stop_ || (shutdown_ && !shut_down_) || !queue_.empty()) return true;
        for (auto& s : slots_)
          if (s->job) return true;
        return false;
      });
      if (stop_) return;
      ending = shutdown_ && !shut_down_;
      if (!ending) admit(lock);
    }
    if (ending) {
      end_all("shutdown");
      continue;
    }
    for (auto& s : slots_)
      if (s->job && s->job->handle->cancelled()) finish_slot(*s, "cancelled");
    step();
  }
}

// Moves queued requests into free slots, each into the slot that holds its longest usable
// prefix. Runs under mu_.
void Engine::admit(std::unique_lock<std::mutex>&) {
  while (!queue_.empty()) {
    std::unique_ptr<Job>& front = queue_.front();
    if (front->handle->cancelled()) {
      EngineResult r;
      r.stop_reason = "cancelled";
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
    if (choice.keep > 0) {
      s.cache.truncate(choice.keep);
    } else {
      s.cache.clear();
    }
    s.cached.resize(static_cast<size_t>(choice.keep));

    s.job = std::move(front);
    queue_.pop_front();
    const EngineRequest& rq = s.job->req;
    s.keys = std::move(keys);
    s.next_row = choice.keep;
    s.decoding = false;
    s.sampler.emplace(with_model_suppression(rq.sampling, decoder_.config()),
                      decoder_.config().vocab_size);
    s.text.emplace(*tok_, rq.stop_strings);
    s.history = rq.prompt.tokens;
    s.result = EngineResult{};
    s.result.prompt_tokens = static_cast<int64_t>(rq.prompt.tokens.size());
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

// One forward pass over every busy slot: decode rows first (one each), then prefill chunks in
// slot order with what is left of the step's row budget.
bool Engine::step() {
  std::vector<Slot*> in;
  int64_t budget = opt_.step_tokens;
  bool any_prefill = false, any_decode = false;
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.job || !s.decoding) continue;
    s.batch = Batch{};
    s.batch.tokens = {s.last_token};
    s.batch_rows = 1;
    --budget;
    in.push_back(&s);
    any_decode = true;
  }
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.job || s.decoding || budget <= 0) continue;
    const Prompt& p = s.job->req.prompt;
    const int64_t n = static_cast<int64_t>(p.tokens.size());
    const int64_t begin = s.next_row;
    int64_t end = std::min(n, begin + budget);
    // An image block is computed in one chunk: its attention is bidirectional.
    for (const auto& [b, e] : p.bidirectional)
      if (b < end && e > end) end = (b > begin) ? b : e;
    if (end - begin > budget && !in.empty()) continue;  // a whole block waits for a fuller step
    s.batch = Batch{};
    s.batch.tokens.assign(p.tokens.begin() + begin, p.tokens.begin() + end);
    if (!p.soft.empty()) {
      s.batch.embeddings.assign(end - begin, nullptr);
      for (int64_t i = begin; i < end; ++i)
        if (!p.soft[i].empty()) {
          if (static_cast<int64_t>(p.soft[i].size()) != decoder_.config().n_embd) {
            finish_slot(s, "error", "a soft token has the wrong width");
            break;
          }
          s.batch.embeddings[i - begin] = p.soft[i].data();
        }
      if (!s.job) continue;
    }
    for (const auto& [b, e] : p.bidirectional)
      if (b >= begin && e <= end) s.batch.bidirectional.emplace_back(b - begin, e - begin);
    s.batch_rows = end - begin;
    budget -= s.batch_rows;
    in.push_back(&s);
    any_prefill = true;
  }
  if (in.empty()) return false;

  std::vector<SequenceBatch> seqs;
  for (Slot* s : in) seqs.push_back({&s->batch, &s->cache, &s->logits, nullptr});
  auto t0 = Clock::now();
  try {
    decoder_.forward_multi(seqs);
  } catch (const std::exception& e) {
    for (Slot* s : in) {
      s->cache.clear();
      s->cached.clear();
      finish_slot(*s, "error", e.what());
    }
    return true;
  }
  const double dt = seconds_between(t0, Clock::now());

  uint64_t n_prefill = 0, n_decode = 0;
  std::vector<Slot*> ready;  // slots whose logits give their next token
  for (Slot* s : in) {
    if (s->decoding) {
      s->cached.push_back(s->last_token);
      ++n_decode;
    } else {
      s->cached.insert(s->cached.end(), s->keys.begin() + s->next_row,
                       s->keys.begin() + s->next_row + s->batch_rows);
      s->next_row += s->batch_rows;
      n_prefill += static_cast<uint64_t>(s->batch_rows);
      if (s->next_row < static_cast<int64_t>(s->keys.size())) continue;  // more prompt to go
      s->result.prompt_seconds = seconds_between(s->started, Clock::now());
    }
    ready.push_back(s);
  }
  // Sampling is O(vocab) per slot; the slots' samplers are independent, so they draw together.
  decoder_.pool().parallel_for(static_cast<int64_t>(ready.size()), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) draw(*ready[i]);
  });
  {
    // Counted before delivering: a client that has its answer must see it in /metrics.
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.prompt_tokens += n_prefill;
    stats_.generated_tokens += ready.size();  // one token drawn per ready slot

    // A mixed step's time is split between prefill and decode by rows.
    const double rows = static_cast<double>(n_prefill + n_decode);
    if (any_prefill) stats_.prefill_seconds += dt * n_prefill / rows;
    if (any_decode) stats_.decode_seconds += dt * n_decode / rows;
    ++stats_.steps;
    stats_.kv_bytes_in_use = 0;
    for (auto& sp : slots_) {
      const KvCache& c = sp->cache;
      for (int l = 0; l < decoder_.config().n_layer; ++l)
        stats_.kv_bytes_in_use += static_cast<uint64_t>(std::min(c.n_past(), c.capacity(l))) *
                                  c.kv_width(l) * 2 * (c.is_f32() ? 4 : 2);
    }
  }
  for (Slot* s : ready) deliver(*s);
  return true;
}

void Engine::draw(Slot& s) {
  const EngineRequest& rq = s.job->req;
  const int vocab = decoder_.config().vocab_size;
  s.drawn = EngineToken{};
  if (rq.top_logprobs > 0) s.drawn.step.top = top_logprobs(s.logits.data(), vocab, rq.top_logprobs);
  const bool lp = rq.logprobs || rq.top_logprobs > 0;
  if (lp) s.raw = s.logits;  // the sampler changes logits in place
  s.drawn.step.id = s.sampler->sample(s.logits.data(), s.history);
  if (lp) s.drawn.step.logprob = log_softmax_at(s.raw.data(), vocab, s.drawn.step.id);
}

void Engine::deliver(Slot& s) {
  const EngineRequest& rq = s.job->req;
  if (s.job->handle->cancelled()) {
    finish_slot(s, "cancelled");
    return;
  }
  EngineToken tok = std::move(s.drawn);
  const int32_t id = tok.step.id;
  if (!s.got_first) {
    s.got_first = true;
    s.first_token = Clock::now();
    if (on_first_token_) on_first_token_(seconds_between(s.job->queued_at, s.first_token));
  }
  s.result.generated.push_back(id);
  s.result.steps.push_back(tok.step);
  s.history.push_back(id);

  if (std::find(rq.stop_ids.begin(), rq.stop_ids.end(), id) != rq.stop_ids.end()) {
    s.job->handle->push(std::move(tok));
    finish_slot(s, "stop");
    return;
  }
  tok.text = s.text->push(id);
  s.result.text += tok.text;
  s.job->handle->push(std::move(tok));
  if (s.text->stopped()) {
    finish_slot(s, "stop");
  } else if (static_cast<int>(s.result.generated.size()) >= rq.max_tokens ||
             s.cache.n_past() >= s.cache.n_ctx()) {
    finish_slot(s, "length");
  } else {
    s.last_token = id;
    s.decoding = true;
  }
}

void Engine::end_all(const std::string& reason) {
  for (auto& s : slots_) finish_slot(*s, reason);
  std::deque<std::unique_ptr<Job>> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued.swap(queue_);
  }
  for (auto& j : queued) {
    EngineResult r;
    r.stop_reason = reason;
    r.prompt_tokens = static_cast<int64_t>(j->req.prompt.tokens.size());
    r.queue_seconds = seconds_between(j->queued_at, Clock::now());
    j->handle->finish(std::move(r));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
  }
  shut_cv_.notify_all();
}

void Engine::finish_slot(Slot& s, const std::string& reason, const std::string& error) {
  if (!s.job) return;
  if (s.text && !s.text->stopped() && reason != "error") {
    // Text held back for a stop string that never came.
    EngineToken t;
    t.step.id = -1;  // text only
    t.text = s.text->flush();
    if (!t.text.empty()) {
      s.result.text += t.text;
      s.job->handle->push(std::move(t));
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
  s.job->handle->finish(std::move(s.result));
  s.result = EngineResult{};
  s.sampler.reset();
  s.text.reset();
  s.history.clear();
  s.decoding = false;
  s.last_used = ++use_clock_;
  std::lock_guard<std::mutex> lock(mu_);
  s.job.reset();
}

}  // namespace ug
