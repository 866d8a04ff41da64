#include "model/rope.h"

#include <cmath>

#include "base/error.h"

namespace ug {

std::vector<float> rope_inv_freq(float base, int64_t hd, const std::vector<float>& factors) {
  std::vector<float> f(hd / 2);
  for (int64_t d = 0; d < hd / 2; ++d) {
    double v = std::pow(double(base), -2.0 * double(d) / double(hd));
    if (!factors.empty()) v /= double(factors[d]);  // inf factor -> 0 -> identity pair
    f[d] = static_cast<float>(v);
  }
  return f;
}

// Below this ω a pair turns by less than 2^-30 rad at any position under 2^31: cos is 1 in f32 and
// the pair is taken as identity. GGUF files mark identity pairs with a factor of 1e30 (ω ≈ 1e-30,
// text spec §3.5), HF with ω = 0.
constexpr double kIdentityFreq = 0x1p-61;

RopeTable::RopeTable(const std::vector<float>& inv_freq) {
  for (size_t d = 0; d < inv_freq.size(); ++d)
    if (inv_freq[d] >= kIdentityFreq) pairs_ = static_cast<int64_t>(d) + 1;
  freq_.resize(pairs_);
  for (int64_t d = 0; d < pairs_; ++d) freq_[d] = inv_freq[d] >= kIdentityFreq ? inv_freq[d] : 0.0;
  fine_cos_.resize(kStep * pairs_);
  fine_sin_.resize(kStep * pairs_);
  for (int64_t r = 0; r < kStep; ++r)
    for (int64_t d = 0; d < pairs_; ++d) {
      fine_cos_[r * pairs_ + d] = std::cos(double(r) * freq_[d]);
      fine_sin_[r * pairs_ + d] = std::sin(double(r) * freq_[d]);
    }
  reserve(1);
}

void RopeTable::reserve(int64_t n) {
  const int64_t rows = (n + kStep - 1) / kStep;
  const int64_t have = pairs_ ? static_cast<int64_t>(coarse_cos_.size()) / pairs_ : 0;
  if (rows <= have || pairs_ == 0) return;
  coarse_cos_.resize(rows * pairs_);
  coarse_sin_.resize(rows * pairs_);
  for (int64_t q = have; q < rows; ++q)
    for (int64_t d = 0; d < pairs_; ++d) {
      const double a = double(q * kStep) * freq_[d];
      coarse_cos_[q * pairs_ + d] = std::cos(a);
      coarse_sin_[q * pairs_ + d] = std::sin(a);
    }
}

void RopeTable::angles(int64_t pos, float* cos, float* sin) const {
  const int64_t q = pos / kStep, r = pos % kStep;
  if (pos < 0 || (q + 1) * pairs_ > static_cast<int64_t>(coarse_cos_.size()))
    fail("RoPE table: position ", pos, " is outside the reserved positions");
  const double* cc = &coarse_cos_[q * pairs_];
  const double* cs = &coarse_sin_[q * pairs_];
  const double* fc = &fine_cos_[r * pairs_];
  const double* fs = &fine_sin_[r * pairs_];
  for (int64_t d = 0; d < pairs_; ++d) {
    cos[d] = static_cast<float>(cc[d] * fc[d] - cs[d] * fs[d]);  // cos(a + b)
    sin[d] = static_cast<float>(cs[d] * fc[d] + cc[d] * fs[d]);  // sin(a + b)
  }
}

}  // namespace ug
