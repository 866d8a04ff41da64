#include "model/tensor_names.h"

#include <cstring>

#include "base/error.h"

namespace ug {

const std::vector<std::pair<const char*, const char*>>& layer_role_names() {
  static const std::vector<std::pair<const char*, const char*>> kRoles = {
      {"attn_norm", "input_layernorm.weight"},
      {"attn_q", "self_attn.q_proj.weight"},
      {"attn_k", "self_attn.k_proj.weight"},
      {"attn_v", "self_attn.v_proj.weight"},
      {"attn_output", "self_attn.o_proj.weight"},
      {"attn_q_norm", "self_attn.q_norm.weight"},
      {"attn_k_norm", "self_attn.k_norm.weight"},
      {"post_attention_norm", "post_attention_layernorm.weight"},
      {"ffn_norm", "pre_feedforward_layernorm.weight"},
      {"ffn_gate", "mlp.gate_proj.weight"},
      {"ffn_up", "mlp.up_proj.weight"},
      {"ffn_down", "mlp.down_proj.weight"},
      {"post_ffw_norm", "post_feedforward_layernorm.weight"},
      {"layer_output_scale", "layer_scalar"},
  };
  return kRoles;
}

const char* hf_layer_name(const char* gguf_role) {
  for (const auto& [g, h] : layer_role_names())
    if (std::strcmp(g, gguf_role) == 0) return h;
  fail("internal: unknown layer role ", gguf_role);
}

uint32_t gguf_file_type(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q2_K: return 10;
    case DType::Q3_K: return 12;  // Q3_K_M
    case DType::Q4_K: return 14;  // Q4_K_S: every matrix Q4_K
    case DType::Q5_K: return 16;  // Q5_K_S
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: fail("no llama.cpp file type for ", dtype_name(t));
  }
}

}  // namespace ug
