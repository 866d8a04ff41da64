// `unigemma info FILE_OR_FOLDER`: what a model file is, every hyperparameter, its tensors, and
// the memory it needs at a context length.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/error.h"
#include "base/human_bytes.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/safetensors.h"
#include "model/assistant.h"
#include "model/config.h"
#include "runtime/memory_estimate.h"

namespace ug::cli {

namespace {

struct TensorSummary {
  size_t count = 0;
  int64_t params = 0;
  uint64_t bytes = 0;
  std::map<std::string, size_t> by_type;
};

TensorSummary summarize(const std::vector<TensorView>& tensors) {
  TensorSummary s;
  for (const auto& t : tensors) {
    ++s.count;
    s.params += t.n_elements();
    s.bytes += t.nbytes;
    s.by_type[dtype_name(t.type)]++;
  }
  return s;
}

void print_tensors(const TensorSummary& s) {
  std::printf("tensors:          %zu (", s.count);
  bool first = true;
  for (const auto& [type, n] : s.by_type) {
    std::printf("%s%zu %s", first ? "" : ", ", n, type.c_str());
    first = false;
  }
  std::printf(")\nparameters:       %lld (%.3f B)\ntensor bytes:     %s\n",
              static_cast<long long>(s.params), s.params / 1e9,
              human_bytes(double(s.bytes)).c_str());
}

void print_config(const Gemma4Config& c) {
  int n_global = 0;
  std::string pattern;
  for (int l = 0; l < c.n_layer; ++l) {
    pattern += c.is_sliding[l] ? 'S' : 'G';
    n_global += !c.is_sliding[l];
  }
  std::printf("layers:           %d (%d sliding, %d global): %s\n", c.n_layer, c.n_layer - n_global,
              n_global, pattern.c_str());
  std::printf("embedding:        %d\nfeed-forward:     %d\nquery heads:      %d\n", c.n_embd,
              c.n_ff, c.n_head);
  std::printf("kv heads:         %d sliding, %d global\n", c.n_layer ? c.n_head_kv[0] : 0,
              n_global ? c.n_head_kv[5 < c.n_layer ? 5 : 0] : 0);
  std::printf("head dim:         %d sliding, %d global (K = V on global layers: %s)\n",
              c.head_dim_swa, c.head_dim_global, c.k_eq_v_global ? "yes" : "no");
  std::printf("sliding window:   %d\nvocabulary:       %d\ncontext (train):  %lld\n",
              c.sliding_window, c.vocab_size, static_cast<long long>(c.context_length));
  std::printf("rope:             base %g sliding (all pairs), %g global (%d of %d pairs rotate)\n",
              c.rope_base_swa, c.rope_base_global, c.rotated_pairs_global(), c.head_dim_global / 2);
  std::printf("rms eps:          %g\nfinal softcap:    %g\nembedding scale:  %.6f\n", c.rms_eps,
              c.final_softcap, c.embed_scale());
  std::printf("suppressed ids:   ");
  for (size_t i = 0; i < c.suppress_tokens.size(); ++i)
    std::printf("%s%d", i ? ", " : "", c.suppress_tokens[i]);
  std::printf("\nsampling:         temperature %g, top-k %d, top-p %g\n", c.temperature, c.top_k,
              c.top_p);
  std::printf("text parameters:  %lld\n", static_cast<long long>(c.text_param_count()));
}

// The memory a run at each context takes (runtime/memory_estimate.h); mo carries the weights
// and the tokenizer's sizes.
void print_memory(const Gemma4Config& c, MemoryEstimateOptions mo, int64_t ctx) {
  std::printf(
      "KV cache (f16):   %s per token on global layers; sliding layers hold at most %d + %lld "
      "positions (%s)\n",
      human_bytes(double(c.kv_bytes_per_token_global(2))).c_str(), c.sliding_window,
      static_cast<long long>(mo.rollback),
      human_bytes(double(c.kv_bytes_per_token_sliding(2)) * double(c.sliding_window + mo.rollback))
          .c_str());
  std::printf("memory (estimated peak of `run`, %d threads, %lld-token prefill chunks):\n",
              mo.threads, static_cast<long long>(mo.batch));
  std::vector<int64_t> sizes = {4096, 32768, 131072};
  if (ctx > 0 && std::find(sizes.begin(), sizes.end(), ctx) == sizes.end()) sizes.push_back(ctx);
  for (int64_t n : sizes) {
    if (n > c.context_length) continue;
    mo.n_ctx = n;
    const MemoryEstimate m = estimate_memory(c, mo);
    std::printf(
        "  at %6lld tokens: %s = weights %s + KV %s + compute %s + tokenizer %s + "
        "runtime %s\n",
        static_cast<long long>(n), human_bytes(double(m.total())).c_str(),
        human_bytes(double(m.weights)).c_str(), human_bytes(double(m.kv_cache)).c_str(),
        human_bytes(double(m.compute)).c_str(), human_bytes(double(m.tokenizer)).c_str(),
        human_bytes(double(m.runtime)).c_str());
  }
}

// The tokenizer's sizes, from a GGUF's tokenizer.ggml.* arrays.
void add_vocab_stats(const GgufFile& f, MemoryEstimateOptions& mo) {
  for (const char* key : {"tokenizer.ggml.tokens", "tokenizer.ggml.merges"}) {
    const GgufValue* v = f.find(key);
    if (!v || v->type != GgufType::ARRAY) continue;
    uint64_t bytes = 0;
    for (const auto& e : v->arr) bytes += e.s.size();
    const bool tokens = std::string(key).ends_with("tokens");
    (tokens ? mo.vocab_tokens : mo.merges) = static_cast<int64_t>(v->arr.size());
    (tokens ? mo.vocab_bytes : mo.merge_bytes) = bytes;
  }
}

// The same from tokenizer.json (model.vocab, model.merges as strings or pairs).
void add_vocab_stats(const nlohmann::json& tok, MemoryEstimateOptions& mo) {
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object()) return;
  mo.tokenizer_json = true;
  const auto& model = tok["model"];
  if (model.contains("vocab") && model["vocab"].is_object()) {
    mo.vocab_tokens = static_cast<int64_t>(model["vocab"].size());
    for (const auto& [piece, id] : model["vocab"].items()) mo.vocab_bytes += piece.size();
  }
  if (model.contains("merges") && model["merges"].is_array()) {
    mo.merges = static_cast<int64_t>(model["merges"].size());
    for (const auto& m : model["merges"]) {
      if (m.is_string()) mo.merge_bytes += m.get_ref<const std::string&>().size();
      if (m.is_array())
        for (const auto& part : m)
          if (part.is_string()) mo.merge_bytes += part.get_ref<const std::string&>().size() + 1;
    }
  }
}

void info_gguf(const std::string& path, MemoryEstimateOptions mo, int64_t ctx) {
  GgufFile f(path);
  std::string arch =
      f.find("general.architecture") ? f.get("general.architecture").as_string() : "?";
  TensorSummary s = summarize(f.tensors());
  std::printf("file:             %s\nformat:           GGUF v%u (alignment %llu), %s\n",
              path.c_str(), f.version(), static_cast<unsigned long long>(f.alignment()),
              human_bytes(double(f.file_size())).c_str());
  std::printf("architecture:     %s\n", arch.c_str());
  if (const GgufValue* n = f.find("general.name"))
    std::printf("name:             %s\n", n->as_string().c_str());
  print_tensors(s);
  if (arch == "gemma4") {
    const Gemma4Config c = Gemma4Config::from_gguf(f);
    print_config(c);
    mo.weight_bytes += f.file_size();  // the metadata's pages are read too
    add_vocab_stats(f, mo);
    print_memory(c, mo, ctx);
  } else if (arch == "clip") {
    for (const char* k : {"clip.vision.projector_type", "clip.audio.projector_type"})
      if (const GgufValue* v = f.find(k))
        std::printf("%-18s%s\n", (std::string(k + 5) + ":").c_str(), v->as_string().c_str());
    for (const char* k : {"clip.vision.embedding_length", "clip.audio.embedding_length"})
      if (const GgufValue* v = f.find(k))
        std::printf("%-18s%lld\n", (std::string(k + 5) + ":").c_str(),
                    static_cast<long long>(v->as_int()));
  } else {
    for (const auto& k : f.keys()) {
      if (k.rfind(arch + ".", 0) != 0) continue;
      const GgufValue& v = f.get(k);
      if (v.type == GgufType::ARRAY)
        std::printf("%s: array[%zu]\n", k.c_str(), v.arr.size());
      else if (v.is_integer())
        std::printf("%s: %lld\n", k.c_str(), static_cast<long long>(v.as_int()));
      else if (v.is_float())
        std::printf("%s: %g\n", k.c_str(), v.as_float());
    }
  }
}

// An MTP drafter folder (google/gemma-4-12B-it-assistant): its own sizes, and what it needs from
// the model it drafts for (text spec §7.1).
void print_assistant(const AssistantConfig& a) {
  std::string pattern;
  for (bool s : a.is_sliding) pattern += s ? 'S' : 'G';
  std::printf("drafter layers:   %d: %s (no K/V projections: reads the model's KV cache)\n",
              a.n_layer, pattern.c_str());
  std::printf("embedding:        %d (its tied LM head over %d tokens)\nfeed-forward:     %d\n",
              a.n_embd, a.vocab_size, a.n_ff);
  std::printf("query heads:      %d\nhead dim:         %d sliding, %d global\n", a.n_head,
              a.head_dim_swa, a.head_dim_global);
  std::printf("model width:      %d (backbone_hidden_size: the model it drafts for)\n",
              a.n_embd_out);
  std::printf("sliding window:   %d\nrope:             base %g sliding, %g global (partial %g)\n",
              a.sliding_window, a.rope_base_swa, a.rope_base_global, a.partial_rotary_global);
  std::printf("rms eps:          %g\n", a.rms_eps);
}

void info_hf(const std::string& folder, MemoryEstimateOptions mo, int64_t ctx) {
  HfFolder hf = load_hf_folder(folder);
  SafetensorsSet set(folder);
  if (is_hf_assistant_folder(folder)) {
    std::printf("folder:           %s\nformat:           Hugging Face safetensors (%zu shard%s)\n",
                folder.c_str(), set.shard_count(), set.shard_count() == 1 ? "" : "s");
    std::printf("architecture:     %s (MTP assistant)\n",
                hf.config["architectures"][0].get<std::string>().c_str());
    print_tensors(summarize(set.tensors()));
    print_assistant(assistant_config_from_hf(folder));
    return;
  }
  TensorSummary s = summarize(set.tensors());
  std::string arch = hf.config.value("architectures", nlohmann::json::array()).empty()
                         ? "?"
                         : hf.config["architectures"][0].get<std::string>();
  std::printf("folder:           %s\nformat:           Hugging Face safetensors (%zu shard%s)\n",
              folder.c_str(), set.shard_count(), set.shard_count() == 1 ? "" : "s");
  std::printf("architecture:     %s\n", arch.c_str());
  print_tensors(s);
  const nlohmann::json* gen = hf.generation_config.is_null() ? nullptr : &hf.generation_config;
  const Gemma4Config c = Gemma4Config::from_hf(hf.config, gen);
  print_config(c);
  mo.weight_bytes += s.bytes;
  add_vocab_stats(hf.tokenizer, mo);
  print_memory(c, mo, ctx);
}

// The bytes a mmproj or assistant adds to the weights: a GGUF's file, a folder's tensors.
uint64_t side_weight_bytes(const std::string& path) {
  if (std::filesystem::is_directory(path)) return summarize(SafetensorsSet(path).tensors()).bytes;
  return GgufFile(path).file_size();
}

}  // namespace

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "describe a model file or folder");
  static std::string info_path, mmproj, assistant;
  static int64_t ctx = 0;
  static int threads = 0;
  cmd->add_option("model", info_path,
                  "GGUF file, Hugging Face folder, hf://ORG/NAME[:QUANT] or an Ollama model")
      ->required();
  cmd->add_option("-c,--ctx-size", ctx, "also report memory at this context length");
  cmd->add_option("--mmproj", mmproj,
                  "count this projector's weights in the memory figures (default: the one `run` "
                  "picks for an hf:// or Ollama model)");
  cmd->add_option("--assistant", assistant,
                  "count this MTP assistant's weights too (default: the one `run` picks for an "
                  "hf:// model)");
  cmd->add_option("-t,--threads", threads, "threads of the run the memory figures are for")
      ->capture_default_str();
  cmd->callback([] {
    // What `run -m` would load: the sidecars given, else those of an hf:// or Ollama source.
    const hub::ModelSource src = resolve_model_arg(info_path, mmproj.empty(), assistant.empty());
    const std::string& path = src.model;
    MemoryEstimateOptions mo;
    mo.threads = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    for (const std::string& side : {mmproj.empty() ? src.mmproj : mmproj,
                                    assistant.empty() ? src.assistant : assistant})
      if (!side.empty()) mo.weight_bytes += side_weight_bytes(side);
    if (is_hf_folder(path))
      info_hf(path, mo, ctx);
    else if (std::filesystem::is_directory(path))
      fail(path, ": a folder without config.json is not a Hugging Face model folder");
    else
      info_gguf(path, mo, ctx);
  });
}

}  // namespace ug::cli
