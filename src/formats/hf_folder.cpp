#include "formats/hf_folder.h"

#include <filesystem>

#include "base/error.h"
#include "base/read_file.h"
#include "formats/json_parse.h"

namespace ug {

namespace {

namespace fs = std::filesystem;

// Null when the file does not exist.
nlohmann::json load_json(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return nullptr;
  return read_json_file(p.string());
}

}  // namespace

bool is_hf_folder(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "config.json", ec);
}

HfFolder load_hf_folder(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) fail(folder, ": not a folder");
  const fs::path dir(folder);
  HfFolder hf;
  hf.path = folder;
  if (!fs::exists(dir / "config.json", ec))
    fail(folder, ": config.json is missing (not a Hugging Face model folder)");
  hf.config = load_json(dir / "config.json");
  if (!hf.config.is_object())
    fail((dir / "config.json").string(), ": expected a JSON object, found ", hf.config.type_name());
  const std::pair<const char*, nlohmann::json*> optional_files[] = {
      {"generation_config.json", &hf.generation_config},
      {"tokenizer.json", &hf.tokenizer},
      {"tokenizer_config.json", &hf.tokenizer_config},
  };
  for (const auto& [name, target] : optional_files) {
    *target = load_json(dir / name);
    if (!target->is_null() && !target->is_object())
      fail((dir / name).string(), ": expected a JSON object, found ", target->type_name());
  }
  if (fs::exists(dir / "chat_template.jinja", ec)) {
    hf.chat_template = read_file((dir / "chat_template.jinja").string());
  } else if (hf.tokenizer_config.is_object()) {
    auto it = hf.tokenizer_config.find("chat_template");
    if (it != hf.tokenizer_config.end() && it->is_string())
      hf.chat_template = it->get<std::string>();
  }
  return hf;
}

}  // namespace ug
