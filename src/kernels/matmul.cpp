#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "kernels/dot.h"
#include "kernels/isa.h"
#include "kernels/matmul_impl.h"
#include "kernels/q8_acts.h"
#include "tensor/quant.h"

namespace ug {

namespace {
// Rows decoded together: a token's activations are then read once per tile instead of once per
// row, while the tile (kTile × in floats) still fits in L2 for in up to ~16k.
constexpr int64_t kTile = 4;

void check_matrix(const TensorView& w, const char* what) {
  if (w.ne.size() < 1 || w.ne.size() > 2 || w.dim(0) <= 0 || w.dim(1) <= 0)
    fail(what, " ", w.name, ": expected a 2-D tensor {in, out}, found shape ", shape_string(w.ne));
  if (w.data == nullptr) fail(what, " ", w.name, ": tensor has no data");
  const uint64_t need = w.row_size() * static_cast<uint64_t>(w.rows());  // checks whole blocks
  if (w.nbytes < need)
    fail(what, " ", w.name, ": ", dtype_name(w.type), " ", shape_string(w.ne), " needs ", need,
         " bytes, the view has ", w.nbytes);
}

// Decoded rows for the calling thread, grown as needed and kept between calls so that no call
// allocates once the largest matrix has been seen.
float* scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

bool has_simd_kernel(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q4_0 ||
         t == DType::Q8_0 || t == DType::Q4_K || t == DType::Q6_K;
}

// The SIMD variants: rows are handed out in chunks from a shared counter, so a thread slowed by
// other load on the machine takes fewer chunks; each row's arithmetic does not depend on which
// thread computes it, so results are identical for any pool size.
void matmul_simd(Isa isa, const TensorView& w, const float* x, int64_t n_tokens, float* y,
                 ThreadPool& pool) {
  const bool q8 = isa == Isa::Avx512 ? kern::avx512_uses_q8(w.type) : kern::avx2_uses_q8(w.type);
  // Quantized once by the calling thread, then read by all; kept for the next call.
  thread_local Q8Acts acts;
  kern::MatmulJob job{w.type,
                      static_cast<const uint8_t*>(w.data),
                      w.row_size(),
                      w.dim(0),
                      w.dim(1),
                      n_tokens,
                      x,
                      nullptr,
                      y};
  if (q8) {
    quantize_acts(x, n_tokens, job.in, acts);
    job.acts = &acts;
  }
  auto rows = isa == Isa::Avx512 ? kern::avx512_rows : kern::avx2_rows;
  const int64_t out = job.out;
  // Multiples of 16 rows (the kernels' row block), about 16 chunks per thread.
  const int64_t chunk = std::max<int64_t>(16, (out / (16 * pool.size()) + 15) / 16 * 16);
  const int64_t n_chunks = (out + chunk - 1) / chunk;
  if (n_chunks == 1 || pool.size() == 1) {
    rows(job, 0, out);
    return;
  }
  std::atomic<int64_t> next{0};
  pool.parallel_for(
      pool.size(),
      [&](int64_t, int64_t, int) {
        for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n_chunks;)
          rows(job, c * chunk, std::min(out, (c + 1) * chunk));
      },
      1);
}
}  // namespace

namespace kern {
float* row_scratch(int64_t n) { return scratch(static_cast<size_t>(n)); }
}  // namespace kern

void matmul(const TensorView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  check_matrix(w, "matmul");
  if (n_tokens < 0) fail("matmul ", w.name, ": negative token count ", n_tokens);
  if (n_tokens == 0) return;
  if (const Isa isa = active_isa(); isa != Isa::Scalar) {
    // Types without a dedicated kernel go through the reference dequantizer inside the workers;
    // decoding one row here first makes an undecodable type fail in the caller's thread.
    if (!has_simd_kernel(w.type)) dequantize_row(w.type, w.row(0), scratch(w.dim(0)), w.dim(0));
    matmul_simd(isa, w, x, n_tokens, y, pool);
    return;
  }
  const int64_t in = w.dim(0), out = w.dim(1);
  // f32 weights that are suitably aligned are used in place.
  const bool direct =
      w.type == DType::F32 && reinterpret_cast<uintptr_t>(w.data) % alignof(float) == 0;

  auto run = [&](int64_t begin, int64_t end, int) {
    float* buf = direct ? nullptr : scratch(static_cast<size_t>(kTile * in));
    for (int64_t r0 = begin; r0 < end; r0 += kTile) {
      const int64_t rows = std::min(kTile, end - r0);
      const float* wrows[kTile];
      for (int64_t k = 0; k < rows; ++k) {
        if (direct) {
          wrows[k] = reinterpret_cast<const float*>(w.row(r0 + k));
        } else {
          dequantize_row(w.type, w.row(r0 + k), buf + k * in, in);
          wrows[k] = buf + k * in;
        }
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * in;
        float* yt = y + t * out + r0;
        for (int64_t k = 0; k < rows; ++k) yt[k] = dot_f32(wrows[k], xt, in);
      }
    }
  };
  // Enough rows per chunk that the per-call cost of waking a worker is amortised.
  pool.parallel_for(out, run, 16);
}

void embedding_row(const TensorView& table, int64_t row, float* out) {
  check_matrix(table, "embedding");
  if (row < 0 || row >= table.dim(1))
    fail("embedding ", table.name, ": row ", row, " is outside the table's ", table.dim(1),
         " rows");
  dequantize_row(table.type, table.row(row), out, table.dim(0));
}

}  // namespace ug
