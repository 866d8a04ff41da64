#include "runtime/bench_runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "base/error.h"
#include "kernels/bandwidth.h"
#include "model/decoder.h"
#include "runtime/bench_sequences.h"
#include "runtime/bench_util.h"
#include "runtime/model_loader.h"
#include "runtime/multimodal.h"
#include "runtime/prefill.h"

namespace ug {

namespace {

using Clock = BenchClock;

void decode_tokens(Decoder& dec, KvCache& cache, int n, std::vector<int32_t> tokens,
                   std::vector<float>& logits) {
  for (int i = 0; i < n; ++i) {
    Batch b;
    b.tokens = {tokens[i]};
    dec.forward(b, cache, logits);
  }
}

// A matrix's bytes as stored in the file: a repacked one also reads its padding (0.5 % at the
// 12B shape), which the roofline must not count as useful.
uint64_t stored_bytes(const Matrix& m) {
  return m.data ? row_bytes(stored_dtype(m.type), m.dim(0)) * static_cast<uint64_t>(m.dim(1)) : 0;
}

uint64_t weight_bytes_per_token(const Gemma4Weights& w) {
  uint64_t b = stored_bytes(w.tok_embd);  // the tied LM head reads it all; the lookup one row
  for (const auto& L : w.layers)
    for (const Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      b += stored_bytes(*m);
  return b;
}

nlohmann::json model_json(const BenchOptions& o, const Gemma4Weights& w, uint64_t per_token) {
  std::map<std::string, uint64_t> by_type;
  uint64_t total = 0;
  auto add = [&](const Matrix& m) {
    if (!m.data) return;
    by_type[dtype_name(stored_dtype(m.type))] += stored_bytes(m);
    total += stored_bytes(m);
  };
  add(w.tok_embd);
  for (const auto& L : w.layers)
    for (const Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) add(*m);
  std::string main;
  uint64_t best = 0;
  for (const auto& [t, b] : by_type)
    if (b > best) best = b, main = t;
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [t, b] : by_type) types[t] = b;
  const Gemma4Config& c = w.config;
  return {{"path", o.model},
          {"mmproj", o.mmproj},
          {"format", w.format},
          {"type", main},
          {"matrix_bytes_by_type", types},
          {"matrix_bytes", total},
          {"weight_bytes_per_token", per_token},
          {"text_params", c.text_param_count()},
          {"n_layer", c.n_layer},
          {"n_embd", c.n_embd},
          {"n_ff", c.n_ff},
          {"vocab_size", c.vocab_size},
          {"quantize_on_load", o.quantize ? dtype_name(*o.quantize) : ""},
          {"vision", w.vision.has_value()},
          {"audio", w.audio.has_value()}};
}

}  // namespace

BenchReport run_bench(const BenchOptions& o, const std::function<void(const std::string&)>& log) {
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  if (o.reps < 1) fail("bench: -r must be at least 1, got ", o.reps);
  for (int p : o.prompt_sizes)
    if (p < 1) fail("bench: prompt sizes must be positive, got ", p);
  if (o.gen_tokens < 0 || o.image_tokens < 0 || o.audio_seconds < 0)
    fail("bench: -n, --image-tokens and --audio-seconds must not be negative");
  for (int64_t d : o.depths)
    if (d < 1) fail("bench: depths (-d) must be positive, got ", d);
  if (!o.depths.empty() && o.gen_tokens == 0) fail("bench: -d needs -n > 0 (decode at that depth)");
  if (!o.sequences.empty() && o.gen_tokens == 0)
    fail("bench: --sequences needs -n > 0 (steps to decode)");
  for (int n : o.sequences)
    if (n < 1) fail("bench: --sequences takes counts of at least 1, got ", n);
  const int64_t max_d = o.depths.empty() ? 0 : *std::max_element(o.depths.begin(), o.depths.end());

  LoadOptions lo;
  lo.mmproj_path = o.mmproj;
  lo.quantize = o.quantize;
  lo.threads = o.threads;
  auto t_load = Clock::now();
  LoadedModel model = load_model(o.model, lo, o.assistant);
  say("loaded " + o.model + " in " + std::to_string(since(t_load)) + " s");
  const Gemma4Config& c = model.weights->config;
  if (o.image_tokens > 0 && !model.weights->vision)
    fail("bench: --image-tokens needs vision weights (for a GGUF model pass --mmproj)");
  if ((o.audio_seconds > 0 || o.live_audio_seconds > 0) && !model.weights->audio)
    fail("bench: --audio-seconds needs audio weights (for a GGUF model pass --mmproj)");
  const int64_t max_p =
      o.prompt_sizes.empty() ? 0 : *std::max_element(o.prompt_sizes.begin(), o.prompt_sizes.end());
  if (max_p + 1 > c.context_length || max_d + o.gen_tokens + 1 > c.context_length)
    fail("bench: the tests need more positions than the model's context length ", c.context_length);

  Decoder dec(model.weights, o.threads);
  BenchReport rep;
  rep.threads = dec.pool().size();
  rep.weight_bytes_per_token = weight_bytes_per_token(*model.weights);
  rep.model = model_json(o, *model.weights, rep.weight_bytes_per_token);
  uint64_t rng = o.seed * 0x9E3779B97F4A7C15ull + 1;
  // Read bandwidth now, in GB/s (0 without a measure): over the largest weight matrix, whose
  // pages the warm-up has brought in, unless a buffer size was given.
  const Matrix* largest = &model.weights->tok_embd;
  for (const auto& L : model.weights->layers)
    for (const Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      if (m->data && m->nbytes > largest->nbytes) largest = m;
  auto bandwidth = [&]() -> double {
    if (!o.bandwidth) return 0.0;
    if (o.bandwidth_bytes > 0) return measure_read_bandwidth_gbps(dec.pool(), o.bandwidth_bytes);
    return measure_read_bandwidth_gbps(dec.pool(), largest->data, largest->nbytes);
  };
  std::vector<float> logits;

  // One warm-up (page-in of the mapped weights, thread start-up, scratch growth), untimed.
  {
    const int64_t n = std::max<int64_t>(1, std::min<int64_t>(max_p ? max_p : 16, 64));
    KvCache cache(c, n + 2);
    Prompt p;
    p.tokens = random_tokens(n, c, rng);
    prefill(dec, cache, p, o.ubatch, logits);
    decode_tokens(dec, cache, 1, {p.tokens.back()}, logits);
    say("warm-up done");
  }

  for (int p : o.prompt_sizes) {
    std::vector<double> secs;
    for (int r = 0; r < o.reps; ++r) {
      KvCache cache(c, p + 1);
      Prompt pr;
      pr.tokens = random_tokens(p, c, rng);
      auto t0 = Clock::now();
      prefill(dec, cache, pr, o.ubatch, logits);
      secs.push_back(since(t0));
    }
    rep.results.push_back(summarize("pp" + std::to_string(p), p, secs, false));
    say(rep.results.back().test + ": " + std::to_string(rep.results.back().tokens_per_second) +
        " tokens/s");
  }

  std::vector<double> roofline_ratios;
  if (o.gen_tokens > 0) {
    std::vector<double> secs;
    for (int r = 0; r < o.reps; ++r) {
      KvCache cache(c, o.gen_tokens + 1);
      auto toks = random_tokens(o.gen_tokens, c, rng);
      const double bw = bandwidth();
      auto t0 = Clock::now();
      decode_tokens(dec, cache, o.gen_tokens, toks, logits);
      secs.push_back(since(t0));
      if (bw > 0) {
        rep.bandwidth_samples.push_back(bw);
        roofline_ratios.push_back(static_cast<double>(rep.weight_bytes_per_token) * o.gen_tokens /
                                  secs.back() / (bw * 1e9));
      }
    }
    rep.results.push_back(
        summarize("tg" + std::to_string(o.gen_tokens), o.gen_tokens, secs, false));
    say(rep.results.back().test + ": " + std::to_string(rep.results.back().tokens_per_second) +
        " tokens/s");
  }

  for (const int n : o.sequences) {
    const auto secs = time_sequences(dec, n, o.gen_tokens, o.reps, rng);
    rep.results.push_back(summarize("tg" + std::to_string(o.gen_tokens) + "x" + std::to_string(n),
                                    static_cast<int64_t>(n) * o.gen_tokens, secs, false));
    say(rep.results.back().test + ": " + std::to_string(rep.results.back().tokens_per_second) +
        " tokens/s in all");
  }

  for (const int64_t depth : o.depths) {
    // Filled once; each repetition decodes from depth d and is then cut back to d (the sliding
    // layers keep enough positions for that), so a repetition never re-fills 32k tokens.
    KvCache cache(c, depth + o.gen_tokens + 1, std::max(256, o.gen_tokens + 1));
    Prompt fill;
    fill.tokens = random_tokens(depth, c, rng);
    auto t_fill = Clock::now();
    if (o.synthetic_depth) {
      cache.advance(depth);
    } else {
      prefill(dec, cache, fill, o.ubatch, logits);
    }
    say(std::string(o.synthetic_depth ? "marked" : "filled") + " the cache to depth " +
        std::to_string(depth) + " in " + std::to_string(since(t_fill)) + " s");
    std::vector<double> secs;
    for (int r = 0; r <= o.reps; ++r) {  // r = 0: warm-up at depth
      auto toks = random_tokens(o.gen_tokens, c, rng);
      auto t0 = Clock::now();
      decode_tokens(dec, cache, r == 0 ? 1 : o.gen_tokens, toks, logits);
      if (r > 0) secs.push_back(since(t0));
      cache.truncate(depth);
    }
    rep.results.push_back(
        summarize("tg" + std::to_string(o.gen_tokens) + "@d" + std::to_string(depth), o.gen_tokens,
                  secs, false));
    say(rep.results.back().test + ": " + std::to_string(rep.results.back().tokens_per_second) +
        " tokens/s");
  }

  auto ttft = [&](const std::string& name, const std::string& text, MediaInput in,
                  MediaOptions mo) {
    std::vector<double> secs;
    int64_t rows = 0;
    for (int r = 0; r <= o.reps; ++r) {  // r = 0: warm-up
      auto t0 = Clock::now();
      Prompt pr = build_multimodal_prompt(model, dec.pool(), text, {in}, mo);
      KvCache cache(c, static_cast<int64_t>(pr.tokens.size()) + 1);
      prefill(dec, cache, pr, o.ubatch, logits);
      if (r > 0) secs.push_back(since(t0));
      rows = static_cast<int64_t>(pr.tokens.size());
    }
    rep.results.push_back(summarize(name, rows, secs, true));
    say(name + ": " + std::to_string(rep.results.back().seconds) + " s (" + std::to_string(rows) +
        " prompt rows)");
  };
  if (o.image_tokens > 0) {
    MediaInput in;
    in.kind = MediaInput::Image;
    in.bytes = synthetic_bmp(1024, 768);
    in.name = "synthetic 1024x768 image";
    MediaOptions mo;
    mo.image_tokens = o.image_tokens;
    ttft("ttft_image" + std::to_string(o.image_tokens), "<|image|>Describe this image.", in, mo);
  }
  if (o.audio_seconds > 0) {
    MediaInput in;
    in.kind = MediaInput::Audio;
    in.bytes = synthetic_wav(o.audio_seconds);
    in.name = "synthetic tone";
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", o.audio_seconds);
    ttft(std::string("ttft_audio") + secs, "<|audio|>Transcribe this audio.", in, MediaOptions{});
  }

  if (!o.assistant.empty()) bench_speculative(model, dec, o, rep, say);
  if (!o.parallel.empty()) bench_parallel(model, o, rep, say);
  if (o.live_audio_seconds > 0) bench_live_audio(model, o, rep, say);
  if (!o.json_schema.empty()) bench_constrained(model, o, rep, say);

  if (o.bandwidth && rep.bandwidth_samples.empty()) rep.bandwidth_samples.push_back(bandwidth());
  if (!rep.bandwidth_samples.empty()) rep.bandwidth_gb_per_s = median(rep.bandwidth_samples);
  if (!roofline_ratios.empty()) rep.decode_roofline_fraction = median(roofline_ratios);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  rep.peak_rss_bytes = static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
  return rep;
}

nlohmann::json bench_to_json(const BenchReport& r) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& x : r.results) {
    nlohmann::json j = {{"test", x.test}, {"tokens", x.tokens}, {"reps", x.reps}};
    if (x.ratio > 0) {
      j["ratio"] = x.ratio;
      j["ratio_of"] = x.ratio_of;
    }
    if (x.acceptance >= 0) j["acceptance"] = x.acceptance;
    if (x.latency) {
      j["seconds"] = x.seconds;
      j["sd"] = x.seconds_sd;
    } else {
      j["tokens_per_second"] = x.tokens_per_second;
      j["sd"] = x.sd;
      j["seconds"] = x.seconds;
    }
    results.push_back(std::move(j));
  }
  return {{"results", results},
          {"peak_rss_bytes", r.peak_rss_bytes},
          {"bandwidth_gb_per_s", r.bandwidth_gb_per_s},
          {"bandwidth_samples_gb_per_s", r.bandwidth_samples},
          {"decode_roofline_fraction", r.decode_roofline_fraction},
          {"weight_bytes_per_token", r.weight_bytes_per_token},
          {"threads", r.threads},
          {"model", r.model}};
}

