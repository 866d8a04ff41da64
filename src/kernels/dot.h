// f32 dot products written as plain loops that GCC vectorizes at -O2/-O3 (no intrinsics).
#pragma once

#include <cstdint>

namespace ug {

// Σ a[i]·b[i] in f32, accumulated in 16 independent lanes (then summed), so the order of
// additions differs from a sequential loop by design.
float dot_f32(const float* a, const float* b, int64_t n);

}  // namespace ug
