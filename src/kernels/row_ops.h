// The f32 vector operations of one decoder row (text spec §3.2, §3.5, the residual adds),
// dispatched like matmul() on active_isa(); the scalar variant is the reference. A row's result
// depends only on that row, never on the rows computed with it.
#pragma once

#include <cstdint>

namespace ug {

// y = x / sqrt(mean(x²) + eps) · w (w null: the weightless norm). y may be x. The scalar
// reference sums the squares in double, the SIMD variants in f32 lanes.
void rms_norm_f32(const float* x, const float* w, int64_t n, float eps, float* y);

// x[i] += y[i].
void add_f32(float* x, const float* y, int64_t n);

// x[i] = (x[i] + y[i]) · s.
void add_scaled_f32(float* x, const float* y, float s, int64_t n);

// NeoX ("rotate-half") RoPE of `heads` consecutive heads of hd values at one position: pair d
// couples x[d] and x[d + hd/2] and turns by the angle whose cosine and sine are cos[d], sin[d],
// for d < n_rot ≤ hd/2; pairs from n_rot on are left as they are.
void rope_neox_f32(float* x, int heads, int64_t hd, int64_t n_rot, const float* cos,
                   const float* sin);

}  // namespace ug
