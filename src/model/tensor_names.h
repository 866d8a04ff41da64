// Names that tie the two checkpoint formats together (text spec §5.2, §6.3): each per-layer role
// by its GGUF name (blk.L.ROLE.weight) and its HF name (…layers.L.HF_NAME).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tensor/dtype.h"

namespace ug {

// (GGUF role, HF suffix) for every per-layer tensor of a Gemma 4 decoder layer, in GGUF order.
const std::vector<std::pair<const char*, const char*>>& layer_role_names();

// The HF suffix of a GGUF role ("attn_q" -> "self_attn.q_proj.weight"); throws if unknown.
const char* hf_layer_name(const char* gguf_role);

// llama.cpp's general.file_type for a file whose matrices are mostly `t` (formats spec).
uint32_t gguf_file_type(DType t);

}  // namespace ug
