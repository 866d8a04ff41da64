// What a `run` or one-slot `serve` of a model will take in memory, for `info -c N`'s "will it
// fit": the weights, the KV cache, the scratch of a forward pass at the prefill chunk size, the
// tokenizer, and the process itself (binary, libraries, threads, allocator). Calibrated against
// the peak RSS of real runs (the constants in memory_estimate.cpp say where they come from).
#pragma once

#include <cstdint>

#include "model/config.h"

namespace ug {

struct MemoryEstimate {
  uint64_t weights = 0;    // every file loaded (mapped, all pages touched)
  uint64_t kv_cache = 0;   // global layers: n_ctx positions; sliding: window + rollback
  uint64_t compute = 0;    // activations of a `batch`-token chunk, attention scores, logits
  uint64_t tokenizer = 0;  // vocabulary, merges and their lookup tables
  uint64_t runtime = 0;    // binary, shared libraries, thread stacks, allocator overhead
  uint64_t total() const { return weights + kv_cache + compute + tokenizer + runtime; }
};

struct MemoryEstimateOptions {
  int64_t n_ctx = 4096;
  int64_t batch = 512;     // the prefill chunk (GenerateOptions::ubatch)
  int64_t rollback = 256;  // the sliding ring's headroom (KvCache; `chat` keeps 1024)
  int threads = 0;         // 0: one per hardware thread
  int kv_bytes = 2;        // per cached value: f16
  uint64_t weight_bytes = 0;
  int64_t vocab_tokens = 0;  // the tokenizer: its pieces ...
  uint64_t vocab_bytes = 0;  // ... their total length
  int64_t merges = 0;        // BPE merges ...
  uint64_t merge_bytes = 0;  // ... their total length
  // The vocabulary comes from tokenizer.json (an HF folder), parsed into a JSON tree while
  // loading; a GGUF's token arrays are read straight into the tables.
  bool tokenizer_json = false;
};

MemoryEstimate estimate_memory(const Gemma4Config& c, const MemoryEstimateOptions& o);

}  // namespace ug
