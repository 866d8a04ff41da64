#include "cli/model_options.h"

#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "text/chat_format.h"
#include "tensor/dtype.h"

namespace ug::cli {

namespace {

void report(const hub::ModelSource& s) {
  if (s.origin.empty()) return;
  std::fprintf(stderr, "%s: %s%s%s%s%s\n", s.origin.c_str(), s.model.c_str(),
               s.mmproj.empty() ? "" : "\n  mmproj: ", s.mmproj.c_str(),
               s.assistant.empty() ? "" : "\n  assistant: ", s.assistant.c_str());
}

// --mmproj / --assistant: a path, or the model file of an hf:// or ollama:// source.
std::string resolve_side_file(const std::string& spec) {
  if (!hub::is_hf_source(spec) && !hub::is_ollama_source(spec)) return spec;
  hub::SourceOptions none;
  none.mmproj = none.assistant = false;
  return hub::resolve_model_source(spec, none).model;
}

}  // namespace

hub::ModelSource resolve_model_arg(const std::string& spec, bool mmproj, bool assistant) {
  hub::SourceOptions o;
  o.mmproj = mmproj;
  o.assistant = assistant;
  hub::ModelSource s = hub::resolve_model_source(spec, o);
  report(s);
  return s;
}

void ModelOptions::add_to(CLI::App* cmd, bool with_runtime) {
  cmd->add_option("-m,--model", model,
                  "GGUF file, Hugging Face folder, hf://ORG/NAME[:QUANT] (downloaded when "
                  "missing), ollama://NAME[:TAG] or an Ollama model name")
      ->required();
  cmd->add_option("--mmproj", mmproj,
                  "GGUF vision/audio projector (mmproj) for a GGUF model (default: the one of an "
                  "hf:// or Ollama model)");
  cmd->add_option("--assistant", assistant,
                  "MTP assistant (drafter), GGUF or HF folder: speculative decoding (default: the "
                  "one of an hf:// model)");
  cmd->add_flag("--no-mmproj", no_mmproj, "do not pick the mmproj of an hf:// or Ollama model");
  cmd->add_flag("--no-assistant", no_assistant, "do not pick the assistant of an hf:// model");
  if (with_runtime) {
    cmd->add_option("--quantize", quantize,
                    "quantize weights on load: q4_0, q8_0, q4_k, q6_k, ...");
    cmd->add_option("-t,--threads", threads, "threads (default: one per hardware thread)");
    cmd->add_option("-c,--ctx-size", ctx_size, "context size in tokens")->capture_default_str();
  }
}

hub::ModelSource ModelOptions::resolve() const {
  hub::SourceOptions so;
  so.mmproj = mmproj.empty() && !no_mmproj;
  so.assistant = assistant.empty() && !no_assistant;
  hub::ModelSource s = hub::resolve_model_source(model, so);
  if (!mmproj.empty()) s.mmproj = resolve_side_file(mmproj);
  if (!assistant.empty()) s.assistant = resolve_side_file(assistant);
  report(s);
  return s;
}

LoadedModel ModelOptions::load() const {
  const hub::ModelSource src = resolve();
  LoadOptions o;
  o.mmproj_path = src.mmproj;
  o.threads = threads;
  if (!quantize.empty()) {
    auto t = dtype_from_name(quantize);
    if (!t) fail("--quantize: unknown type '", quantize, "'");
    o.quantize = *t;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::fprintf(stderr, "loading %s%s%s ...\n", src.model.c_str(), src.mmproj.empty() ? "" : " + ",
               src.mmproj.c_str());
  LoadedModel m = load_model(src.model, o, src.assistant);
  if (!m.chat_template.empty() && m.chat_template != gemma4_chat_template())
    std::fprintf(
        stderr,
        "note: this model carries a chat template that differs from the canonical Gemma 4 "
        "template; unigemma renders the canonical Gemma 4 turn format (use --raw to format "
        "the prompt yourself)\n");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "loaded in %.2f s: %d layers, width %d, vocabulary %d%s%s\n", s,
               m.weights->config.n_layer, m.weights->config.n_embd, m.weights->config.vocab_size,
               m.weights->vision ? ", vision" : "", m.weights->audio ? ", audio" : "");
  return m;
}

}  // namespace ug::cli
