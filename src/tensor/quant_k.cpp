// The 256-element super-block ("K") types. Quantizers follow llama.cpp's quantize_row_q*_K_ref
// step by step (same search over scales, same float operation order) so their output matches.
#include <algorithm>
#include <cmath>

#include "tensor/quant_blocks.h"

namespace ug::quant {

namespace {
constexpr int kQk = 256;
constexpr float kGroupMaxEps = 1e-15f;

// Layouts (bytes):
//   Q2_K {scales:16, qs:64, d:2, dmin:2} = 84
//   Q3_K {hmask:32, qs:64, scales:12, d:2} = 110
//   Q4_K {d:2, dmin:2, scales:12, qs:128} = 144
//   Q5_K {d:2, dmin:2, scales:12, qh:32, qs:128} = 176
//   Q6_K {ql:128, qh:64, scales:16 int8, d:2} = 210
constexpr int kQ2Bytes = 84, kQ3Bytes = 110, kQ4Bytes = 144, kQ5Bytes = 176, kQ6Bytes = 210;

// Q4_K/Q5_K pack eight 6-bit scales and eight 6-bit mins into 12 bytes: sub-blocks 0-3 use the
// low 6 bits of bytes 0-3 (scale) and 4-7 (min); sub-blocks 4-7 keep their low nibbles in bytes
// 8-11 and their top two bits in the spare top bits of bytes 0-7.
void unpack_scale_min(int j, const uint8_t* s, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

void pack_scale_min(int j, uint8_t ls, uint8_t lm, uint8_t* s) {
  if (j < 4) {
    s[j] = ls;
    s[j + 4] = lm;
  } else {
    s[j + 4] = static_cast<uint8_t>((ls & 0x0F) | ((lm & 0x0F) << 4));
    s[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
    s[j] |= static_cast<uint8_t>((lm >> 4) << 6);
  }
}

// Fits x ≈ scale·L − the_min with L in [0, nmax] by weighted least squares, trying nstep+1
// candidate inverse scales around nmax/(max−min) and keeping the lowest weighted error.
// Returns the scale; writes the (non-negative) offset to the_min.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min,
                    uint8_t* laux, float rmin, float rdelta, int nstep) {
  float mn = x[0], mx = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (mn > 0) mn = 0;
  if (mx == mn) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -mn;
    return 0.f;
  }
  float iscale = static_cast<float>(nmax) / (mx - mn);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - mn));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    const float diff = scale * L[i] + mn - x[i];
    best_error += w[i] * (diff * diff);
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (mx - mn);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * (x[i] - mn));
      l = std::max(0, std::min(nmax, l));
      laux[i] = static_cast<uint8_t>(l);
      const float fl = static_cast<float>(l);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * laux[i] + this_min - x[i];
        cur_error += w[i] * (diff * diff);
      }
      if (cur_error < best_error) {
        std::copy(laux, laux + n, L);
        best_error = cur_error;
        scale = this_scale;
        mn = this_min;
      }
    }
  }
  *the_min = -mn;
  return scale;
}

// Symmetric fit x ≈ scale·(L − nmax), L in [0, 2·nmax), weights x², trying inverse scales
// −(nmax + 0.1·k)/max for k in [−9, 9] and keeping the best weighted least-squares fit.
float fit_scale_symmetric(int n, int nmax, const float* x, int8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  auto clamp_l = [nmax](int l) { return std::max(-nmax, std::min(nmax - 1, l)); };
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_l(nearest_int(iscale * x[i]));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_l(nearest_int(iscale * x[i]));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * static_cast<float>(l);
      suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i)
        L[i] = static_cast<int8_t>(nmax + clamp_l(nearest_int(iscale * x[i])));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Shared body of Q4_K and Q5_K: fits the 8 sub-blocks of 32, quantizes their scales and mins to
