// Repacked Q4_0/Q8_0 matrices (tensor/lanes.h): the layout round-trips, and every path that
// reads it (AVX-512 decode and prefill kernels, the generic path, embedding lookup) gives the
// same bits as the file layout.
#include "tensor/lanes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "isa_guard.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "matmul_test_weights.h"

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
// thread count. The other variants decode rows to f32, as the scalar path does for the file
// layout.
TEST(Lanes, MatmulIsBitIdenticalToTheFileLayout) {
  IsaGuard guard;
  std::vector<Isa> isas = {Isa::Scalar};
  if (isa_supported(Isa::Avx2)) isas.push_back(Isa::Avx2);
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
