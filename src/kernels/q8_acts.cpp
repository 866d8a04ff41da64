#include "kernels/q8_acts.h"

#include <cmath>
#include <cstring>

#include "base/error.h"

namespace ug {

namespace {
// Round to nearest, ties to even, in a form GCC vectorizes (valid for |v| < 2^22).
inline int32_t round_int(float v) {
  float t = v + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &t, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

void quantize_block(const float* x, int8_t* q, float& d, float& s) {
  float amax = 0.f;
  for (int j = 0; j < 32; ++j) {
    const float a = std::fabs(x[j]);
    amax = a > amax ? a : amax;  // not std::fmax: that stays a library call per element
  }
  d = amax / 127.f;
  const float id = d != 0.f ? 1.f / d : 0.f;
  int32_t sum = 0;
  for (int j = 0; j < 32; ++j) {
    const int32_t v = round_int(x[j] * id);
    q[j] = static_cast<int8_t>(v);
    sum += v;
  }
  s = d * static_cast<float>(sum);
}
}  // namespace

void quantize_acts(const float* x, int64_t n_tokens, int64_t in, Q8Acts& a, ActOrder order) {
  if (in <= 0 || in % 32 != 0)
    fail("quantize_acts: row length ", in, " is not a positive multiple of 32");
  a.in = in;
  a.n_tokens = n_tokens;
  a.order = order;
  const int64_t nb = in / 32;
  switch (order) {
    case ActOrder::Natural:
      a.pairs = (in + 63) / 64;
      break;
    case ActOrder::Q4:
      a.pairs = (in + 127) / 128 * 2;
      break;
    case ActOrder::Lanes:
      a.pairs = (nb + 7) / 8 * 4;
      break;
  }
  const auto n = static_cast<size_t>(n_tokens * a.pairs);
  if (a.qs.size() < n * 64) a.qs.resize(n * 64);
  if (a.d.size() < n * 2) a.d.resize(n * 2);
  if (a.s.size() < n * 2) a.s.resize(n * 2);
  for (int64_t t = 0; t < n_tokens; ++t) {
    int8_t* qs = a.qs.data() + t * a.pairs * 64;
    float* d = a.d.data() + t * a.pairs * 2;
    float* s = a.s.data() + t * a.pairs * 2;
    if (order == ActOrder::Lanes) {
      for (int64_t b = 0; b < a.pairs * 2; ++b) {
        int8_t blk[32] = {};
        d[b] = s[b] = 0.f;
        if (b < nb) quantize_block(x + t * in + b * 32, blk, d[b], s[b]);
        const int64_t g = b / 8, c = b % 8;
        for (int v = 0; v < 8; ++v) std::memcpy(qs + 256 * g + 32 * v + 4 * c, blk + 4 * v, 4);
      }
      continue;
    }
    for (int64_t b = 0; b < a.pairs * 2; ++b) {
      if (order == ActOrder::Q4) {
        int8_t blk[32] = {};
        if (b < nb)
          quantize_block(x + t * in + b * 32, blk, d[b], s[b]);
        else
          d[b] = s[b] = 0.f;
        int8_t* quad = qs + b / 4 * 128 + b % 4 * 16;
        std::memcpy(quad, blk, 16);
        std::memcpy(quad + 64, blk + 16, 16);
      } else if (b < nb) {
        quantize_block(x + t * in + b * 32, qs + b * 32, d[b], s[b]);
      } else {
        std::memset(qs + b * 32, 0, 32);
        d[b] = s[b] = 0.f;
      }
    }
  }
}

}  // namespace ug
