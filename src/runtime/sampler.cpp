#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/error.h"

namespace ug {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Higher logit first; the lower id wins ties so results never depend on sort internals.
template <class T>
bool before(const T& a, const T& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

}  // namespace

Sampler::Sampler(SamplingParams params, int vocab)
    : params_(std::move(params)), vocab_(vocab), rng_(params_.seed) {
  if (vocab <= 0) fail("sampler: vocabulary size must be positive, got ", vocab);
  for (std::int32_t id : params_.suppress)
    if (id < 0 || id >= vocab)
      fail("sampler: suppressed token id ", id, " is outside the vocabulary [0, ", vocab, ")");
  cands_.resize(static_cast<std::size_t>(vocab));
  probs_.resize(static_cast<std::size_t>(vocab));
  counts_.assign(static_cast<std::size_t>(vocab), 0);
  touched_.reserve(static_cast<std::size_t>(std::max(params_.repeat_last_n, 64)));
}

void Sampler::apply_penalties(float* logits, const std::vector<std::int32_t>& history) {
  const bool any = params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f ||
                   params_.presence_penalty != 0.0f;
  if (!any || params_.repeat_last_n == 0 || history.empty()) return;
  const std::size_t n = params_.repeat_last_n < 0
                            ? history.size()
                            : std::min(history.size(), std::size_t(params_.repeat_last_n));
  for (std::size_t i = history.size() - n; i < history.size(); ++i) {
    const std::int32_t t = history[i];
    if (t < 0 || t >= vocab_) continue;
    if (counts_[t]++ == 0) touched_.push_back(t);
  }
  for (std::int32_t t : touched_) {
    float& l = logits[t];
    // As llama.cpp: shrink a positive logit, grow a negative one, so the token always loses.
    l = l <= 0 ? l * params_.repeat_penalty : l / params_.repeat_penalty;
    l -= static_cast<float>(counts_[t]) * params_.frequency_penalty + params_.presence_penalty;
    counts_[t] = 0;
  }
  touched_.clear();
}

std::int32_t Sampler::sample(float* logits, const std::vector<std::int32_t>& history) {
  for (std::int32_t id : params_.suppress) logits[id] = kNegInf;
  apply_penalties(logits, history);

  if (params_.temperature <= 0.0f) {
    std::int32_t best = -1;
    for (std::int32_t i = 0; i < vocab_; ++i)
      if (!std::isnan(logits[i]) && logits[i] > kNegInf && (best < 0 || logits[i] > logits[best]))
        best = i;
    if (best < 0) fail("sampler: every token is suppressed or has a -inf/NaN logit");
    return best;
  }

  std::size_t n = 0;
  for (std::int32_t i = 0; i < vocab_; ++i)
    if (logits[i] > kNegInf) cands_[n++] = {i, logits[i]};  // NaN compares false: dropped
  if (n == 0) fail("sampler: every token is suppressed or has a -inf/NaN logit");
  auto first = cands_.begin();

  if (params_.top_k > 0 && std::size_t(params_.top_k) < n) {
    const std::size_t k = std::size_t(params_.top_k);
    std::nth_element(first, first + k - 1, first + n, before<Candidate>);
    n = k;
  }
  const bool need_order = params_.top_p < 1.0f || params_.min_p > 0.0f;
  if (need_order) std::sort(first, first + n, before<Candidate>);

  if (params_.top_p < 1.0f) {
    // Probabilities at temperature 1, as in llama.cpp where temperature comes last.
    const float max_logit = cands_[0].logit;
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      probs_[i] = std::exp(cands_[i].logit - max_logit);
      sum += probs_[i];
    }
    double cum = 0;
    std::size_t keep = n;
    for (std::size_t i = 0; i < n; ++i) {
      cum += probs_[i] / sum;
      if (cum >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
  }
  if (params_.min_p > 0.0f) {
    // p_i >= min_p * p_max  <=>  logit_i >= max_logit + log(min_p)
    const float floor = cands_[0].logit + std::log(params_.min_p);
    std::size_t keep = 1;
    while (keep < n && cands_[keep].logit >= floor) ++keep;
    n = keep;
  }

  const float inv_t = 1.0f / params_.temperature;
  float max_scaled = kNegInf;
  for (std::size_t i = 0; i < n; ++i) max_scaled = std::max(max_scaled, cands_[i].logit * inv_t);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    probs_[i] = std::exp(cands_[i].logit * inv_t - max_scaled);
    sum += probs_[i];
  }
  // Own uniform draw (53 random bits) so results do not depend on the standard library's
  // distribution implementation.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * sum;
  double cum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    cum += probs_[i];
    if (u < cum) return cands_[i].id;
  }
  return cands_[n - 1].id;  // u landed on rounding slack at the top
}

std::vector<std::pair<std::int32_t, float>> top_logprobs(const float* logits, int vocab, int k) {
  if (vocab <= 0 || k <= 0) return {};
  k = std::min(k, vocab);
  float max_logit = kNegInf;
  for (int i = 0; i < vocab; ++i) max_logit = std::max(max_logit, logits[i]);
  double sum = 0;
  for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max_logit);
  const double log_sum = std::log(sum);  // kept apart from max_logit for precision

  struct Entry {
    std::int32_t id;
    float logit;
  };
  // Min-heap of the best k seen so far: O(vocab log k).
  std::vector<Entry> heap;
  heap.reserve(static_cast<std::size_t>(k));
  auto worse_on_top = [](const Entry& a, const Entry& b) { return before(a, b); };
  for (int i = 0; i < vocab; ++i) {
    const Entry e{i, logits[i]};
    if (static_cast<int>(heap.size()) < k) {
      heap.push_back(e);
      std::push_heap(heap.begin(), heap.end(), worse_on_top);
    } else if (before(e, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), worse_on_top);
      heap.back() = e;
      std::push_heap(heap.begin(), heap.end(), worse_on_top);
    }
  }
  std::sort(heap.begin(), heap.end(), before<Entry>);
  std::vector<std::pair<std::int32_t, float>> out;
  out.reserve(heap.size());
  for (const Entry& e : heap)
    out.emplace_back(e.id, static_cast<float>(static_cast<double>(e.logit) - max_logit - log_sum));
  return out;
}

}  // namespace ug

namespace ug {

float log_softmax_at(const float* z, int64_t n, int32_t id) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, z[i]);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(z[i]) - mx);
  return static_cast<float>(double(z[id]) - mx - std::log(s));
}

}  // namespace ug