std::string bench_to_table(const BenchReport& r) {
  auto fmt = [](const char* f, auto... v) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, v...);
    return std::string(buf);
  };
  const std::string path = r.model.value("path", "");
  const std::string type = r.model.value("type", "");
  const double gib = r.model.value("matrix_bytes", uint64_t(0)) / 1073741824.0;
  const double params = r.model.value("text_params", int64_t(0)) / 1e9;
  std::string s =
      "| model | type | size | params | threads | test | result |\n"
      "| --- | --- | ---: | ---: | ---: | --- | ---: |\n";
  for (const auto& x : r.results) {
    s += fmt("| %s | %s | %.2f GiB | %.2f B | %d | %s | ", path.c_str(), type.c_str(), gib, params,
             r.threads, x.test.c_str());
    s += x.latency ? fmt("%.3f ± %.3f s", x.seconds, x.seconds_sd)
                   : fmt("%.2f ± %.2f t/s", x.tokens_per_second, x.sd);
    if (x.ratio > 0) s += fmt(" (%.2f× %s)", x.ratio, x.ratio_of.c_str());
    if (x.acceptance >= 0) s += fmt(", %.0f%% of drafts accepted", 100 * x.acceptance);
    s += " |\n";
  }
  s += fmt("\npeak RSS %.1f MiB; weights read per token %.1f MiB", r.peak_rss_bytes / 1048576.0,
           r.weight_bytes_per_token / 1048576.0);
  if (!r.bandwidth_samples.empty()) {
    const auto [lo, hi] =
        std::minmax_element(r.bandwidth_samples.begin(), r.bandwidth_samples.end());
    s += fmt("; read bandwidth %.2f GB/s (median of %zu, %.1f-%.1f)", r.bandwidth_gb_per_s,
             r.bandwidth_samples.size(), *lo, *hi);
  }
  if (r.decode_roofline_fraction > 0)
    s +=
        fmt("; decode at %.1f%% of the bandwidth roofline (median of each repetition against "
            "the bandwidth measured just before it)",
            100 * r.decode_roofline_fraction);
  // Decode at each depth against the shallowest depth measured (the 32K-vs-512 goal).
  const BenchResult* base = nullptr;
  for (const auto& x : r.results)
    if (x.test.find("@d") != std::string::npos && !base) base = &x;
  for (const auto& x : r.results)
    if (base && &x != base && x.test.find("@d") != std::string::npos)
      s += fmt("\n%s is %.1f%% of %s", x.test.c_str(),
               100 * x.tokens_per_second / base->tokens_per_second, base->test.c_str());
  // Batched decode (--sequences) against N × one sequence and against the prefill rate.
  const BenchResult *one = nullptr, *pp = nullptr;
  for (const auto& x : r.results) {
    if (x.test.size() > 2 && x.test.compare(x.test.size() - 2, 2, "x1") == 0) one = &x;
    if (x.test.rfind("pp", 0) == 0 && (!pp || x.tokens == 128)) pp = &x;
  }
  for (const auto& x : r.results) {
    const size_t at = x.test.rfind('x');
    if (x.test.rfind("tg", 0) != 0 || at == std::string::npos || &x == one) continue;
    const int n = std::atoi(x.test.c_str() + at + 1);
    s += fmt("\n%s: %.2f t/s in all", x.test.c_str(), x.tokens_per_second);
    if (one)
      s += fmt(", %.2f× one sequence (%.0f%% of %d×)", x.tokens_per_second / one->tokens_per_second,
               100 * x.tokens_per_second / (n * one->tokens_per_second), n);
    if (pp)
      s += fmt(", %.0f%% of %s", 100 * x.tokens_per_second / pp->tokens_per_second,
               pp->test.c_str());
  }
  return s + "\n";
}

}  // namespace ug
