// Models Ollama already downloaded, used in place: $OLLAMA_MODELS (default ~/.ollama/models)
//   manifests/<host>/<namespace>/<model>/<tag>   JSON: layers [{mediaType, digest, size}]
//   blobs/sha256-<hex>                           the layers' bytes
// The layer of type application/vnd.ollama.image.model is the GGUF model, ...image.projector
// its vision/audio projector (mmproj); template, params, system and license layers are small
// text or JSON blobs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace ug::hub {

struct OllamaName {
  std::string host = "registry.ollama.ai";
  std::string ns = "library";
  std::string model;
  std::string tag = "latest";
  std::string display() const;  // "gemma4:12b", "user/m:tag", "host/ns/m:tag"
};

// "[HOST/][NAMESPACE/]MODEL[:TAG]"; nullopt when the text cannot be an Ollama name (empty parts,
// '..', characters other than [A-Za-z0-9._-]).
std::optional<OllamaName> parse_ollama_name(const std::string& text);

struct OllamaModel {
  std::string name;                 // as displayed
  std::filesystem::path manifest;   // the manifest file
  std::filesystem::path model;      // the GGUF blob
  std::filesystem::path projector;  // the projector blob, empty when none
  std::filesystem::path params;     // the params (JSON) blob, empty when none
};

// $OLLAMA_MODELS, else ~/.ollama/models.
std::filesystem::path ollama_models_dir();

// nullopt when no manifest of that name exists. Throws ug::Error when the manifest exists but is
// malformed, has no GGUF model layer (e.g. an MLX/safetensors model), or names a blob that is
// missing.
std::optional<OllamaModel> find_ollama_model(const OllamaName& name,
                                             const std::filesystem::path& models_dir);

}  // namespace ug::hub