// 6 bits against two f16 super-scales, then re-derives every level from the stored scales.
// Writes d, dmin and scales; returns levels L[256] in [0, nmax].
void quantize_k_scale_min(const float* x, uint8_t* head, int nmax, float rmin, float rdelta,
                          int nstep, uint8_t* L) {
  float mins[8], scales[8], weights[32];
  uint8_t laux[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] =
        fit_scale_min(32, nmax, xs, weights, L + 32 * j, &mins[j], laux, rmin, rdelta, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t* packed = head + 4;
  std::memset(packed, 0, 12);
  for (int j = 0; j < 8; ++j) {
    const uint8_t ls =
        std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
    pack_scale_min(j, ls, lm, packed);
  }
  store_f16(head, max_scale / 63.f);
  store_f16(head + 2, max_min / 63.f);
  const float d_all = load_f16(head), dmin_all = load_f16(head + 2);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    unpack_scale_min(j, packed, sc, m);
    const float d = d_all * sc;
    if (d == 0) continue;  // keeps the fit's levels, as upstream does
    const float dm = dmin_all * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}
}  // namespace

void dequant_q2_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ2Bytes) {
    const uint8_t* scales = src;
    const uint8_t* qs = src + 16;
    const float d = load_f16(src + 80), dmin = load_f16(src + 82);
    // Element 128h + 32j + l: 2 bits at shift 2j of qs[32h + l]; scale byte 8h + 2j + l/16.
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 4; ++j) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = scales[8 * h + 2 * j + half];
          const float dl = d * static_cast<float>(sc & 0xF);
          const float ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) {
            const int q = (qs[32 * h + 16 * half + l] >> (2 * j)) & 3;
            *dst++ = dl * static_cast<float>(q) - ml;
          }
        }
      }
    }
  }
}

void dequant_q3_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ3Bytes) {
    const uint8_t* hmask = src;
    const uint8_t* qs = src + 32;
    const uint8_t* sb = src + 96;
    const float d_all = load_f16(src + 108);
    // 16 signed 6-bit scales: low nibble from bytes 0-7, high 2 bits from bytes 8-11.
    int scales[16];
    for (int j = 0; j < 16; ++j) {
      const int lo = j < 8 ? (sb[j] & 0xF) : (sb[j - 8] >> 4);
      const int hi = (sb[8 + j % 4] >> (2 * (j / 4))) & 3;
      scales[j] = (lo | (hi << 4)) - 32;
    }
    // Element 128h + 32j + l: low 2 bits at shift 2j of qs[32h + l]; high bit (4h + j) of
    // hmask[l], where a clear bit subtracts 4.
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 4; ++j) {
        const int bit = 4 * h + j;
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * static_cast<float>(scales[8 * h + 2 * j + half]);
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int q = ((qs[32 * h + l] >> (2 * j)) & 3) - (((hmask[l] >> bit) & 1) ? 0 : 4);
            *dst++ = dl * static_cast<float>(q);
          }
        }
      }
    }
  }
}

