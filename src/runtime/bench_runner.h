// `unigemma bench`: llama-bench's measurements for this engine — prefill and decode speed (mean ±
// sd over repetitions after a warm-up), decode at a context depth, time to first token for an
// image and for audio, peak memory, memory bandwidth and the decode roofline fraction.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/dtype.h"

namespace ug {

struct BenchOptions {
  std::string model;   // GGUF file or HF folder
  std::string mmproj;  // GGUF front end (needed for the image/audio tests of a GGUF model)
  std::vector<int> prompt_sizes{512};  // pp tests; empty: none
  int gen_tokens = 128;                // tg test; 0: none
  std::vector<int64_t> depths;         // also tg at each of these context depths (each > 0)
  // Also decode this many sequences at once, one row each per step (Decoder::forward_multi),
  // -n steps: "tg{n}x{N}", aggregate tokens/s (runtime/bench_sequences.h).
  std::vector<int> sequences;
  // Reach the depth by marking the (zeroed) cache as filled instead of prefilling it: decoding
  // reads and scores every cached position all the same, so the speed is the same, and a 32K
  // depth no longer costs a 32K-token prefill on a slow machine.
  bool synthetic_depth = false;
  int image_tokens = 0;      // > 0: time to first token for one image of this budget
  double audio_seconds = 0;  // > 0: time to first token for this much audio
  int threads = 0;
  int reps = 5;
  int ubatch = 512;               // prefill chunk
  std::optional<DType> quantize;  // quantize-on-load
  // The bandwidth measure reads the model's largest weight matrix (already in memory, so it adds
  // nothing to the peak RSS), or a fresh buffer of bandwidth_bytes when that is > 0.
  bool bandwidth = true;  // false: no measure
  uint64_t bandwidth_bytes = 0;
  uint64_t seed = 1;  // of the random prompt tokens
  // Speculative decoding (bench_engine.cpp): the MTP assistant (GGUF or HF folder). Reports decode
  // through the engine with and without drafting, the acceptance rate, and the cost of one
  // verification pass of k+1 tokens against one plain decode step, k = 1..draft_max.
  std::string assistant;
  int draft_max = 4;
  // Many users (bench_engine.cpp): aggregate decode speed of N concurrent requests through the
  // engine against one, and a new request's time to first token while N others stream.
  std::vector<int> parallel;
  // Live audio (bench_live.cpp): this many seconds of audio streamed in real time through an
  // open engine request, appended every live_chunk_seconds; reports the time from the end of the
  // audio to the first token, against the same clip sent whole when it ends.
  double live_audio_seconds = 0;
  double live_chunk_seconds = 0.5;
  // Structured output (bench_engine.cpp): a JSON Schema file. Reports the first constraint's
  // build (vocabulary tables + compile) and greedy decode through the engine with and without the
  // constraint, alternating, as the ratio of time per token.
  std::string json_schema;
};

struct BenchResult {
  std::string test;                      // pp512, tg128, tg128@d32768, ttft_image280, ttft_audio30
  int64_t tokens = 0;                    // tokens processed per repetition (prompt rows for ttft)
  double tokens_per_second = 0, sd = 0;  // throughput tests: mean and sd of per-rep rates
  double seconds = 0, seconds_sd = 0;    // mean and sd of per-rep times
  bool latency = false;                  // ttft tests report seconds
  int reps = 0;
  double ratio = 0;        // > 0: this result against `ratio_of` (measured in the same run)
  std::string ratio_of;    // what the ratio compares with
  double acceptance = -1;  // speculative tests: accepted / drafted tokens
};

struct BenchReport {
  std::vector<BenchResult> results;
  uint64_t peak_rss_bytes = 0;
  // Shared machines drift: the bandwidth is sampled right before each decode repetition (once at
  // the end without a tg test); the roofline fraction is the median of the per-repetition ratios
  // (decode bytes/s over the sample just before), the bandwidth the median sample.
  std::vector<double> bandwidth_samples;
  double bandwidth_gb_per_s = 0;
  double decode_roofline_fraction = 0;  // 0 when there was no tg test or no bandwidth measure
  uint64_t weight_bytes_per_token = 0;  // every matrix, the tied head counted once
  nlohmann::json model;                 // path, format, sizes, types
  int threads = 0;
};

struct LoadedModel;
class Decoder;
// The engine-level tests of BenchOptions::assistant and ::parallel, appended to rep.results.
void bench_speculative(const LoadedModel& model, Decoder& dec, const BenchOptions& o,
                       BenchReport& rep, const std::function<void(const std::string&)>& say);
void bench_parallel(const LoadedModel& model, const BenchOptions& o, BenchReport& rep,
                    const std::function<void(const std::string&)>& say);
void bench_live_audio(const LoadedModel& model, const BenchOptions& o, BenchReport& rep,
                      const std::function<void(const std::string&)>& say);
void bench_constrained(const LoadedModel& model, const BenchOptions& o, BenchReport& rep,
                       const std::function<void(const std::string&)>& say);

// log (may be null) receives progress lines. Throws ug::Error for bad options or a model that
// lacks the weights a requested test needs.
BenchReport run_bench(const BenchOptions& opts,
                      const std::function<void(const std::string&)>& log = nullptr);

// {"results": [...], "peak_rss_bytes", "bandwidth_gb_per_s", "decode_roofline_fraction",
//  "weight_bytes_per_token", "threads", "model": {...}}
nlohmann::json bench_to_json(const BenchReport& report);

// A markdown table as llama-bench prints, then the memory and roofline lines.
std::string bench_to_table(const BenchReport& report);

// Test media: an uncompressed 24-bit BMP (a smooth colour pattern) and a 16 kHz mono 16-bit WAV
// (a tone with noise), the bytes of each file.
std::vector<uint8_t> synthetic_bmp(int width, int height);
std::vector<uint8_t> synthetic_wav(double seconds);

}  // namespace ug
