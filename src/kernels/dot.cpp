#include "kernels/dot.h"

namespace ug {

float dot_f32(const float* __restrict a, const float* __restrict b, int64_t n) {
  // Separate partial sums break the loop-carried dependency, which is what lets GCC use whole
  // vector registers without -ffast-math.
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += a[i + k] * b[i + k];
  for (int k = 0; i < n; ++i, ++k) acc[k] += a[i] * b[i];
  float s = 0.f;
  for (int k = 0; k < kLanes; ++k) s += acc[k];
  return s;
}

}  // namespace ug
