#include "runtime/embedder.h"

#include <cmath>

#include "base/error.h"
#include "model/kv_cache.h"

namespace ug {

Pooling parse_pooling(const std::string& name) {
  if (name == "mean") return Pooling::kMean;
  if (name == "last") return Pooling::kLast;
  if (name == "cls") return Pooling::kCls;
  if (name == "none") return Pooling::kNone;
  fail("unknown pooling '", name, "' (expected mean, last, cls or none)");
}

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::kMean:
      return "mean";
    case Pooling::kLast:
      return "last";
    case Pooling::kCls:
      return "cls";
    case Pooling::kNone:
      return "none";
  }
  return "mean";
}

void l2_normalize(float* v, int64_t n) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(v[i]) * v[i];
  if (ss <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(ss));
  for (int64_t i = 0; i < n; ++i) v[i] *= inv;
}

Embedder::Embedder(std::shared_ptr<const Gemma4Weights> weights, int threads, int step_tokens)
    : decoder_(std::move(weights), threads), step_tokens_(step_tokens > 0 ? step_tokens : 512) {}

std::vector<float> Embedder::embed(const std::vector<int32_t>& tokens, Pooling pooling) {
  const Gemma4Config& c = decoder_.config();
  const int64_t n = static_cast<int64_t>(tokens.size()), d = c.n_embd;
  if (n == 0) fail("cannot embed an empty input");
  for (int32_t t : tokens)
    if (t < 0 || t >= c.vocab_size)
      fail("token id ", t, " is outside the vocabulary (0..", c.vocab_size - 1, ")");
  std::lock_guard<std::mutex> lock(mu_);
  // A cache just long enough for this input; the prompt goes through in chunks of step_tokens
  // rows (bounded scratch), every row's hidden state kept: [rows, n_embd] per chunk.
  KvCache cache(c, n, /*rollback=*/step_tokens_);
  std::vector<float> out(pooling == Pooling::kNone ? static_cast<size_t>(n * d) : d, 0.f);
  std::vector<double> sum(pooling == Pooling::kMean ? d : 0, 0.0);
  Batch batch;
  batch.all_logits = true;
  std::vector<float> hidden;
  for (int64_t p0 = 0; p0 < n; p0 += step_tokens_) {
    const int64_t m = std::min<int64_t>(step_tokens_, n - p0);
    batch.tokens.assign(tokens.begin() + p0, tokens.begin() + p0 + m);
    decoder_.forward_hidden(batch, cache, hidden);
    for (int64_t i = 0; i < m; ++i) {
      const float* row = &hidden[i * d];
      const int64_t pos = p0 + i;
      if (pooling == Pooling::kMean) {
        for (int64_t j = 0; j < d; ++j) sum[j] += row[j];
      } else if (pooling == Pooling::kNone) {
        std::copy(row, row + d, &out[pos * d]);
      } else if ((pooling == Pooling::kCls && pos == 0) ||
                 (pooling == Pooling::kLast && pos == n - 1)) {
        std::copy(row, row + d, out.data());
      }
    }
  }
  if (pooling == Pooling::kMean)
    for (int64_t j = 0; j < d; ++j) out[j] = static_cast<float>(sum[j] / double(n));
  for (size_t r = 0; r < out.size() / d; ++r) l2_normalize(&out[r * d], d);
  return out;
}

}  // namespace ug
