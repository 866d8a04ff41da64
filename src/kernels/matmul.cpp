#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <vector>

#include "base/error.h"
#include "kernels/dot.h"
#include "kernels/isa.h"
#include "kernels/matmul_impl.h"
#include "kernels/matmul_shared.h"
#include "kernels/q8_acts.h"
#include "tensor/lanes.h"
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
  const uint64_t need = is_lanes(w.type) ? lanes_shape(w.type, w.dim(0), w.dim(1)).bytes
                                         : w.row_size() * static_cast<uint64_t>(w.rows());
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

// Repacked matrices have kernels in the AVX-512 and AVX2 variants; elsewhere they take the
// generic path, row by row through the file layout.
bool has_simd_kernel(DType t, Isa isa) {
  if (is_lanes(t)) return isa == Isa::Avx512 || isa == Isa::Avx2;
  if (t == DType::Q5_K) return isa == Isa::Avx2;
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q4_0 ||
         t == DType::Q8_0 || t == DType::Q4_K || t == DType::Q6_K;
}

// Row r of w decoded to f32 (out[in]), whatever its layout.
void decode_row(const TensorView& w, int64_t r, float* out) {
  if (is_lanes(w.type)) {
    thread_local std::vector<uint8_t> stored;
    const DType t = stored_dtype(w.type);
    stored.resize(row_bytes(t, w.dim(0)));
    lanes_row_to_stored(w, r, stored.data());
    return dequantize_row(t, stored.data(), out, w.dim(0));
  }
  dequantize_row(w.type, w.row(r), out, w.dim(0));
}

// The SIMD variants: rows are handed out in chunks from a shared counter, so a thread slowed by
// other load on the machine takes fewer chunks; each row's arithmetic does not depend on which
// thread computes it, so results are identical for any pool size. Several matrices that share
// the input (and type) run in one parallel region: x is quantized once and the threads meet once.
void matmul_simd(Isa isa, const TensorView* const* ws, float* const* ys, int count, const float* x,
                 int64_t n_tokens, ThreadPool& pool) {
  const DType type = ws[0]->type;
  const kern::Variant& v = kern::variant(isa);
  const bool q8 = v.uses_q8(type);
  // Quantized once by the calling thread, then read by all; kept for the next call.
  thread_local Q8Acts acts;
  constexpr int kMax = 4;
  kern::MatmulJob jobs[kMax];
  int64_t chunk[kMax], first[kMax + 1];
  first[0] = 0;
  for (int m = 0; m < count; ++m) {
    const TensorView& w = *ws[m];
    jobs[m] = kern::MatmulJob{type,
                              static_cast<const uint8_t*>(w.data),
                              w.row_size(),
                              w.dim(0),
                              w.dim(1),
                              n_tokens,
                              x,
                              nullptr,
                              ys[m]};
    // Multiples of 16 rows (the kernels' row block), about 16 chunks per thread.
    chunk[m] = std::max<int64_t>(16, (w.dim(1) / (16 * pool.size()) + 15) / 16 * 16);
    first[m + 1] = first[m] + (w.dim(1) + chunk[m] - 1) / chunk[m];
  }
  if (q8) {
    // The AVX-512 Q4_0 kernels read activations in the order of a quad's nibbles.
    quantize_acts(x, n_tokens, jobs[0].in, acts, v.act_order(type, n_tokens));
    for (int m = 0; m < count; ++m) jobs[m].acts = &acts;
  }
  auto rows = v.rows;
  auto run = [&](int64_t c) {
    int m = 0;
    while (c >= first[m + 1]) ++m;
    const int64_t r0 = (c - first[m]) * chunk[m];
    rows(jobs[m], r0, std::min(jobs[m].out, r0 + chunk[m]));
  };
  const int64_t n_chunks = first[count];
  if (n_chunks == 1 || pool.size() == 1) {
    for (int64_t c = 0; c < n_chunks; ++c) run(c);
    return;
  }
  std::atomic<int64_t> next{0};
  auto body = [&](int64_t, int64_t, int) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n_chunks;) run(c);
  };
  pool.parallel_for(pool.size(), std::ref(body), 1);
}
}  // namespace

