#include "hub/ollama_store.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/error.h"
#include "hub/sha256.h"

namespace ug::hub {

namespace fs = std::filesystem;

namespace {

// host may carry a port ("example.com:5000").
bool valid_part(const std::string& s, bool host = false) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' &&
        !(host && c == ':'))
      return false;
  return s.find("..") == std::string::npos;
}

// "sha256:<64 hex>" -> blobs/sha256-<hex>; anything else is refused (no path can escape).
fs::path blob_path(const fs::path& dir, const std::string& digest, const fs::path& manifest) {
  const std::string prefix = "sha256:";
  if (digest.rfind(prefix, 0) != 0 || !is_sha256_hex(digest.substr(prefix.size())))
    fail(manifest.string(), ": layer digest '", digest, "' is not sha256:<64 hex digits>");
  return dir / "blobs" / ("sha256-" + digest.substr(prefix.size()));
}

}  // namespace

std::string OllamaName::display() const {
  std::string s = model + ":" + tag;
  if (ns != "library" || host != "registry.ollama.ai") s = ns + "/" + s;
  if (host != "registry.ollama.ai") s = host + "/" + s;
  return s;
}

std::optional<OllamaName> parse_ollama_name(const std::string& text) {
  OllamaName n;
  std::string t = text;
  const size_t colon = t.rfind(':');
  const size_t last_slash = t.rfind('/');
  if (colon != std::string::npos && (last_slash == std::string::npos || colon > last_slash)) {
    n.tag = t.substr(colon + 1);
    t = t.substr(0, colon);
  }
  std::vector<std::string> parts;
  size_t a = 0;
  while (true) {
    size_t b = t.find('/', a);
    parts.push_back(t.substr(a, b == std::string::npos ? std::string::npos : b - a));
    if (b == std::string::npos) break;
    a = b + 1;
  }
  if (parts.size() > 3) return std::nullopt;
  n.model = parts.back();
  if (parts.size() >= 2) n.ns = parts[parts.size() - 2];
  if (parts.size() == 3) n.host = parts[0];
  if (!valid_part(n.host, true)) return std::nullopt;
  for (const auto* p : {&n.ns, &n.model, &n.tag})
    if (!valid_part(*p)) return std::nullopt;
  return n;
}

fs::path ollama_models_dir() {
  if (const char* m = std::getenv("OLLAMA_MODELS"); m && *m) return m;
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".ollama" / "models";
}

std::optional<OllamaModel> find_ollama_model(const OllamaName& name, const fs::path& dir) {
  const fs::path manifest = dir / "manifests" / name.host / name.ns / name.model / name.tag;
  std::error_code ec;
  if (!fs::is_regular_file(manifest, ec)) return std::nullopt;
  if (fs::file_size(manifest, ec) > (1u << 20))
    fail(manifest.string(), ": too large for a manifest");
  std::ifstream in(manifest, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  OllamaModel m;
  m.name = name.display();
  m.manifest = manifest;
  std::vector<std::string> kinds;
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object() || !j.contains("layers") || !j["layers"].is_array())
      fail(manifest.string(), ": not an Ollama manifest (no layers)");
    for (const auto& l : j["layers"]) {
      if (!l.is_object() || !l.contains("mediaType") || !l["mediaType"].is_string() ||
          !l.contains("digest") || !l["digest"].is_string())
        fail(manifest.string(), ": a layer without mediaType or digest");
      const std::string type = l["mediaType"].get<std::string>();
      kinds.push_back(type);
      const std::string digest = l["digest"].get<std::string>();
      if (type == "application/vnd.ollama.image.model")
        m.model = blob_path(dir, digest, manifest);
      else if (type == "application/vnd.ollama.image.projector")
        m.projector = blob_path(dir, digest, manifest);
      else if (type == "application/vnd.ollama.image.params")
        m.params = blob_path(dir, digest, manifest);
    }
  } catch (const nlohmann::json::exception& e) {
    fail(manifest.string(), ": invalid JSON: ", e.what());
  }
  if (m.model.empty()) {
    std::string list;
    for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
    fail("Ollama model ", m.name,
         " has no GGUF model layer (application/vnd.ollama.image.model; "
         "its layers: ",
         list.empty() ? "none" : list, "); unigemma reads GGUF models only");
  }
  for (const auto* p : {&m.model, &m.projector, &m.params})
    if (!p->empty() && !fs::is_regular_file(*p, ec))
      fail("Ollama model ", m.name, ": the blob ", p->string(),
           " named by its manifest is missing (an interrupted `ollama pull`?)");
  return m;
}

}  // namespace ug::hub
