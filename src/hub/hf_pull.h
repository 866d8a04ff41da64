// `unigemma pull` and `-m hf://...`: a model from a Hugging Face repository, downloaded into the
// hub cache when missing, as local paths the loaders take.
#pragma once

#include <filesystem>
#include <string>

#include "hub/hub_settings.h"

namespace ug::hub {

struct HfModelRef {
  std::string repo;               // "google/gemma-4-12B-it"
  std::string tag;                // "Q4_K_M", "model-q4.gguf" or "" (see hf_select.h)
  std::string revision = "main";  // branch, tag or commit
};

// "ORG/NAME[:TAG][@REVISION]", optionally behind "hf://", "hf.co/", "huggingface.co/" or
// "https://huggingface.co/". Throws ug::Error for anything else.
HfModelRef parse_hf_ref(const std::string& text);

struct PullOptions {
  bool mmproj = true;        // GGUF repos: also the matching mmproj
  bool assistant = true;     // the matching MTP assistant (GGUF file, or the known HF repo)
  bool cache_first = false;  // use a complete cached snapshot without asking the hub
};

struct PulledModel {
  std::string repo, commit;
  bool gguf = false;
  std::filesystem::path model;      // the .gguf file, or the snapshot folder of an HF model
  std::filesystem::path mmproj;     // empty when none
  std::filesystem::path assistant;  // empty when none (a .gguf file or an HF folder)
  bool from_cache = false;          // nothing was asked of the hub
};

// The assistant (MTP drafter) repository published beside an HF model, or "" (today:
// google/gemma-4-12B-it -> google/gemma-4-12B-it-assistant).
std::string known_assistant_repo(const std::string& repo);

// Throws ug::Error (see hf_api.h, hf_download.h); with HF_HUB_OFFLINE only the cache is used.
PulledModel hf_pull(const HubSettings& s, const HfModelRef& ref, const PullOptions& o);

}  // namespace ug::hub
