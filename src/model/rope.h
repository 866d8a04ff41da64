// RoPE angles (text spec §3.5) from tables built once per layer kind instead of cos/sin calls per
// use: a position's cos(pos·ω_d) and sin(pos·ω_d) for every rotating pair d.
#pragma once

#include <cstdint>
#include <vector>

namespace ug {

// inv_freq[d] = base^(-2d/hd) / factor[d] for d < hd/2 (factors may be empty = all ones; an inf
// factor gives 0 = an identity pair).
std::vector<float> rope_inv_freq(float base, int64_t hd, const std::vector<float>& factors);

// Position p = q·kStep + r: cos and sin of p·ω_d come from row q of a coarse table (grown with
// the positions) and row r of a fine table by the angle-sum formulas, in double, then rounded
// once to f32: the values a cos/sin call on the f32 ω_d gives (to the last bit but for rare
// ties). Pairs from pairs() on have ω ≈ 0 and stay as they are (the global layers rotate the
// first 64 of 256). Memory: (kStep + positions / kStep) · pairs · 16 bytes (0.4 MB at 8K positions
// for the 12B's two kinds).
class RopeTable {
 public:
  static constexpr int64_t kStep = 256;

  RopeTable() = default;
  explicit RopeTable(const std::vector<float>& inv_freq);

  // Rotating pairs: up to the last one with ω ≥ 2^-61, inclusive (smaller ω: identity).
  int64_t pairs() const { return pairs_; }
  // Makes positions [0, n) available. Not thread-safe: call before a parallel region.
  void reserve(int64_t n);
  // cos[d], sin[d] for d < pairs() at position pos (< the reserved count).
  void angles(int64_t pos, float* cos, float* sin) const;

 private:
  int64_t pairs_ = 0;
  std::vector<double> freq_;                     // [pairs]
  std::vector<double> fine_cos_, fine_sin_;      // [kStep][pairs]: angle r·ω
  std::vector<double> coarse_cos_, coarse_sin_;  // [q][pairs]: angle q·kStep·ω
};

}  // namespace ug
