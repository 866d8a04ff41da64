// Helpers shared by the quantization tests: random blocks, a scratch folder, the python reference.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/half.h"

namespace ug::testing_util {

inline const std::vector<DType>& all_decodable_types() {
  static const std::vector<DType> kTypes = {
      DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
      DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};
  return kTypes;
}

// Byte offsets of the f16 scale fields inside one block (ggml-common.h layouts).
inline std::vector<int> f16_field_offsets(DType t) {
  switch (t) {
    case DType::Q4_0:
    case DType::Q5_0:
    case DType::Q8_0:
      return {0};
    case DType::Q4_1:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
      return {0, 2};
    case DType::Q2_K:
      return {80, 82};
    case DType::Q3_K:
      return {108};
    case DType::Q6_K:
      return {208};
    default:
      return {};
  }
}

// Random bytes for n elements of type t, with finite values everywhere: block scales are random
// halves in ±[1e-3, 2) (sometimes 0 or subnormal), plain f16/bf16/f32 elements are random bit
// patterns that are not Inf/NaN.
inline std::vector<uint8_t> random_blocks(DType t, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> bytes(row_bytes(t, n));
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : bytes) b = static_cast<uint8_t>(byte(rng));
  if (t == DType::F32) {
    for (size_t i = 0; i < bytes.size(); i += 4) {
      uint32_t u;
      std::memcpy(&u, &bytes[i], 4);
      if (((u >> 23) & 0xFF) == 0xFF) u &= ~(1u << 30);
      std::memcpy(&bytes[i], &u, 4);
    }
  } else if (t == DType::F16 || t == DType::BF16) {
    const uint16_t exp_mask = t == DType::F16 ? 0x7C00 : 0x7F80;
    for (size_t i = 0; i < bytes.size(); i += 2) {
      uint16_t h;
      std::memcpy(&h, &bytes[i], 2);
      if ((h & exp_mask) == exp_mask) h &= static_cast<uint16_t>(~0x4000);
      std::memcpy(&bytes[i], &h, 2);
    }
  } else {
    const int64_t block_bytes = dtype_info(t).block_bytes;
    std::uniform_real_distribution<float> mag(1e-3f, 2.f);
    std::uniform_int_distribution<int> kind(0, 19);
    for (size_t b = 0; b < bytes.size(); b += static_cast<size_t>(block_bytes)) {
      for (int off : f16_field_offsets(t)) {
        const int k = kind(rng);
        float v = k == 0 ? 0.f : k == 1 ? 3e-6f : mag(rng);
        if (byte(rng) & 1) v = -v;
        const uint16_t h = f32_to_f16(v);
        std::memcpy(&bytes[b + static_cast<size_t>(off)], &h, 2);
      }
    }
  }
  return bytes;
}

inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("ug_tensor_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& p, const void* data, size_t n) {
  std::ofstream f(p, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

inline std::vector<uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// Runs tests/reference/quants_ref.py with the given arguments; returns its exit status.
inline int run_reference(const std::string& args) {
  const std::string cmd =
      std::string("/usr/bin/python3 ") + UG_SOURCE_DIR + "/tests/reference/quants_ref.py " + args;
  return std::system(cmd.c_str());
}

}  // namespace ug::testing_util
