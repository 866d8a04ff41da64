// Repacked Q4_0/Q8_0 matrices (tensor/lanes.h): the layout round-trips, and every path that
// reads it (AVX-512 decode and prefill kernels, the generic path, embedding lookup) gives the
// same bits as the file layout; the AVX2 kernels give the AVX-512 kernels' bits (checked against
// a scalar model of that arithmetic).
#include "tensor/lanes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "isa_guard.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "kernels/q8_acts.h"
#include "matmul_test_weights.h"
#include "tensor/half.h"

namespace ug {
namespace {

using test::IsaGuard;

struct Repacked {
  std::vector<uint8_t> bytes;
  TensorView view;
};

Repacked repack(const TensorView& src) {
  const LanesShape s = lanes_shape(src.type, src.dim(0), src.dim(1));
  Repacked r;
  r.bytes.assign(s.bytes, 0xA5);  // padding must be written, not inherited
  repack_lanes(src, r.bytes.data(), 0, s.pairs);
  r.view = src;
  r.view.type = lanes_of(src.type);
  r.view.data = r.bytes.data();
  r.view.nbytes = r.bytes.size();
  return r;
}

struct Shape {
  int64_t in, out;
};
// Full groups, a partial last group (25 and 2 blocks), odd row counts (one inside a full prefill
// tile), the 12B widths.
const Shape kShapes[] = {{3840, 66}, {800, 35}, {64, 5}, {15360, 34}, {256, 2}, {256, 31}};

TEST(Lanes, RowsComeBackByteForByte) {
  std::mt19937 rng(3);
  for (DType t : {DType::Q4_0, DType::Q8_0})
    for (const Shape& sh : kShapes) {
      test::Weights w = test::make_weights(t, sh.in, sh.out, rng);
      if (t == DType::Q8_0)  // the extreme code survives the +128 storage
        w.bytes[2] = 0x80;
      const Repacked r = repack(w.view);
      std::vector<uint8_t> row(w.view.row_size());
      for (int64_t o = 0; o < sh.out; ++o) {
        lanes_row_to_stored(r.view, o, row.data());
        ASSERT_EQ(0, std::memcmp(row.data(), w.view.row(o), row.size()))
            << dtype_name(t) << " " << sh.in << "x" << sh.out << " row " << o;
      }
      std::vector<float> a(sh.in), b(sh.in);
      embedding_row(w.view, sh.out - 1, a.data());
      embedding_row(r.view, sh.out - 1, b.data());
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4));
    }
}

// AVX-512 has kernels for the layout with the float arithmetic of the file-layout kernels, so
// equal bits for any token count (decode kernel up to 3 tokens, packed prefill from 4) and
// thread count. The scalar path decodes rows to f32, as it does for the file layout (AVX2 has
// kernels for the layout with AVX-512's arithmetic: the next test).
TEST(Lanes, MatmulIsBitIdenticalToTheFileLayout) {
  IsaGuard guard;
  std::vector<Isa> isas = {Isa::Scalar};
  if (isa_supported(Isa::Avx512)) isas.push_back(Isa::Avx512);
  std::mt19937 rng(5);
  for (Isa isa : isas) {
    set_active_isa(isa);
    for (int threads : {1, 3}) {
      ThreadPool pool(threads);
      for (DType t : {DType::Q4_0, DType::Q8_0})
        for (const Shape& sh : kShapes) {
          const test::Weights w = test::make_weights(t, sh.in, sh.out, rng);
          const Repacked r = repack(w.view);
          for (int64_t n : {1, 2, 3, 4, 5, 17}) {
            const std::vector<float> x = test::random_x(n, sh.in, rng);
            std::vector<float> y0(n * sh.out), y1(n * sh.out, -1.f);
            if (isa != Isa::Avx512) set_active_isa(Isa::Scalar);
            matmul(w.view, x.data(), n, y0.data(), pool);
            set_active_isa(isa);
            matmul(r.view, x.data(), n, y1.data(), pool);
            for (size_t i = 0; i < y0.size(); ++i)
              ASSERT_EQ(y0[i], y1[i]) << isa_name(isa) << " " << dtype_name(t) << " " << sh.in
                                      << "x" << sh.out << " tokens " << n << " at " << i;
          }
        }
    }
  }
}

