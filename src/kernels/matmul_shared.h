// Several matmul() calls on the same input in one parallel region.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <utility>

#include "base/thread_pool.h"
#include "tensor/tensor_view.h"

namespace ug {

// For each {w, y}: y = matmul(w, x) as matmul() computes it (bit for bit). When the matrices
// share their type and input width and a SIMD variant runs, x is quantized once and one
// parallel region covers all of them (one thread hand-off instead of one per matrix);
// otherwise they run one after another. At most 4 matrices are combined.
void matmul_shared_input(std::initializer_list<std::pair<const TensorView*, float*>> mats,
                         const float* x, int64_t n_tokens, ThreadPool& pool);

}  // namespace ug
