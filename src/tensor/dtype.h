// Tensor element and block types, numbered as ggml numbers them (GGUF stores these ids).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ug {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
  // Internal only, never read from or written to a file: Q4_0 and Q8_0 weights repacked at load
  // for the AVX-512 decode kernels (tensor/lanes.h). Ids outside ggml's range.
  Q4_0_LANES = 1002,
  Q8_0_LANES = 1008,
};

struct DTypeInfo {
  const char* name;     // "Q4_0", as llama.cpp prints it
  int64_t block;        // elements per block
  int64_t block_bytes;  // bytes per block
};

// The file type a repacked type was made from (the type itself for every other type).
DType stored_dtype(DType t);

// Nullopt for ids this engine does not know (GGUF readers report them as errors).
std::optional<DType> dtype_from_id(uint32_t id);
std::optional<DType> dtype_from_name(const std::string& name);  // case-insensitive
const DTypeInfo& dtype_info(DType t);
inline const char* dtype_name(DType t) { return dtype_info(t).name; }

// Bytes of a row of n elements; throws ug::Error when n is not a multiple of the block.
uint64_t row_bytes(DType t, int64_t n);

}  // namespace ug
