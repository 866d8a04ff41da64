// Text embeddings from the decoder's final hidden states (after the final RMS norm, before the
// tied output head), pooled per input like llama.cpp's --pooling and L2-normalised.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/decoder.h"

namespace ug {

enum class Pooling {
  kMean,  // average of every token's row (BOS included), the default
  kLast,  // the last token's row
  kCls,   // the first token's row (BOS)
  kNone,  // every token's row
};

Pooling parse_pooling(const std::string& name);  // mean, last, cls or none; throws ug::Error
const char* pooling_name(Pooling p);

class Embedder {
 public:
  // Its own Decoder (and thread pool) over the shared weights, so embeddings never wait for or
  // slow down the generation engine's batch bookkeeping.
  Embedder(std::shared_ptr<const Gemma4Weights> weights, int threads, int step_tokens = 512);

  // One input: [n_embd] pooled, or [tokens, n_embd] for kNone; each row has unit L2 norm.
  // Runs one input at a time (calls from several threads queue here). Throws ug::Error for an
  // empty input or a token outside the vocabulary.
  std::vector<float> embed(const std::vector<int32_t>& tokens, Pooling pooling);

  int64_t n_embd() const { return decoder_.config().n_embd; }

 private:
  Decoder decoder_;
  int step_tokens_;
  std::mutex mu_;
};

// Scales v[0, n) to unit L2 norm (left as is when all zero).
void l2_normalize(float* v, int64_t n);

}  // namespace ug
