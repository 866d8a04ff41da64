// Prefilling a whole prompt into one sequence's cache, chunk by chunk, outside the engine: for
// benchmarks that time the decoder alone. Generation always goes through runtime/engine.h.
#pragma once

#include <vector>

#include "model/decoder.h"
#include "runtime/prompt.h"

namespace ug {

// The decoder batch for rows [begin, end) of the prompt (soft rows point into `prompt`, which
// must outlive it). Throws ug::Error when a soft row has the wrong width.
Batch prompt_batch(const Prompt& prompt, int64_t begin, int64_t end, int64_t n_embd);

// Where a prefill chunk that starts at `begin` and may take up to `budget` rows ends: an image
// block is computed in one chunk (its attention is bidirectional, input spec §1.8), so a chunk
// stops before a block that does not fit, or takes a block that starts at `begin` whole.
int64_t chunk_end(const Prompt& prompt, int64_t begin, int64_t budget);

// Prefills rows [0, n) of the prompt into the cache; returns the logits of the last row (and,
// if asked, its post-norm hidden row).
void prefill(Decoder& decoder, KvCache& cache, const Prompt& prompt, int ubatch,
             std::vector<float>& last_logits, std::vector<float>* last_hidden = nullptr);

}  // namespace ug
