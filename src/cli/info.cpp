// `unigemma info FILE_OR_FOLDER`: what a model file is, every hyperparameter, its tensors, and
// the memory it needs at a context length.
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/safetensors.h"
#include "model/config.h"

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

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
  return buf;
}

void print_tensors(const TensorSummary& s) {
  std::printf("tensors:          %zu (", s.count);
  bool first = true;
  for (const auto& [type, n] : s.by_type) {
    std::printf("%s%zu %s", first ? "" : ", ", n, type.c_str());
    first = false;
  }
  std::printf(")\nparameters:       %lld (%.3f B)\ntensor bytes:     %s\n",
              static_cast<long long>(s.params), s.params / 1e9, human_bytes(double(s.bytes)).c_str());
}

void print_config(const Gemma4Config& c, uint64_t weight_bytes, int64_t ctx) {
  int n_global = 0;
  std::string pattern;
  for (int l = 0; l < c.n_layer; ++l) {
    pattern += c.is_sliding[l] ? 'S' : 'G';
    n_global += !c.is_sliding[l];
  }
  std::printf("layers:           %d (%d sliding, %d global): %s\n", c.n_layer, c.n_layer - n_global,
              n_global, pattern.c_str());
  std::printf("embedding:        %d\nfeed-forward:     %d\nquery heads:      %d\n", c.n_embd, c.n_ff,
              c.n_head);
  std::printf("kv heads:         %d sliding, %d global\n",
              c.n_layer ? c.n_head_kv[0] : 0, n_global ? c.n_head_kv[5 < c.n_layer ? 5 : 0] : 0);
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
  std::printf("KV cache (f16):   %s per token on global layers; sliding layers hold at most %d "
              "positions (%s)\n",
              human_bytes(double(c.kv_bytes_per_token_global(2))).c_str(), c.sliding_window,
              human_bytes(double(c.kv_bytes_per_token_sliding(2)) * c.sliding_window).c_str());
  for (int64_t n : {int64_t(8192), int64_t(32768), int64_t(131072), ctx}) {
    if (n <= 0) continue;
    std::printf("memory at %6lldK: KV %s, weights + KV %s\n", static_cast<long long>(n / 1024),
                human_bytes(double(c.kv_cache_bytes(n, 2))).c_str(),
                human_bytes(double(weight_bytes + c.kv_cache_bytes(n, 2))).c_str());
  }
}

void info_gguf(const std::string& path, int64_t ctx) {
  GgufFile f(path);
  std::string arch = f.find("general.architecture") ? f.get("general.architecture").as_string() : "?";
  TensorSummary s = summarize(f.tensors());
  std::printf("file:             %s\nformat:           GGUF v%u (alignment %llu), %s\n",
              path.c_str(), f.version(), static_cast<unsigned long long>(f.alignment()),
              human_bytes(double(f.file_size())).c_str());
  std::printf("architecture:     %s\n", arch.c_str());
  if (const GgufValue* n = f.find("general.name")) std::printf("name:             %s\n", n->as_string().c_str());
  print_tensors(s);
  if (arch == "gemma4") {
    print_config(Gemma4Config::from_gguf(f), s.bytes, ctx);
  } else if (arch == "clip") {
    for (const char* k : {"clip.vision.projector_type", "clip.audio.projector_type"})
      if (const GgufValue* v = f.find(k)) std::printf("%-18s%s\n", (std::string(k + 5) + ":").c_str(), v->as_string().c_str());
    for (const char* k : {"clip.vision.embedding_length", "clip.audio.embedding_length"})
      if (const GgufValue* v = f.find(k)) std::printf("%-18s%lld\n", (std::string(k + 5) + ":").c_str(), static_cast<long long>(v->as_int()));
  } else {
    for (const auto& k : f.keys()) {
      if (k.rfind(arch + ".", 0) != 0) continue;
      const GgufValue& v = f.get(k);
      if (v.type == GgufType::ARRAY) std::printf("%s: array[%zu]\n", k.c_str(), v.arr.size());
      else if (v.is_integer()) std::printf("%s: %lld\n", k.c_str(), static_cast<long long>(v.as_int()));
      else if (v.is_float()) std::printf("%s: %g\n", k.c_str(), v.as_float());
    }
  }
}

void info_hf(const std::string& folder, int64_t ctx) {
  HfFolder hf = load_hf_folder(folder);
  SafetensorsSet set(folder);
  TensorSummary s = summarize(set.tensors());
  std::string arch = hf.config.value("architectures", nlohmann::json::array()).empty()
                         ? "?" : hf.config["architectures"][0].get<std::string>();
  std::printf("folder:           %s\nformat:           Hugging Face safetensors (%zu shard%s)\n",
              folder.c_str(), set.shard_count(), set.shard_count() == 1 ? "" : "s");
  std::printf("architecture:     %s\n", arch.c_str());
  print_tensors(s);
  const nlohmann::json* gen = hf.generation_config.is_null() ? nullptr : &hf.generation_config;
  print_config(Gemma4Config::from_hf(hf.config, gen), s.bytes, ctx);
}

}  // namespace

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "describe a model file or folder");
  static std::string path;
  static int64_t ctx = 0;
  cmd->add_option("model", path, "GGUF file or Hugging Face folder")->required();
  cmd->add_option("-c,--ctx-size", ctx, "also report memory at this context length");
  cmd->callback([] {
    if (is_hf_folder(path)) info_hf(path, ctx);
    else if (std::filesystem::is_directory(path))
      fail(path, ": a folder without config.json is not a Hugging Face model folder");
    else info_gguf(path, ctx);
  });
}

}  // namespace ug::cli
