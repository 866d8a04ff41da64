// Where the Hugging Face hub and its cache are, read from the same environment variables
// huggingface_hub reads, so files another tool downloaded are found and reused.
#pragma once

#include <filesystem>
#include <string>

namespace ug::hub {

struct HubSettings {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT (no trailing '/')
  std::string token;                                // HF_TOKEN, else the token file
  std::filesystem::path cache_dir;                  // the hub cache (models--org--name/...)
  bool offline = false;                             // HF_HUB_OFFLINE: never open a connection
  bool progress = true;                             // a progress bar on stderr (TTY only)
  int attempts = 5;                                 // tries per file (resuming each time)
  double retry_delay_s = 1.0;                       // doubled after each failed try

  // Cache: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, where HF_HOME defaults to
  // $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface. Token: HF_TOKEN, else
  // HUGGING_FACE_HUB_TOKEN, else the file HF_TOKEN_PATH (default $HF_HOME/token).
  static HubSettings from_env();
};

// HF_HOME as huggingface_hub computes it.
std::filesystem::path hf_home();

// "1", "true", "yes", "on" (any case).
bool env_flag(const char* name);

}  // namespace ug::hub
