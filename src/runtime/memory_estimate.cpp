#include "runtime/memory_estimate.h"

#include <algorithm>
#include <thread>

namespace ug {

namespace {

// Calibration: peak RSS (/usr/bin/time -v) of Release builds on x86-64 Debian 12 (glibc), with
// the tiny generated models (the real Gemma 4 vocabulary: 262144 pieces of 2.3 MB text and
// 514906 merges of 5.1 MB, so 777050 entries):
// - `unigemma --version`: 32.7 MiB, the process with nothing loaded (binary, libraries); runs
//   with 1 and 2 pool threads peak the same, so threads add little (a few stack pages each);
// - `unigemma info` of the GGUF: +137.6 MiB, its metadata parsed (one value per piece and merge,
//   kept by the weights for as long as they live); `tokenize`: +28.2 MiB more, the tokenizer's
//   tables;
// - `run` of the GGUF: 195 MiB with the file's layout (UG_REPACK=0), 233 MiB where the weights
//   are repacked on load (AVX2, AVX-512: the slice buffers and the new layout live beside the
//   mapped pages for a while); of the HF folder: 282 MiB. Beyond the weights, the KV cache and
//   the runtime, that is 125-160 MiB for the GGUF's vocabulary and load (the tables and the
//   copies alive during the load) and 210 MiB from tokenizer.json (parsed into a JSON tree while
//   loading): 2 × its text + 205 B per entry, plus 115 B per entry for the JSON tree.
constexpr uint64_t kRuntimeBase = 33ull << 20;
constexpr uint64_t kPerThread = 256ull << 10;
constexpr uint64_t kTokenizerPerEntry = 205;
constexpr uint64_t kJsonTreePerEntry = 115;

}  // namespace

MemoryEstimate estimate_memory(const Gemma4Config& c, const MemoryEstimateOptions& o) {
  MemoryEstimate m;
  m.weights = o.weight_bytes;
  const int64_t ctx = std::max<int64_t>(1, o.n_ctx);
  const uint64_t sliding_positions =
      static_cast<uint64_t>(std::min<int64_t>(ctx, c.sliding_window + o.rollback));
  m.kv_cache = c.kv_bytes_per_token_global(o.kv_bytes) * static_cast<uint64_t>(ctx) +
               c.kv_bytes_per_token_sliding(o.kv_bytes) * sliding_positions;

  // Activations of one chunk (model/decoder.cpp): x [n, d], a [n, max(d, q)], q and o [n, q],
  // raw k and v [n, kv], gate and up [n, ff], all f32; plus the int8 copy the quantized matmuls
  // make of their input ([n, ff] bytes and a scale per 32).
  int64_t max_q = 0, max_kv = 0, max_group = 1;
  for (int l = 0; l < c.n_layer; ++l) {
    max_q = std::max<int64_t>(max_q, c.q_width(l));
    max_kv = std::max<int64_t>(max_kv, c.kv_width(l));
    max_group = std::max<int64_t>(max_group, c.n_head / std::max(1, c.kv_heads(l)));
  }
  const int64_t n = std::max<int64_t>(1, std::min(o.batch, ctx));
  const int64_t per_row =
      c.n_embd + std::max<int64_t>(c.n_embd, max_q) + 2 * max_q + 2 * max_kv + 2 * int64_t(c.n_ff);
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  m.compute = static_cast<uint64_t>(n) * per_row * 4 +
              static_cast<uint64_t>(n) * std::max<int64_t>(c.n_embd, c.n_ff) * 9 / 8 +
              // per thread: the scores of one query group over every key ([group, ctx] f32)
              static_cast<uint64_t>(threads) * max_group * (ctx + 1) * 4 +
              // the head's logits row, the sequence's logits, the sampler's candidates
              static_cast<uint64_t>(c.vocab_size) * 4 * 4;

  const uint64_t entries = static_cast<uint64_t>(o.vocab_tokens + o.merges);
  const uint64_t text = o.vocab_bytes + o.merge_bytes;
  m.tokenizer =
      2 * text + entries * (kTokenizerPerEntry + (o.tokenizer_json ? kJsonTreePerEntry : 0));
  m.runtime = kRuntimeBase + static_cast<uint64_t>(threads) * kPerThread;
  return m;
}

}  // namespace ug
