// `unigemma bench --assistant`, `--parallel` and `--json-schema`: what the engine adds on top of
// the decoder — speculative decoding with the MTP assistant, many concurrent requests sharing each
// pass, and structured output (the grammar mask at every step).
#include <algorithm>
#include <cstdio>
#include <fstream>

#include "base/error.h"
#include "model/decoder.h"
#include "runtime/bench_runner.h"
#include "runtime/bench_util.h"
#include "runtime/engine.h"
#include "runtime/model_loader.h"
#include "runtime/output_constraint.h"
#include "runtime/prefill.h"

namespace ug {

namespace {

std::string fmt(const char* f, double a, double b = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

EngineRequest greedy_request(std::vector<int32_t> prompt, int max_tokens, int draft) {
  EngineRequest r;
  r.prompt.tokens = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.draft = draft;
  return r;  // no stop tokens: random weights would stop anywhere
}

}  // namespace

void bench_speculative(const LoadedModel& model, Decoder& dec, const BenchOptions& o,
                       BenchReport& rep, const std::function<void(const std::string&)>& say) {
  if (!model.assistant) fail("bench: --assistant did not load");
  const Gemma4Config& c = model.weights->config;
  uint64_t rng = o.seed * 0x51ED2701ull + 7;
  const int kmax = std::clamp(o.draft_max, 1, 8);

  // 1. One verification pass of k+1 rows against one decode step, alternating, on a cache that
  // already holds a prompt (the passes are cut back after each measurement).
  {
    const int64_t depth = 128;
    KvCache cache(c, depth + kmax + 2, kmax + 1);
    Prompt p;
    p.tokens = random_tokens(depth, c, rng);
    std::vector<float> logits;
    prefill(dec, cache, p, o.ubatch, logits);
    std::vector<std::vector<double>> secs(kmax + 1);  // [k]: a pass of k+1 rows
    for (int r = 0; r <= o.reps; ++r)
      for (int k = 0; k <= kmax; ++k) {
        Batch b;
        b.tokens = random_tokens(k + 2, c, rng);
        b.tokens.erase(b.tokens.begin());  // no BOS
        b.all_logits = k > 0;              // a verification pass needs every row's logits
        auto t0 = BenchClock::now();
        dec.forward(b, cache, logits);
        if (r > 0) secs[k].push_back(since(t0));  // r = 0: warm-up
        cache.truncate(depth);
      }
    const double one = median(secs[0]);
    for (int k = 1; k <= kmax; ++k) {
      BenchResult x = summarize("verify" + std::to_string(k + 1), k + 1, secs[k], true);
      x.ratio = median(secs[k]) / one;
      x.ratio_of = "one decode step";
      rep.results.push_back(x);
      say(x.test + ": " + fmt("%.1f ms, %.3fx one decode step", 1e3 * median(secs[k]), x.ratio));
    }
  }

  // 2. Decode through the engine without drafting, with the adaptive drafter and with a fixed
  // draft length, alternating repetitions; one engine each (same weights).
  const int n = std::max(o.gen_tokens, 16);
  EngineOptions eo;
  eo.parallel = 1;
  eo.n_ctx = 64 + n + 16;
  eo.threads = o.threads;
  eo.draft_max = kmax;
  Engine plain(model.weights, model.tokenizer, eo);
  Engine adaptive(model.weights, model.tokenizer, eo, assistant_drafter(model.assistant));
  EngineOptions fixed_eo = eo;
  fixed_eo.draft_fixed = true;
  Engine fixed(model.weights, model.tokenizer, fixed_eo, assistant_drafter(model.assistant));
  struct Arm {
    const char* name;
    Engine* engine;
    std::vector<double> secs;
    int64_t drafted = 0, accepted = 0;
  };
  std::vector<Arm> arms = {
      {"plain", &plain, {}}, {"draft_adaptive", &adaptive, {}}, {"draft_fixed", &fixed, {}}};
  for (int r = 0; r <= o.reps; ++r) {
    const std::vector<int32_t> prompt = random_tokens(64, c, rng);
    for (Arm& a : arms) {
      EngineResult res = generate(*a.engine, greedy_request(prompt, n, -1));
      if (static_cast<int>(res.generated.size()) != n)
        fail("bench: a speculative run generated ", res.generated.size(), " of ", n, " tokens");
      if (r == 0) continue;  // warm-up
      a.secs.push_back(res.generation_seconds * n / std::max<int64_t>(1, n - 1));
      a.drafted += res.drafted;
      a.accepted += res.accepted;
    }
  }
  const double base = median(arms[0].secs);
  for (const Arm& a : arms) {
    BenchResult x = summarize("tg" + std::to_string(n) + "_" + a.name, n, a.secs, false);
    if (&a != &arms[0]) {
      x.ratio = base / median(a.secs);
      x.ratio_of = "decode without drafting";
      x.acceptance = a.drafted ? double(a.accepted) / double(a.drafted) : 0;
    }
    rep.results.push_back(x);
    say(x.test + ": " + fmt("%.2f tokens/s", x.tokens_per_second) +
        (x.ratio > 0 ? fmt(" (%.3fx plain), %.1f%% accepted", x.ratio, 100 * x.acceptance) : ""));
  }
}

void bench_parallel(const LoadedModel& model, const BenchOptions& o, BenchReport& rep,
                    const std::function<void(const std::string&)>& say) {
  const Gemma4Config& c = model.weights->config;
  uint64_t rng = o.seed * 0x2545F491ull + 11;
  const int n = std::max(o.gen_tokens, 8);
  const int prompt_len = 32;
  int max_streams = 1;
  for (int p : o.parallel) max_streams = std::max(max_streams, p);
  if (max_streams > 64) fail("bench: --parallel is at most 64");
  EngineOptions eo;
  eo.parallel = max_streams + 1;  // one more slot for the time-to-first-token probe
  eo.n_ctx = prompt_len + n + 160;
  eo.threads = o.threads;
  eo.max_queue = 0;
  Engine engine(model.weights, model.tokenizer, eo);
  generate(engine, greedy_request(random_tokens(prompt_len, c, rng), 4, 0));  // warm-up

  // Aggregate decode rate: tokens over the engine's decode time (prefill rows excluded).
  auto aggregate = [&](int streams) {
    const EngineStats before = engine.stats();
    std::vector<std::shared_ptr<RequestHandle>> hs;
    for (int i = 0; i < streams; ++i)
      hs.push_back(engine.submit(greedy_request(random_tokens(prompt_len, c, rng), n, 0)));
    for (auto& h : hs) {
      if (!h) fail("bench: the engine refused a request");
      bool done = false;
      while (!done) h->wait(std::chrono::milliseconds(100), done);
    }
    const EngineStats after = engine.stats();
    return double(after.generated_tokens - before.generated_tokens) /
           (after.decode_seconds - before.decode_seconds);
  };
  std::vector<int> counts = {1};
  for (int p : o.parallel)
    if (p > 1) counts.push_back(p);
  std::vector<std::vector<double>> rates(counts.size());
  for (int r = 0; r < std::max(1, o.reps); ++r)
    for (size_t i = 0; i < counts.size(); ++i) rates[i].push_back(aggregate(counts[i]));
  double pp = 0;
  for (const BenchResult& x : rep.results)
    if (x.test == "pp128") pp = x.tokens_per_second;
  const double one = median(rates[0]);
  for (size_t i = 0; i < counts.size(); ++i) {
    BenchResult x;
    x.test = "engine" + std::to_string(counts[i]) + "_tg" + std::to_string(n);
    x.tokens = static_cast<int64_t>(n) * counts[i];
    x.reps = static_cast<int>(rates[i].size());
    std::tie(x.tokens_per_second, x.sd) = mean_sd(rates[i]);
    x.tokens_per_second = median(rates[i]);
    if (counts[i] > 1) {
      const double ceiling = pp > 0 ? std::min(counts[i] * one, pp) : counts[i] * one;
      x.ratio = x.tokens_per_second / ceiling;
      x.ratio_of = pp > 0 ? "min(N x one stream, pp128)" : "N x one stream (add -p 128 for pp128)";
    }
    rep.results.push_back(x);
    say(x.test + ": " + fmt("%.2f tokens/s aggregate", x.tokens_per_second) +
        (x.ratio > 0 ? fmt(" (%.3f of the ceiling)", x.ratio) : ""));
  }

  // Time to first token of a 128-token prompt, alone and while `busy` others stream.
  const int busy = max_streams;
  auto ttft = [&](int others) {
    std::vector<std::shared_ptr<RequestHandle>> hs;
    for (int i = 0; i < others; ++i)
      hs.push_back(engine.submit(greedy_request(random_tokens(prompt_len, c, rng), n + 100, 0)));
    // Wait until they all decode (each has its first token).
    for (auto& h : hs) {
      bool done = false;
      while (h->wait(std::chrono::milliseconds(5), done).empty() && !done) {
      }
    }
    auto t0 = BenchClock::now();
    auto probe = engine.submit(greedy_request(random_tokens(128, c, rng), 1, 0));
    if (!probe) fail("bench: the engine refused the probe request");
    bool done = false;
    while (!done) probe->wait(std::chrono::milliseconds(1), done);
    const double t = since(t0);
    for (auto& h : hs) h->cancel();
    for (auto& h : hs) {
      bool d = false;
      while (!d) h->wait(std::chrono::milliseconds(50), d);
    }
    return t;
  };
  std::vector<double> alone, loaded;
  for (int r = 0; r < std::max(1, o.reps); ++r) {
    alone.push_back(ttft(0));
    loaded.push_back(ttft(busy));
  }
  rep.results.push_back(summarize("ttft_p128_alone", 128, alone, true));
  BenchResult x =
      summarize("ttft_p128_with_" + std::to_string(busy) + "_streams", 128, loaded, true);
  x.ratio = median(loaded) / median(alone);
  x.ratio_of = "alone";
  rep.results.push_back(x);
  say(x.test + ": " + fmt("%.3f s (%.2fx alone)", median(loaded), x.ratio));
}

void bench_constrained(const LoadedModel& model, const BenchOptions& o, BenchReport& rep,
                       const std::function<void(const std::string&)>& say) {
  const Gemma4Config& c = model.weights->config;
  OutputSpec spec;
  spec.kind = OutputSpec::Kind::kJsonSchema;
  {
    std::ifstream in(o.json_schema);
    if (!in) fail("bench: --json-schema: cannot open ", o.json_schema);
    try {
      spec.schema = nlohmann::ordered_json::parse(in);
    } catch (const std::exception& e) {
      fail("bench: --json-schema: ", o.json_schema, " is not valid JSON: ", e.what());
    }
  }
  // The first constraint builds the vocabulary tables and compiles; later ones hit the cache.
  auto t0 = BenchClock::now();
  make_constraint(spec, model.tokenizer);
  const double first = since(t0);
  rep.results.push_back(summarize("json_schema_first_compile", 0, {first}, true));
  say("json_schema_first_compile (vocabulary tables + compile): " + fmt("%.3f s", first));

  // Greedy decode of the same prompt with and without the constraint, alternating which goes
  // first; time per token after the first (generation_seconds excludes the prefill's token).
  const int n = std::max(o.gen_tokens, 16);
  EngineOptions eo;
  eo.parallel = 1;
  eo.n_ctx = 64 + n + 16;
  eo.threads = o.threads;
  Engine engine(model.weights, model.tokenizer, eo);
  uint64_t rng = o.seed * 0x9E3779B9ull + 13;
  std::vector<double> plain, constrained;  // seconds per token
  int64_t constrained_tokens = 0;
  for (int r = 0; r <= o.reps; ++r) {
    const std::vector<int32_t> prompt = random_tokens(64, c, rng);
    for (int k = 0; k < 2; ++k) {
      const bool with = (k + r) % 2 == 1;
      EngineRequest q = greedy_request(prompt, n, 0);
      if (with) {
        q.constraint = make_constraint(spec, model.tokenizer);
        q.stop_ids = c.stop_ids;  // the grammar ends with an end token
      }
      EngineResult res = generate(engine, std::move(q));
      if (res.stop_reason == StopReason::kError) fail("bench: --json-schema: ", res.error);
      const int64_t steps = static_cast<int64_t>(res.generated.size()) - 1;
      if (r == 0 || steps < 4) continue;  // warm-up; too short to time
      (with ? constrained : plain).push_back(res.generation_seconds / static_cast<double>(steps));
      if (with) constrained_tokens += steps + 1;
    }
  }
  if (plain.empty() || constrained.empty())
    fail(
        "bench: --json-schema: the constrained answers ended within 4 tokens; use -n higher or a "
        "schema with longer answers");
  auto scaled = [&](std::vector<double> v) {
    for (double& x : v) x *= n;
    return v;
  };
  BenchResult a = summarize("tg" + std::to_string(n) + "_free", n, scaled(plain), false);
  BenchResult b =
      summarize("tg" + std::to_string(n) + "_json_schema", n, scaled(constrained), false);
  b.ratio = median(constrained) / median(plain);
  b.ratio_of = "decode time per token without the constraint";
  rep.results.push_back(a);
  rep.results.push_back(b);
  say(b.test + ": " +
      fmt("%.2f tokens/s, %.4fx the time per token of free decoding", b.tokens_per_second,
          b.ratio) +
      fmt(" (overhead %+.2f %%; %.0f constrained tokens timed)", 100 * (b.ratio - 1),
          static_cast<double>(constrained_tokens)));
}

}  // namespace ug