void dequant_q4_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ4Bytes) {
    const float d = load_f16(src), dmin = load_f16(src + 2);
    const uint8_t* packed = src + 4;
    const uint8_t* q = src + 16;
    // Each 64 elements: 32 low nibbles of q[0..31] (sub-block 2c), then 32 high nibbles (2c+1).
    for (int c = 0; c < 4; ++c, q += 32) {
      uint8_t sc, m;
      unpack_scale_min(2 * c, packed, sc, m);
      const float d1 = d * sc, m1 = dmin * m;
      unpack_scale_min(2 * c + 1, packed, sc, m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *dst++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *dst++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void dequant_q5_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ5Bytes) {
    const float d = load_f16(src), dmin = load_f16(src + 2);
    const uint8_t* packed = src + 4;
    const uint8_t* qh = src + 16;
    const uint8_t* ql = src + 48;
    // As Q4_K, with the fifth bit of chunk c's low/high half in bits 2c / 2c+1 of qh[l].
    for (int c = 0; c < 4; ++c, ql += 32) {
      uint8_t sc, m;
      unpack_scale_min(2 * c, packed, sc, m);
      const float d1 = d * sc, m1 = dmin * m;
      unpack_scale_min(2 * c + 1, packed, sc, m);
      const float d2 = d * sc, m2 = dmin * m;
      const int b1 = 2 * c, b2 = 2 * c + 1;
      for (int l = 0; l < 32; ++l)
        *dst++ = d1 * static_cast<float>((ql[l] & 0xF) + (((qh[l] >> b1) & 1) << 4)) - m1;
      for (int l = 0; l < 32; ++l)
        *dst++ = d2 * static_cast<float>((ql[l] >> 4) + (((qh[l] >> b2) & 1) << 4)) - m2;
    }
  }
}

void dequant_q6_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += kQ6Bytes, dst += kQk) {
    const float d = load_f16(src + 208);
    const int8_t* sc = reinterpret_cast<const int8_t*>(src + 192);
    // Per 128 elements: ql[0..63] holds low nibbles (elements 0-63) and high nibbles (64-127);
    // qh[l] holds the top 2 bits of elements l, l+32, l+64, l+96.
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = src + 64 * h;
      const uint8_t* qh = src + 128 + 32 * h;
      const int8_t* s = sc + 8 * h;
      float* y = dst + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(s[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(s[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(s[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(s[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void quant_q4_k(const float* src, uint8_t* dst, int64_t nb) {
  uint8_t L[kQk];
  for (int64_t b = 0; b < nb; ++b, src += kQk, dst += kQ4Bytes) {
    quantize_k_scale_min(src, dst, 15, -1.f, 0.1f, 20, L);
    uint8_t* q = dst + 16;
    for (int c = 0; c < 4; ++c, q += 32)
      for (int l = 0; l < 32; ++l)
        q[l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + l + 32] << 4));
  }
}

void quant_q5_k(const float* src, uint8_t* dst, int64_t nb) {
  uint8_t L[kQk];
  for (int64_t b = 0; b < nb; ++b, src += kQk, dst += kQ5Bytes) {
    quantize_k_scale_min(src, dst, 31, -0.5f, 0.1f, 15, L);
    uint8_t* qh = dst + 16;
    uint8_t* ql = dst + 48;
    std::memset(qh, 0, 32);
    for (int c = 0; c < 4; ++c, ql += 32) {
      for (int l = 0; l < 32; ++l) {
        const int l1 = L[64 * c + l], l2 = L[64 * c + l + 32];
        qh[l] |= static_cast<uint8_t>(((l1 >> 4) << (2 * c)) | ((l2 >> 4) << (2 * c + 1)));
        ql[l] = static_cast<uint8_t>((l1 & 0xF) | ((l2 & 0xF) << 4));
      }
    }
  }
}

void quant_q6_k(const float* src, uint8_t* dst, int64_t nb) {
  int8_t L[kQk];
  float scales[16];
  for (int64_t b = 0; b < nb; ++b, src += kQk, dst += kQ6Bytes) {
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
      scales[ib] = fit_scale_symmetric(16, 32, src + 16 * ib, L + 16 * ib);
      if (std::fabs(scales[ib]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[ib]);
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(dst, 0, kQ6Bytes);
      continue;
    }
    int8_t* sc = reinterpret_cast<int8_t*>(dst + 192);
    const float iscale = -128.f / max_scale;
    store_f16(dst + 208, 1 / iscale);
    for (int ib = 0; ib < 16; ++ib)
      sc[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    const float d_all = load_f16(dst + 208);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(sc[j]);
      if (d == 0) continue;  // keeps the fit's levels, as upstream does
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(src[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }
    uint8_t* ql = dst;
    uint8_t* qh = dst + 128;
    for (int h = 0; h < 2; ++h, ql += 64, qh += 32) {
      const int8_t* Lh = L + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int a = Lh[l], b2 = Lh[l + 32], c = Lh[l + 64], e = Lh[l + 96];
        ql[l] = static_cast<uint8_t>((a & 0xF) | ((c & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((b2 & 0xF) | ((e & 0xF) << 4));
        qh[l] =
            static_cast<uint8_t>((a >> 4) | ((b2 >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
      }
    }
  }
}

}  // namespace ug::quant
