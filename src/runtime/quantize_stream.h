// Writes a GGUF file tensor by tensor, converting each from its source (a mapped GGUF or
// safetensors tensor, possibly with its elements reordered, or generated values) to the output
// type in row chunks, so memory use stays near one chunk however large the model is.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "tensor/tensor_view.h"

namespace ug {

// How output (GGUF) element order relates to the source tensor (input spec §1.5, §8.3).
enum class SourceLayout {
  Same,          // identical linear order
  PatchColumns,  // each row: GGUF CHW from source HWC (v.patch_embd / patch_dense)
  PatchVector,   // the 1-D patch vector, CHW from HWC (v.patch_norm.1 / patch_ln1)
  PosTable,      // GGUF ne {W, T, 2} from HF [T, 2, W] (ggml ne {W, 2, T})
};

struct StreamTensor {
  std::string name;
  std::vector<int64_t> ne;          // output shape, ggml order
  DType type = DType::F32;          // output type
  const TensorView* src = nullptr;  // null: `values` holds the data (f32)
  SourceLayout layout = SourceLayout::Same;
  int patch = 0;              // pixels per patch side for the patch layouts
  std::vector<float> values;  // generated tensors (rope_freqs)
};

struct StreamStats {
  uint64_t bytes_out = 0;
  uint64_t largest_tensor_bytes = 0;
};

// Adds every tensor's info to `w` (whose metadata is already set), writes the file and returns
// sizes. progress (may be null) receives one line per tensor. After each tensor its source pages
// are dropped from this process (madvise), so reading a mapped checkpoint does not accumulate
// resident memory.
StreamStats write_gguf_streamed(GgufWriter& w, const std::vector<StreamTensor>& tensors,
                                const std::string& path, ThreadPool& pool,
                                const std::function<void(const std::string&)>& progress);

// CHW index c within one patch vector of `p`×`p` pixels → its HWC index (input spec §1.5).
inline int64_t chw_to_hwc(int64_t c, int64_t p) {
  const int64_t ch = c / (p * p), rem = c % (p * p);
  return (rem / p) * p * 3 + (rem % p) * 3 + ch;
}

}  // namespace ug
