#include "hub/model_source.h"

#include <filesystem>

#include "base/error.h"
#include "hub/hf_pull.h"
#include "hub/ollama_store.h"

namespace ug::hub {

namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

ModelSource from_ollama(const OllamaName& name, const SourceOptions& o, bool required) {
  const fs::path dir = ollama_models_dir();
  auto m = find_ollama_model(name, dir);
  if (!m) {
    if (required)
      fail("no Ollama model ", name.display(), " in ", dir.string(),
           " (set OLLAMA_MODELS if Ollama keeps its models elsewhere; `ollama pull ",
           name.display(), "` downloads it)");
    return {};
  }
  ModelSource s;
  s.model = m->model.string();
  if (o.mmproj) s.mmproj = m->projector.string();
  s.origin = "ollama://" + m->name;
  return s;
}

}  // namespace

bool is_hf_source(const std::string& spec) {
  return starts_with(spec, "hf://") || starts_with(spec, "hf.co/") ||
         starts_with(spec, "huggingface.co/") || starts_with(spec, "https://huggingface.co/");
}

bool is_ollama_source(const std::string& spec) { return starts_with(spec, "ollama://"); }

ModelSource resolve_model_source(const std::string& spec, const SourceOptions& o) {
  if (is_hf_source(spec)) {
    PullOptions po;
    po.mmproj = o.mmproj;
    po.assistant = o.assistant;
    po.cache_first = true;
    PulledModel p = hf_pull(HubSettings::from_env(), parse_hf_ref(spec), po);
    return {p.model.string(), p.mmproj.string(), p.assistant.string(), "hf://" + p.repo};
  }
  if (is_ollama_source(spec)) {
    auto name = parse_ollama_name(spec.substr(9));
    if (!name) fail("'", spec, "' is not an Ollama model name (ollama://NAME[:TAG])");
    return from_ollama(*name, o, true);
  }
  std::error_code ec;
  if (fs::exists(spec, ec)) return {spec, "", "", ""};
  if (auto name = parse_ollama_name(spec)) {
    ModelSource s = from_ollama(*name, o, false);
    if (!s.model.empty()) return s;
  }
  fail(spec, ": no such file or folder, and no Ollama model of that name in ",
       ollama_models_dir().string(), " (a Hugging Face model is named hf://ORG/NAME[:QUANT])");
}

}  // namespace ug::hub
