// Which files of a Hugging Face repository make up a model, decided from the file list alone
// (so the same rules pick files from the hub's list and from a cached snapshot).
//
// A GGUF repository (llama.cpp's `-hf REPO[:QUANT]` rules):
// - the model is a .gguf whose file name has no "mmproj", "assistant", "mtp" or "imatrix" and
//   contains the quant tag, case-insensitively, between [-._/] (or the start) and [-.]
//   ("Q4_K_M" matches "gemma-4-12b-it-Q4_K_M.gguf", not "...-Q4_K_M_L.gguf"); without a tag the
//   first of Q4_K_M, Q8_0, then the first model file; a tag ending in ".gguf" names the file;
// - the mmproj is a .gguf with "mmproj" in its name, the assistant one with "assistant" or "mtp":
//   from the model's folder, preferring one whose name has the tag, then the one whose bit width
//   is closest to the model's (Q4_K_M: 4, F16: 16).
// A safetensors repository (config.json + *.safetensors): every top-level .json, .jinja and
// tokenizer.model file, and the shards the index names (or model.safetensors).
#pragma once

#include <string>
#include <vector>

#include "hub/hf_api.h"

namespace ug::hub {

struct GgufChoice {
  std::string model;      // repository path
  std::string mmproj;     // "" when the repository has none
  std::string assistant;  // "" when none
};

bool is_gguf_repo(const std::vector<std::string>& paths);         // has a model .gguf file
bool is_safetensors_repo(const std::vector<std::string>& paths);  // config.json + .safetensors

// Throws ug::Error listing the model files when nothing matches the tag, or when the match is a
// split GGUF (which unigemma does not read).
GgufChoice choose_gguf(const std::vector<std::string>& paths, const std::string& tag);

// The non-weight files of a safetensors model folder (config, tokenizer, templates, index).
std::vector<std::string> safetensors_metadata_files(const std::vector<std::string>& paths);

// The shard names of a model.safetensors.index.json (its weight_map values, each once, sorted).
// Throws ug::Error naming `where` when the index is malformed or names an unsafe path.
std::vector<std::string> shards_from_index(const std::string& index_json, const std::string& where);

// The quant's bit width as llama.cpp reads it from a file name ("Q4_K_M" -> 4, "F16" -> 16).
int quant_bits(const std::string& file_name);

}  // namespace ug::hub
