// Which type each tensor gets when a model is converted or re-quantized: llama-quantize's rules
// (src/llama-quant.cpp) for the tensor types unigemma writes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/quant.h"  // fit_row_length

namespace ug {

// A target the user names on the command line (q4_0, q8_0, q4_k_m, q5_k_m, q6_k, bf16, f16,
// f32).
struct QuantScheme {
  std::string name;         // as given, lower case
  DType base = DType::F16;  // the type of most matrices
  uint32_t file_type = 1;   // general.file_type (llama_ftype)
  bool k_mix = false;       // Q4_K_M, Q5_K_M: attn_v / ffn_down of some layers get Q6_K
};

// Throws ug::Error listing the accepted names.
QuantScheme parse_quant_scheme(const std::string& name);
const char* quant_scheme_names();  // "q4_0 q8_0 q4_k_m q5_k_m q6_k bf16 f16 f32"

// Chooses the type of every 2-D weight of one file. Construct it with all tensor names in file
// order (the per-layer rules count attn_v and ffn_down tensors as llama-quantize does).
class TypeChooser {
 public:
  TypeChooser(const QuantScheme& scheme, const std::vector<std::string>& names, bool pure);
  // ne: ggml order. The caller decides which tensors are matrices (2-D weights).
  DType matrix_type(const std::string& name, const std::vector<int64_t>& ne) const;

 private:
  QuantScheme scheme_;
  bool pure_;
  bool has_output_ = false;
  std::map<std::string, std::pair<int, int>> v_index_, down_index_;  // name -> (i, n)
};

// llama-quantize's use_more_bits: the first and last eighth of the layers and every third one
// in between.
bool use_more_bits(int i, int n);

}  // namespace ug
