#include "cli/model_options.h"

#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "text/chat_format.h"
#include "tensor/dtype.h"

namespace ug::cli {

void ModelOptions::add_to(CLI::App* cmd, bool with_runtime) {
  cmd->add_option("-m,--model", model, "GGUF file or Hugging Face folder")->required();
  cmd->add_option("--mmproj", mmproj, "GGUF vision/audio projector (mmproj) for a GGUF model");
  cmd->add_option("--assistant", assistant, "MTP assistant (drafter), GGUF or HF folder: speculative decoding");
  if (with_runtime) {
    cmd->add_option("--quantize", quantize, "quantize weights on load: q4_0, q8_0, q4_k, q6_k, ...");
    cmd->add_option("-t,--threads", threads, "threads (default: one per hardware thread)");
    cmd->add_option("-c,--ctx-size", ctx_size, "context size in tokens")->capture_default_str();
  }
}

LoadedModel ModelOptions::load() const {
  LoadOptions o;
  o.mmproj_path = mmproj;
  o.threads = threads;
  if (!quantize.empty()) {
    auto t = dtype_from_name(quantize);
    if (!t) fail("--quantize: unknown type '", quantize, "'");
    o.quantize = *t;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::fprintf(stderr, "loading %s%s%s ...\n", model.c_str(), mmproj.empty() ? "" : " + ",
               mmproj.c_str());
  LoadedModel m = load_model(model, o, assistant);
  if (!m.chat_template.empty() && m.chat_template != gemma4_chat_template())
    std::fprintf(stderr,
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
