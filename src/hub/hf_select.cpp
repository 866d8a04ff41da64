#include "hub/hf_select.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "hub/hf_cache.h"

namespace ug::hub {

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string base_name(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string dir_name(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "" : p.substr(0, slash);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_gguf(const std::string& p) { return ends_with(upper(p), ".GGUF"); }

bool name_has(const std::string& p, const char* word) {
  return upper(base_name(p)).find(upper(word)) != std::string::npos;
}

bool is_mmproj(const std::string& p) { return is_gguf(p) && name_has(p, "mmproj"); }
bool is_assistant(const std::string& p) {
  return is_gguf(p) && !is_mmproj(p) && (name_has(p, "assistant") || name_has(p, "mtp"));
}
bool is_model(const std::string& p) {
  return is_gguf(p) && !is_mmproj(p) && !is_assistant(p) && !name_has(p, "imatrix");
}

// "-00001-of-00003.gguf"
bool is_split(const std::string& p) {
  const std::string u = upper(base_name(p));
  const size_t of = u.rfind("-OF-");
  return of != std::string::npos && of >= 6 && u[of - 6] == '-' && ends_with(u, ".GGUF") &&
         u.size() == of + 4 + 5 + 5 && std::all_of(u.begin() + of - 5, u.begin() + of, ::isdigit) &&
         std::all_of(u.begin() + of + 4, u.begin() + of + 9, ::isdigit);
}

// The tag appears in the file name between a separator (or the start) and '-' or '.'.
bool has_tag(const std::string& p, const std::string& tag) {
  const std::string u = upper(base_name(p)), t = upper(tag);
  for (size_t at = u.find(t); at != std::string::npos; at = u.find(t, at + 1)) {
    const bool before = at == 0 || u[at - 1] == '-' || u[at - 1] == '.' || u[at - 1] == '_';
    const size_t end = at + t.size();
    const bool after = end < u.size() && (u[end] == '-' || u[end] == '.');
    if (before && after) return true;
  }
  return false;
}

std::string list_models(const std::vector<std::string>& paths) {
  std::string out;
  for (const auto& p : paths)
    if (is_model(p)) out += "\n  " + p;
  return out.empty() ? " (none)" : out;
}

// The sidecar (mmproj or assistant) that belongs to `model`: same folder, then the tag, then
// the closest bit width.
std::string best_sidecar(const std::vector<std::string>& paths, const std::string& model,
                         const std::string& tag, bool (*kind)(const std::string&)) {
  const std::string dir = dir_name(model);
  const int bits = tag.empty() ? quant_bits(model) : quant_bits("x-" + tag + ".gguf");
  std::string best;
  int best_score = 0;
  for (const auto& p : paths) {
    if (!kind(p)) continue;
    const bool same_dir = dir_name(p) == dir;
    const bool tagged = !tag.empty() && has_tag(p, tag);
    const int score =
        (same_dir ? 1 << 20 : 0) + (tagged ? 1 << 16 : 0) + (1000 - std::abs(quant_bits(p) - bits));
    if (best.empty() || score > best_score) best = p, best_score = score;
  }
  return best;
}

}  // namespace

int quant_bits(const std::string& file_name) {
  std::string u = upper(base_name(file_name));
  if (ends_with(u, ".GGUF")) u.resize(u.size() - 5);
  // The last '-' or '.' separated part that looks like a type: Q4_K_M, IQ4_XS, F16, BF16.
  for (size_t end = u.size(); end > 0;) {
    size_t start = u.find_last_of("-.", end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    const std::string part = u.substr(start, end - start);
    const size_t digit = part.find_first_of("0123456789");
    if (digit != std::string::npos && digit <= 2 &&
        (part[0] == 'Q' || part[0] == 'F' || part[0] == 'B' || part[0] == 'I'))
      return std::atoi(part.c_str() + digit);
    if (start == 0) break;
    end = start - 1;
  }
  return 0;
}

bool is_gguf_repo(const std::vector<std::string>& paths) {
  return std::any_of(paths.begin(), paths.end(), is_model);
}

bool is_safetensors_repo(const std::vector<std::string>& paths) {
  bool config = false, weights = false;
  for (const auto& p : paths) {
    config |= p == "config.json";
    weights |= p.find('/') == std::string::npos && ends_with(p, ".safetensors");
  }
  return config && weights;
}

GgufChoice choose_gguf(const std::vector<std::string>& paths, const std::string& tag) {
  GgufChoice c;
  std::string used_tag = tag;
  if (is_gguf(tag)) {  // a file name, with or without its folder
    for (const auto& p : paths)
      if (upper(p) == upper(tag) || upper(base_name(p)) == upper(tag)) c.model = p;
    if (c.model.empty() || !is_model(c.model))
      fail("no model file '", tag,
           "' in the repository; its GGUF model files:", list_models(paths));
    used_tag = "";
  } else {
    std::vector<std::string> tags = {tag};
    if (tag.empty()) tags = {"Q4_K_M", "Q8_0"};
    for (const auto& t : tags) {
      for (const auto& p : paths)
        if (is_model(p) && has_tag(p, t)) {
          c.model = p;
          break;
        }
      if (!c.model.empty()) break;
    }
    if (c.model.empty() && tag.empty())
      for (const auto& p : paths)
        if (is_model(p)) {
          c.model = p;
          break;
        }
    if (c.model.empty())
      fail("no GGUF model file matches the quant '", tag,
           "'; the repository has:", list_models(paths));
  }
  if (is_split(c.model))
    fail(c.model,
         " is one part of a split GGUF, which unigemma does not read; merge the parts "
         "with llama.cpp's llama-gguf-split --merge, or pick a quant stored as one file");
  c.mmproj = best_sidecar(paths, c.model, used_tag, is_mmproj);
  c.assistant = best_sidecar(paths, c.model, used_tag, is_assistant);
  return c;
}

std::vector<std::string> safetensors_metadata_files(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (p.find('/') != std::string::npos) continue;
    if (ends_with(p, ".json") || ends_with(p, ".jinja") || p == "tokenizer.model") out.push_back(p);
  }
  return out;
}

std::vector<std::string> shards_from_index(const std::string& index_json,
                                           const std::string& where) {
  std::set<std::string> shards;
  try {
    auto j = nlohmann::json::parse(index_json);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      fail(where, ": no weight_map object");
    for (const auto& [tensor, file] : j["weight_map"].items()) {
      if (!file.is_string()) fail(where, ": weight_map[", tensor, "] is not a file name");
      const std::string f = file.get<std::string>();
      if (!is_safe_repo_path(f) || !ends_with(f, ".safetensors"))
        fail(where, ": weight_map names an unusable file '", f, "'");
      shards.insert(f);
    }
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": invalid JSON: ", e.what());
  }
  if (shards.empty()) fail(where, ": the index names no shard");
  return {shards.begin(), shards.end()};
}

}  // namespace ug::hub
