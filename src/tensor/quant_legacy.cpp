// The 32-element block types. Rounding follows llama.cpp's quantize_row_*_ref exactly (truncating
// casts after +0.5 / +8.5 / +16.5, roundf for Q8_0) so re-quantizing reproduces its files byte for
// byte.
#include <algorithm>
#include <cmath>

#include "tensor/quant_blocks.h"

namespace ug::quant {

namespace {
constexpr int kQk = 32;
constexpr int kHalf = kQk / 2;

// Layouts (bytes): Q4_0 {d:2, qs:16}  Q4_1 {d:2, m:2, qs:16}  Q5_0 {d:2, qh:4, qs:16}
// Q5_1 {d:2, m:2, qh:4, qs:16}  Q8_0 {d:2, qs:32 int8}.
constexpr int kQ40Bytes = 18, kQ41Bytes = 20, kQ50Bytes = 22, kQ51Bytes = 24, kQ80Bytes = 34;

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Signed value of largest magnitude (the first one on ties), as the symmetric types scale by it.
float signed_absmax(const float* x) {
  float amax = 0.f, max = 0.f;
  for (int j = 0; j < kQk; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, float& mn, float& mx) {
  mn = x[0];
  mx = x[0];
  for (int j = 1; j < kQk; ++j) {
    mn = std::min(mn, x[j]);
    mx = std::max(mx, x[j]);
  }
}
}  // namespace

void dequant_q4_0(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ40Bytes, dst += kQk) {
    const float d = load_f16(src);
    const uint8_t* qs = src + 2;
    for (int j = 0; j < kHalf; ++j) {
      dst[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
      dst[j + kHalf] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
  }
}

void dequant_q4_1(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ41Bytes, dst += kQk) {
    const float d = load_f16(src), m = load_f16(src + 2);
    const uint8_t* qs = src + 4;
    for (int j = 0; j < kHalf; ++j) {
      dst[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
      dst[j + kHalf] = static_cast<float>(qs[j] >> 4) * d + m;
    }
  }
}

void dequant_q5_0(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ50Bytes, dst += kQk) {
    const float d = load_f16(src);
    const uint32_t qh = load_u32(src + 2);
    const uint8_t* qs = src + 6;
    for (int j = 0; j < kHalf; ++j) {
      const int lo = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + kHalf)) & 1u) << 4);
      dst[j] = static_cast<float>(lo - 16) * d;
      dst[j + kHalf] = static_cast<float>(hi - 16) * d;
    }
  }
}

void dequant_q5_1(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ51Bytes, dst += kQk) {
    const float d = load_f16(src), m = load_f16(src + 2);
    const uint32_t qh = load_u32(src + 4);
    const uint8_t* qs = src + 8;
    for (int j = 0; j < kHalf; ++j) {
      const int lo = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + kHalf)) & 1u) << 4);
      dst[j] = static_cast<float>(lo) * d + m;
      dst[j + kHalf] = static_cast<float>(hi) * d + m;
    }
  }
}

void dequant_q8_0(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ80Bytes, dst += kQk) {
    const float d = load_f16(src);
    const int8_t* qs = reinterpret_cast<const int8_t*>(src + 2);
    for (int j = 0; j < kQk; ++j) dst[j] = static_cast<float>(qs[j]) * d;
  }
}

void quant_q4_0(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQk, dst += kQ40Bytes) {
    // The extreme value maps to -8, so the full [-8, 7] range is used on the larger side.
    const float d = signed_absmax(src) / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    store_f16(dst, d);
    for (int j = 0; j < kHalf; ++j) {
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(src[j] * id + 8.5f)));
      const int hi =
          std::min(15, static_cast<int>(static_cast<int8_t>(src[j + kHalf] * id + 8.5f)));
      dst[2 + j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quant_q4_1(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQk, dst += kQ41Bytes) {
    float mn, mx;
    min_max(src, mn, mx);
    const float d = (mx - mn) / 15.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    store_f16(dst, d);
    store_f16(dst + 2, mn);
    for (int j = 0; j < kHalf; ++j) {
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>((src[j] - mn) * id + 0.5f)));
      const int hi =
          std::min(15, static_cast<int>(static_cast<int8_t>((src[j + kHalf] - mn) * id + 0.5f)));
      dst[4 + j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quant_q5_0(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQk, dst += kQ50Bytes) {
    const float d = signed_absmax(src) / -16.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    store_f16(dst, d);
    uint32_t qh = 0;
    for (int j = 0; j < kHalf; ++j) {
      const int lo = std::min(31, static_cast<int>(static_cast<int8_t>(src[j] * id + 16.5f)));
      const int hi =
          std::min(31, static_cast<int>(static_cast<int8_t>(src[j + kHalf] * id + 16.5f)));
      dst[6 + j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + kHalf);
    }
    std::memcpy(dst + 2, &qh, 4);
  }
}

void quant_q5_1(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQk, dst += kQ51Bytes) {
    float mn, mx;
    min_max(src, mn, mx);
    const float d = (mx - mn) / 31.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    store_f16(dst, d);
    store_f16(dst + 2, mn);
    uint32_t qh = 0;
    for (int j = 0; j < kHalf; ++j) {
      // No clamp, as upstream: (x - min)/d never exceeds 31 + rounding.
      const int lo = static_cast<uint8_t>((src[j] - mn) * id + 0.5f);
      const int hi = static_cast<uint8_t>((src[j + kHalf] - mn) * id + 0.5f);
      dst[8 + j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + kHalf);
    }
    std::memcpy(dst + 4, &qh, 4);
  }
}

void quant_q8_0(const float* src, uint8_t* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQk, dst += kQ80Bytes) {
    float amax = 0.f;
    for (int j = 0; j < kQk; ++j) amax = std::max(amax, std::fabs(src[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    store_f16(dst, d);
    for (int j = 0; j < kQk; ++j)
      dst[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::round(src[j] * id)));
  }
}

}  // namespace ug::quant
