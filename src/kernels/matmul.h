// Weight-times-activations products for every stored weight type (f32 accumulation).
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "tensor/tensor_view.h"

namespace ug {

// w: ne = {in, out} (row o holds the `in` weights of output o, any decodable type);
// x: [n_tokens, in] row-major f32; y: [n_tokens, out]. y[t][o] = Σ_i w[o][i]·x[t][i].
// Output rows are split across the pool; each weight row is decoded once per call and used for
// every token, so a prompt of many tokens reads the weights once.
void matmul(const TensorView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// Decodes row `row` of a table with ne = {dim, rows} into out[dim].
void embedding_row(const TensorView& table, int64_t row, float* out);

}  // namespace ug
