// `unigemma quantize`: converts a GGUF (text model, mmproj or assistant) or an HF folder into a
// GGUF of another type, as llama.cpp's converter and llama-quantize would write it, streaming
// one tensor at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "tensor/dtype.h"

namespace ug {

struct QuantizeOptions {
  std::string type = "q8_0";     // parse_quant_scheme: q4_0 q8_0 q4_k_m q6_k bf16 f16 f32
  std::string mmproj_out;        // HF input only: also write the vision/audio front end here
  bool mmproj_optional = false;  // mmproj_out is a default: skipped when there is no front end
  int threads = 0;               // 0: one per hardware thread
  bool pure = false;             // every matrix the base type (no Q6_K head, no Q4_K_M mix)
  std::function<void(const std::string&)> progress;  // one line per tensor; may be null
};

struct QuantizeSummary {
  int tensors = 0;
  uint64_t bytes_in = 0;   // tensor data read
  uint64_t bytes_out = 0;  // tensor data written (all files)
  uint64_t largest_tensor_bytes = 0;
  std::map<DType, int> type_counts;  // output tensors per type (all files)
  std::string mmproj_written;        // the mmproj file written, if any
};

// in: a .gguf file or an HF folder (config.json + safetensors). For HF input, out is the text
// GGUF (arch gemma4) and opts.mmproj_out, when set, the clip GGUF (gemma4uv + gemma4ua). For
// GGUF input every 2-D weight gets the new type and everything else is copied (1-D tensors and
// norms as F32). The output file is removed if anything fails.
QuantizeSummary quantize_model(const std::string& in, const std::string& out,
                               const QuantizeOptions& opts);

}  // namespace ug