namespace kern {
const Variant& variant(Isa isa) {
  static const Variant kAvx512{avx512_uses_q8, avx512_rows, avx512_act_order};
  static const Variant kAvx2{avx2_uses_q8, avx2_rows, [](DType t, int64_t) {
                               return is_lanes(t) ? ActOrder::Lanes : ActOrder::Natural;
                             }};
  static const Variant kNeon{neon_uses_q8, neon_rows,
                             [](DType, int64_t) { return ActOrder::Natural; }};
  switch (isa) {
    case Isa::Avx512:
      return kAvx512;
    case Isa::Avx2:
      return kAvx2;
    case Isa::Neon:
      return kNeon;
    case Isa::Scalar:
      break;
  }
  fail("kernels: no SIMD variant for ", isa_name(isa));
}

float* row_scratch(int64_t n) { return scratch(static_cast<size_t>(n)); }

void run_row_kernels(const RowFn* fns, int max_tile, const MatmulJob& job, int64_t r0, int64_t r1,
                     bool decode_to_f32) {
  constexpr int64_t kRowBlock = 16;
  const int64_t in = job.in;
  float res[8];
  for (int64_t rb = r0; rb < r1; rb += kRowBlock) {
    const int64_t re = std::min(rb + kRowBlock, r1);
    const uint8_t* wb = job.w + rb * job.row_bytes;
    uint64_t stride = job.row_bytes;
    if (decode_to_f32) {
      float* buf = row_scratch((re - rb) * in);
      for (int64_t r = rb; r < re; ++r)
        dequantize_row(job.type, job.w + r * job.row_bytes, buf + (r - rb) * in, in);
      wb = reinterpret_cast<const uint8_t*>(buf);
      stride = static_cast<uint64_t>(in) * sizeof(float);
    }
    for (int64_t t0 = 0; t0 < job.n_tokens; t0 += max_tile) {
      const int nt = static_cast<int>(std::min<int64_t>(job.n_tokens - t0, max_tile));
      for (int64_t r = rb; r < re; ++r) {
        fns[nt](wb + (r - rb) * stride, job, t0, res);
        for (int t = 0; t < nt; ++t) job.y[(t0 + t) * job.out + r] = res[t];
      }
    }
  }
}

void run_row_tables(const RowTables& t, const MatmulJob& job, int64_t r0, int64_t r1) {
  const RowFn* fns = nullptr;
  switch (job.type) {
    case DType::F32:
      fns = t.f32;
      break;
    case DType::F16:
      fns = t.f16;
      break;
    case DType::BF16:
      fns = t.bf16;
      break;
    case DType::Q4_0:
      fns = t.q4_0;
      break;
    case DType::Q8_0:
      fns = t.q8_0;
      break;
    default:
      break;
  }
  run_row_kernels(fns ? fns : t.f32, t.max_tile, job, r0, r1, fns == nullptr);
}
}  // namespace kern

void matmul(const TensorView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  check_matrix(w, "matmul");
  if (n_tokens < 0) fail("matmul ", w.name, ": negative token count ", n_tokens);
  if (n_tokens == 0) return;
  const Isa isa = active_isa();
  // Repacked matrices without a kernel in this variant take the generic loop below.
  if (isa != Isa::Scalar && (!is_lanes(w.type) || has_simd_kernel(w.type, isa))) {
    // Types without a dedicated kernel go through the reference dequantizer inside the workers;
    // decoding one row here first makes an undecodable type fail in the caller's thread.
    if (!has_simd_kernel(w.type, isa))
      dequantize_row(w.type, w.row(0), scratch(w.dim(0)), w.dim(0));
    const TensorView* ws[] = {&w};
    float* ys[] = {y};
    matmul_simd(isa, ws, ys, 1, x, n_tokens, pool);
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
          decode_row(w, r0 + k, buf + k * in);
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

void matmul_shared_input(std::initializer_list<std::pair<const TensorView*, float*>> mats,
                         const float* x, int64_t n_tokens, ThreadPool& pool) {
  const TensorView* ws[4];
  float* ys[4];
  int count = 0;
  bool together = mats.size() <= 4 && n_tokens > 0 && active_isa() != Isa::Scalar;
  for (const auto& [w, y] : mats) {
    check_matrix(*w, "matmul");
    if (count < 4) {
      ws[count] = w;
      ys[count] = y;
    }
    ++count;
    together = together && has_simd_kernel(w->type, active_isa()) &&
               w->type == mats.begin()->first->type && w->dim(0) == mats.begin()->first->dim(0);
  }
  if (!together) {
    for (const auto& [w, y] : mats) matmul(*w, x, n_tokens, y, pool);
    return;
  }
  matmul_simd(active_isa(), ws, ys, count, x, n_tokens, pool);
}

void embedding_row(const TensorView& table, int64_t row, float* out) {
  check_matrix(table, "embedding");
  if (row < 0 || row >= table.dim(1))
    fail("embedding ", table.name, ": row ", row, " is outside the table's ", table.dim(1),
         " rows");
  decode_row(table, row, out);
}

}  // namespace ug
