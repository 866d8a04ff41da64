// Random weight matrices of every type and the error bound of the SIMD matmul kernels, shared by
// the x86 kernel tests and the cross-built NEON checker (tests/neon), which has no GoogleTest.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor/half.h"
#include "tensor/quant.h"
#include "tensor/tensor_view.h"

namespace ug::test {

struct Weights {
  std::vector<uint8_t> bytes;
  TensorView view;
  std::vector<float> f32;  // decoded by the reference dequantizer, [out][in]
};

// Quantized normal values where a quantizer exists; Q2_K / Q3_K have none: random codes with
// small f16 super-scales (d and dmin at byte 80 and 82 of a Q2_K block; d at byte 108 of Q3_K).
inline Weights make_weights(DType t, int64_t in, int64_t out, std::mt19937& rng) {
  Weights w;
  const uint64_t rb = row_bytes(t, in);
  w.bytes.resize(rb * static_cast<uint64_t>(out));
  std::vector<float> row(static_cast<size_t>(in));
  if (can_quantize(t)) {
    std::normal_distribution<float> dist(0.f, 0.5f);
    for (int64_t o = 0; o < out; ++o) {
      for (float& v : row) v = dist(rng);
      quantize_row(t, row.data(), w.bytes.data() + rb * static_cast<uint64_t>(o), in);
    }
  } else {
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : w.bytes) b = static_cast<uint8_t>(byte(rng));
    const int64_t bb = dtype_info(t).block_bytes;
    const std::vector<int> offs =
        t == DType::Q2_K ? std::vector<int>{80, 82} : std::vector<int>{108};
    std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
    for (size_t b = 0; b < w.bytes.size(); b += static_cast<size_t>(bb))
      for (int off : offs) {
        const uint16_t h = f32_to_f16(scale(rng));
        std::memcpy(&w.bytes[b + static_cast<size_t>(off)], &h, 2);
      }
  }
  w.view.name = std::string("w_") + dtype_name(t);
  w.view.type = t;
  w.view.ne = {in, out};
  w.view.data = w.bytes.data();
  w.view.nbytes = w.bytes.size();
  w.f32.resize(static_cast<size_t>(in * out));
  for (int64_t o = 0; o < out; ++o) dequantize_row(t, w.view.row(o), w.f32.data() + o * in, in);
  return w;
}

inline std::vector<float> random_x(int64_t n, int64_t in, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(n * in));
  for (float& v : x) v = dist(rng);
  return x;
}

// Bound on |kernel − exact| for output row o and one token's x[in]. Rounding x to 8 bits per
// block of 32 (q8 kernels) moves each element by at most max|x_block| / 254, so the result moves
// by at most Σ_i |w_i| · max|x_block(i)| / 254; on top of that, 1e-5 of Σ |w_i·x_i| covers f32
// summation order.
inline double tolerance(bool q8, const Weights& w, const float* x, int64_t in, int64_t o) {
  double mag = 0, q8_bound = 0;
  float amax = 0;
  for (int64_t i = 0; i < in; ++i) {
    if (q8 && i % 32 == 0) {
      amax = 0;
      for (int64_t j = i; j < i + 32; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    }
    const double wi = std::fabs(w.f32[o * in + i]);
    mag += wi * std::fabs(x[i]);
    q8_bound += wi * amax / 254.0;
  }
  return q8_bound * 1.001 + 1e-5 * mag + 1e-30;
}

// Σ_i w[o][i]·x[i] in double, from the decoded weights.
inline double reference(const Weights& w, const float* x, int64_t in, int64_t o) {
  double s = 0;
  for (int64_t i = 0; i < in; ++i) s += static_cast<double>(w.f32[o * in + i]) * x[i];
  return s;
}

}  // namespace ug::test
