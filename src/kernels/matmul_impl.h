// Internal to src/kernels: the per-instruction-set row kernels behind matmul().
#pragma once

#include <cstdint>

#include "kernels/isa.h"
#include "kernels/q8_acts.h"
#include "tensor/dtype.h"

namespace ug::kern {

struct MatmulJob {
  DType type;
  const uint8_t* w;  // row o starts at w + o * row_bytes
  uint64_t row_bytes;
  int64_t in, out, n_tokens;
  const float* x;      // [n_tokens, in]
  const Q8Acts* acts;  // quantized x when the kernel for `type` takes 8-bit activations
  float* y;            // [n_tokens, out]
};

// Whether the variant's kernel for `type` takes 8-bit activations (job.acts must then be set).
bool avx512_uses_q8(DType type);
bool avx2_uses_q8(DType type);
bool neon_uses_q8(DType type);
// The order of the 8-bit activations the variant's kernel for `type` reads at this token count.
ActOrder avx512_act_order(DType type, int64_t n_tokens);

// y for rows [r0, r1) and every token. Types without a dedicated kernel are decoded to f32 with
// the reference dequantizer and dotted in f32.
void avx512_rows(const MatmulJob& job, int64_t r0, int64_t r1);
// Parts of avx512_rows: Q4_K and Q6_K (matmul_avx512_kquant.cpp); F32, F16, BF16 and types
// decoded to f32 first (matmul_avx512_float.cpp).
void avx512_kquant_rows(const MatmulJob& job, int64_t r0, int64_t r1);
void avx512_float_rows(const MatmulJob& job, int64_t r0, int64_t r1);
void avx2_rows(const MatmulJob& job, int64_t r0, int64_t r1);
// Repacked Q4_0/Q8_0 (matmul_avx2_lanes.cpp): rows [r0, r1) (r0 even), any token count,
// activations in ActOrder::Lanes; the AVX-512 variant's bits.
void avx2_lanes_rows(const MatmulJob& job, int64_t r0, int64_t r1);
void neon_rows(const MatmulJob& job, int64_t r0, int64_t r1);

// One SIMD variant's entry points, as matmul() dispatches to them.
struct Variant {
  bool (*uses_q8)(DType);
  void (*rows)(const MatmulJob&, int64_t, int64_t);
  ActOrder (*act_order)(DType, int64_t n_tokens);
};
const Variant& variant(Isa isa);  // not for Isa::Scalar

// out[t] = row w · token t0 + t, for one token count (kernels come in tables indexed by it).
using RowFn = void (*)(const uint8_t* w, const MatmulJob& job, int64_t t0, float* out);

// Rows [r0, r1) × every token with fns[nt] (nt = 1..max_tile ≤ 8 tokens): a block of 16 rows
// stays hot while each tile of up to max_tile tokens passes over it. With decode_to_f32, each
// block of rows is first decoded to f32 by the reference dequantizer (types without a kernel of
// their own) and fns must take f32 rows. Compiled for the generic target: it only calls kernels.
void run_row_kernels(const RowFn* fns, int max_tile, const MatmulJob& job, int64_t r0, int64_t r1,
                     bool decode_to_f32);

// A variant's row kernels for the five types most variants cover, each a table indexed by token
// count 1..max_tile; run_row_tables picks the type's table (types without one are decoded to f32
// and use the F32 table).
struct RowTables {
  const RowFn* f32;
  const RowFn* f16;
  const RowFn* bf16;
  const RowFn* q4_0;
  const RowFn* q8_0;
  int max_tile;
};
void run_row_tables(const RowTables& t, const MatmulJob& job, int64_t r0, int64_t r1);

// Rows decoded with the scalar reference dequantizer into a per-thread buffer that grows once.
float* row_scratch(int64_t n);

}  // namespace ug::kern
