// A typed, shaped view of tensor bytes that live elsewhere (a mapped file or an owned buffer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace ug {

struct TensorView {
  std::string name;
  DType type = DType::F32;
  // ggml order: ne[0] is the contiguous dimension. A PyTorch Linear [out, in] is ne = {in, out}.
  std::vector<int64_t> ne;
  const void* data = nullptr;
  uint64_t nbytes = 0;

  int64_t n_elements() const {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    return n;
  }
  int64_t dim(size_t i) const { return i < ne.size() ? ne[i] : 1; }
  int64_t rows() const { return ne.empty() ? 1 : n_elements() / ne[0]; }
  uint64_t row_size() const { return row_bytes(type, dim(0)); }
  const uint8_t* row(int64_t r) const {
    return static_cast<const uint8_t*>(data) + static_cast<uint64_t>(r) * row_size();
  }
};

std::string shape_string(const std::vector<int64_t>& ne);  // "[3840, 262144]"

}  // namespace ug
