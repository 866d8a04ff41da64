#include "tensor/quant.h"

#include <cstring>

#include "base/error.h"
#include "tensor/half.h"
#include "tensor/quant_blocks.h"

namespace ug {

namespace {
int64_t checked_blocks(DType type, int64_t n, const char* what) {
  const DTypeInfo& info = dtype_info(type);
  if (n < 0 || n % info.block != 0)
    fail(what, " ", info.name, ": a row of ", n, " elements is not a whole number of blocks of ",
         info.block);
  return n / info.block;
}
}  // namespace

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  const int64_t nb = checked_blocks(type, n, "dequantize");
  const auto* s = static_cast<const uint8_t*>(src);
  switch (type) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = quant::f16_bits_to_f32(h);
      }
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      return;
    case DType::Q4_0:
      return quant::dequant_q4_0(s, dst, nb);
    case DType::Q4_1:
      return quant::dequant_q4_1(s, dst, nb);
    case DType::Q5_0:
      return quant::dequant_q5_0(s, dst, nb);
    case DType::Q5_1:
      return quant::dequant_q5_1(s, dst, nb);
    case DType::Q8_0:
      return quant::dequant_q8_0(s, dst, nb);
    case DType::Q2_K:
      return quant::dequant_q2_k(s, dst, nb);
    case DType::Q3_K:
      return quant::dequant_q3_k(s, dst, nb);
    case DType::Q4_K:
      return quant::dequant_q4_k(s, dst, nb);
    case DType::Q5_K:
      return quant::dequant_q5_k(s, dst, nb);
    case DType::Q6_K:
      return quant::dequant_q6_k(s, dst, nb);
    default:
      fail("cannot decode tensor type ", dtype_name(type),
           ": supported are F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K");
  }
}

bool can_quantize(DType type) {
  switch (type) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return true;
    default:
      return false;
  }
}

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  const int64_t nb = checked_blocks(type, n, "quantize to");
  auto* d = static_cast<uint8_t*>(dst);
  switch (type) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) quant::store_f16(d + 2 * i, src[i]);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(d + 2 * i, &h, 2);
      }
      return;
    case DType::Q4_0:
      return quant::quant_q4_0(src, d, nb);
    case DType::Q4_1:
      return quant::quant_q4_1(src, d, nb);
    case DType::Q5_0:
      return quant::quant_q5_0(src, d, nb);
    case DType::Q5_1:
      return quant::quant_q5_1(src, d, nb);
    case DType::Q8_0:
      return quant::quant_q8_0(src, d, nb);
    case DType::Q4_K:
      return quant::quant_q4_k(src, d, nb);
    case DType::Q5_K:
      return quant::quant_q5_k(src, d, nb);
    case DType::Q6_K:
      return quant::quant_q6_k(src, d, nb);
    default:
      fail("cannot quantize to tensor type ", dtype_name(type),
           ": supported are F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K");
  }
}

DType fit_row_length(DType want, int64_t ne0) {
  if (ne0 % dtype_info(want).block == 0) return want;
  DType t = DType::F16;
  const bool k_quant = want == DType::Q2_K || want == DType::Q3_K || want == DType::Q4_K ||
                       want == DType::Q5_K || want == DType::Q6_K;
  if (k_quant) {
    if (want == DType::Q4_K)
      t = DType::Q5_0;
    else if (want == DType::Q5_K)
      t = DType::Q5_1;
    else
      t = DType::Q8_0;  // Q6_K (and the rarer Q2_K/Q3_K, whose IQ4_NL we do not write)
  }
  return ne0 % dtype_info(t).block == 0 ? t : DType::F16;
}

}  // namespace ug