// The AVX-512 kernels' arithmetic for Q4_0/Q8_0 (file layout and repacked alike), one token:
// per block the exact integer dot of the unsigned codes (Q4_0 nibbles; Q8_0 codes + 128) with
// the 8-bit activations, v = dot·d_x − offset·s_x (one rounding for the fnmadd), slot b mod 16
// += d_w·v as one fma, then the slots' fixed tree.
std::vector<float> avx512_arithmetic(const test::Weights& w, const std::vector<float>& x,
                                     int64_t n) {
  const DType t = w.view.type;
  const int64_t in = w.view.dim(0), out = w.view.dim(1), nb = in / 32;
  Q8Acts a;
  quantize_acts(x.data(), n, in, a);
  const float off = t == DType::Q4_0 ? 8.f : 128.f;
  std::vector<float> y(static_cast<size_t>(n * out));
  for (int64_t tok = 0; tok < n; ++tok)
    for (int64_t o = 0; o < out; ++o) {
      float slot[16] = {};
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = w.view.row(o) + b * (t == DType::Q4_0 ? 18 : 34);
        uint16_t h;
        std::memcpy(&h, blk, 2);
        int32_t dot = 0;
        for (int j = 0; j < 32; ++j) {
          const int code = t == DType::Q4_0 ? (j < 16 ? blk[2 + j] & 15 : blk[2 + j - 16] >> 4)
                                            : static_cast<int8_t>(blk[2 + j]) + 128;
          dot += code * a.qs_of(tok)[32 * b + j];
        }
        const float v = std::fmaf(-off, a.s_of(tok)[b], static_cast<float>(dot) * a.d_of(tok)[b]);
        slot[b % 16] = std::fmaf(f16_to_f32(h), v, slot[b % 16]);
      }
      float hs[8], q[4];
      for (int k = 0; k < 8; ++k) hs[k] = slot[k] + slot[k + 8];
      for (int k = 0; k < 4; ++k) q[k] = hs[k] + hs[k + 4];
      y[tok * out + o] = (q[0] + q[2]) + (q[1] + q[3]);
    }
  return y;
}

// Every token count (tiles of up to 4 tokens, rows of a pair done one after the other) and
// thread count, partial last groups, odd row counts, Q8_0's extreme codes -128 and ±127.
TEST(Lanes, Avx2KernelsGiveTheAvx512Bits) {
  if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "the CPU has no AVX2";
  IsaGuard guard;
  std::mt19937 rng(7);
  std::vector<Isa> isas = {Isa::Avx2};
  if (isa_supported(Isa::Avx512)) isas.push_back(Isa::Avx512);
  for (DType t : {DType::Q4_0, DType::Q8_0})
    for (const Shape& sh : kShapes) {
      test::Weights w = test::make_weights(t, sh.in, sh.out, rng);
      if (t == DType::Q8_0) {
        w.bytes[2] = 0x80;
        w.bytes[3] = 0x7F;
        w.bytes[4] = 0x81;
      }
      const Repacked r = repack(w.view);
      for (int64_t n : {1, 2, 3, 4, 5, 9}) {
        std::vector<float> x = test::random_x(n, sh.in, rng);
        x[0] = 40.f;  // block 0 of token 0 quantizes to ±127 and small values
        const std::vector<float> want = avx512_arithmetic(w, x, n);
        for (Isa isa : isas)
          for (int threads : {1, 3}) {
            set_active_isa(isa);
            ThreadPool pool(threads);
            std::vector<float> y(n * sh.out, -1.f);
            matmul(r.view, x.data(), n, y.data(), pool);
            for (size_t i = 0; i < y.size(); ++i)
              ASSERT_EQ(want[i], y[i])
                  << isa_name(isa) << " " << dtype_name(t) << " " << sh.in << "x" << sh.out
                  << " tokens " << n << " threads " << threads << " at " << i;
          }
      }
    }
}

TEST(Lanes, RejectsTypesAndShapesWithoutALayout) {
  EXPECT_THROW(lanes_shape(DType::Q4_K, 256, 2), Error);
  EXPECT_THROW(lanes_shape(DType::Q4_0, 48, 2), Error);
  EXPECT_THROW(lanes_shape(DType::Q8_0, 64, 0), Error);
  EXPECT_FALSE(has_lanes(DType::F16));
  EXPECT_EQ(stored_dtype(DType::Q8_0_LANES), DType::Q8_0);
  // Internal types never come from a file.
  EXPECT_FALSE(dtype_from_id(static_cast<uint32_t>(DType::Q4_0_LANES)).has_value());
  EXPECT_FALSE(dtype_from_name("Q4_0 (repacked)").has_value());
}

}  // namespace
}  // namespace ug
