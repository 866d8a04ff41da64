// The JSON and template files of a Hugging Face checkpoint folder (the weights are read separately
// by SafetensorsSet).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ug {

struct HfFolder {
  nlohmann::json config;             // config.json (required)
  nlohmann::json generation_config;  // generation_config.json, null if absent
  nlohmann::json tokenizer;          // tokenizer.json, null if absent
  nlohmann::json tokenizer_config;   // tokenizer_config.json, null if absent
  // chat_template.jinja, else tokenizer_config["chat_template"] when it is a string; may be empty.
  std::string chat_template;
  std::string path;
};

// Throws ug::Error naming the file when config.json is missing or any present file is not valid
// JSON (or, for config.json, not a JSON object).
HfFolder load_hf_folder(const std::string& folder);

// A folder holding config.json.
bool is_hf_folder(const std::string& path);

}  // namespace ug
