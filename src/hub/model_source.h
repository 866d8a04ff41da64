// What `-m` may name, resolved to local paths before anything is loaded:
//   a path                          a GGUF file or an HF folder, used as it is
//   hf://ORG/NAME[:QUANT][@REV]     a Hugging Face model, downloaded into the hub cache when
//                                   missing (the only way a model command opens a connection)
//   ollama://NAME[:TAG]             a model Ollama downloaded, its blobs used in place
//   NAME[:TAG]                      the same, when no file or folder of that name exists
// The mmproj and assistant are picked from the same source unless given.
#pragma once

#include <string>

namespace ug::hub {

struct ModelSource {
  std::string model, mmproj, assistant;  // local paths; mmproj / assistant may be empty
  std::string origin;                    // "" for a path, else what it was resolved from
};

struct SourceOptions {
  bool mmproj = true;     // pick the source's mmproj (when it has one)
  bool assistant = true;  // pick the source's assistant (when it has one)
};

bool is_hf_source(const std::string& spec);      // hf://, hf.co/, huggingface.co/...
bool is_ollama_source(const std::string& spec);  // ollama://

// Throws ug::Error: download failures (hub/hf_api.h), a missing Ollama model, or a name that is
// neither a file, a folder nor an Ollama model.
ModelSource resolve_model_source(const std::string& spec, const SourceOptions& o = {});

}  // namespace ug::hub
