#include "hub/hub_settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

namespace ug::hub {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

fs::path expand_home(const std::string& p) {
  if (p.rfind("~/", 0) == 0 && !env("HOME").empty()) return fs::path(env("HOME")) / p.substr(2);
  return p;
}

}  // namespace

bool env_flag(const char* name) {
  std::string v = env(name);
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

fs::path hf_home() {
  if (!env("HF_HOME").empty()) return expand_home(env("HF_HOME"));
  if (!env("XDG_CACHE_HOME").empty()) return fs::path(env("XDG_CACHE_HOME")) / "huggingface";
  return fs::path(env("HOME").empty() ? "." : env("HOME")) / ".cache" / "huggingface";
}

HubSettings HubSettings::from_env() {
  HubSettings s;
  if (!env("HF_ENDPOINT").empty()) s.endpoint = env("HF_ENDPOINT");
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (!env("HF_HUB_CACHE").empty())
    s.cache_dir = expand_home(env("HF_HUB_CACHE"));
  else if (!env("HUGGINGFACE_HUB_CACHE").empty())
    s.cache_dir = expand_home(env("HUGGINGFACE_HUB_CACHE"));
  else
    s.cache_dir = hf_home() / "hub";
  s.token = trim(env("HF_TOKEN"));
  if (s.token.empty()) s.token = trim(env("HUGGING_FACE_HUB_TOKEN"));
  if (s.token.empty()) {
    fs::path file =
        env("HF_TOKEN_PATH").empty() ? hf_home() / "token" : expand_home(env("HF_TOKEN_PATH"));
    std::ifstream in(file);
    std::string line;
    if (in && std::getline(in, line)) s.token = trim(line);
  }
  s.offline = env_flag("HF_HUB_OFFLINE");
  return s;
}

}  // namespace ug::hub
