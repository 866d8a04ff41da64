#include "runtime/quantize_plan.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "model/tensor_names.h"

namespace ug {

namespace {

bool is_k_quant(DType t) {
  return t == DType::Q2_K || t == DType::Q3_K || t == DType::Q4_K || t == DType::Q5_K ||
         t == DType::Q6_K;
}

}  // namespace

const char* quant_scheme_names() { return "q4_0 q8_0 q4_k_m q5_k_m q6_k bf16 f16 f32"; }

QuantScheme parse_quant_scheme(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  QuantScheme s;
  s.name = n;
  if (n == "f32")
    s.base = DType::F32;
  else if (n == "f16")
    s.base = DType::F16;
  else if (n == "bf16")
    s.base = DType::BF16;
  else if (n == "q8_0")
    s.base = DType::Q8_0;
  else if (n == "q4_0")
    s.base = DType::Q4_0;
  else if (n == "q6_k")
    s.base = DType::Q6_K;
  else if (n == "q4_k_m" || n == "q5_k_m") {
    // llama-quantize's _M mixes: the same rules over a Q4_K or Q5_K base.
    s.base = n == "q4_k_m" ? DType::Q4_K : DType::Q5_K;
    s.k_mix = true;
    s.file_type = n == "q4_k_m" ? 15 : 17;  // MOSTLY_Q4_K_M, MOSTLY_Q5_K_M
    return s;
  } else {
    fail("unknown quantization type '", name, "' (expected one of: ", quant_scheme_names(), ")");
  }
  s.file_type = gguf_file_type(s.base);
  return s;
}

bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

TypeChooser::TypeChooser(const QuantScheme& scheme, const std::vector<std::string>& names,
                         bool pure)
    : scheme_(scheme), pure_(pure) {
  std::vector<std::string> v, down;
  for (const auto& n : names) {
    if (n == "output.weight") has_output_ = true;
    if (n.find("attn_v.weight") != std::string::npos) v.push_back(n);
    if (n.find("ffn_down") != std::string::npos) down.push_back(n);
  }
  for (size_t i = 0; i < v.size(); ++i) v_index_[v[i]] = {int(i), int(v.size())};
  for (size_t i = 0; i < down.size(); ++i) down_index_[down[i]] = {int(i), int(down.size())};
}

DType TypeChooser::matrix_type(const std::string& name, const std::vector<int64_t>& ne) const {
  DType t = scheme_.base;
  const int64_t ne0 = ne.empty() ? 1 : ne[0];
  const bool quantized = t != DType::F32 && t != DType::F16 && t != DType::BF16;
  if (quantized && !pure_) {
    // The LM head (here the tied token_embd) is the tensor most sensitive to quantization.
    if (name == "output.weight" || (!has_output_ && name == "token_embd.weight")) {
      if (ne0 % dtype_info(t).block != 0)
        t = DType::Q8_0;
      else if (t != DType::Q8_0)
        t = DType::Q6_K;
    } else if (scheme_.k_mix) {
      auto v = v_index_.find(name);
      if (v != v_index_.end() && use_more_bits(v->second.first, v->second.second)) t = DType::Q6_K;
      auto d = down_index_.find(name);
      if (d != down_index_.end() && use_more_bits(d->second.first, d->second.second))
        t = DType::Q6_K;
    }
  }
  return fit_row_length(t, ne0);
}

}  // namespace ug
