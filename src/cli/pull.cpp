// `unigemma pull REPO[:QUANT]`: downloads a model from Hugging Face into the hub cache (shared
// with huggingface_hub, transformers and llama.cpp) and says how to run it.
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "hub/hf_pull.h"

namespace ug::cli {

namespace {

struct PullArgs {
  std::string ref;
  bool no_mmproj = false, no_assistant = false, quiet = false;
};

void pull(const PullArgs& a) {
  hub::HubSettings s = hub::HubSettings::from_env();
  s.progress = !a.quiet;
  hub::HfModelRef ref = hub::parse_hf_ref(a.ref);
  hub::PullOptions o;
  o.mmproj = !a.no_mmproj;
  o.assistant = !a.no_assistant;
  hub::PulledModel m = hub::hf_pull(s, ref, o);
  std::printf("model:     %s\n", m.model.c_str());
  if (!m.mmproj.empty()) std::printf("mmproj:    %s\n", m.mmproj.c_str());
  if (!m.assistant.empty()) std::printf("assistant: %s\n", m.assistant.c_str());
  std::printf("commit:    %s\ncache:     %s\n", m.commit.c_str(), s.cache_dir.c_str());
  std::printf("run it:    unigemma run -m hf://%s%s%s -p \"Hello\"\n", ref.repo.c_str(),
              ref.tag.empty() ? "" : ":", ref.tag.c_str());
}

}  // namespace

void register_pull(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "pull",
      "download a model from Hugging Face into the hub cache ($HF_HUB_CACHE, $HF_HOME/hub or\n"
      "~/.cache/huggingface/hub): an HF folder (google/gemma-4-12B-it) or a GGUF quant\n"
      "(ORG/NAME-GGUF:Q4_K_M) with its mmproj and assistant; honours HF_TOKEN, HF_ENDPOINT and\n"
      "HF_HUB_OFFLINE, and resumes interrupted downloads");
  static PullArgs a;
  cmd->add_option("MODEL", a.ref,
                  "ORG/NAME[:QUANT or :FILE.gguf][@REVISION] (hf:// prefix optional)")
      ->required();
  cmd->add_flag("--no-mmproj", a.no_mmproj, "GGUF repos: not the vision/audio projector");
  cmd->add_flag("--no-assistant", a.no_assistant, "not the MTP assistant (drafter)");
  cmd->add_flag("--quiet", a.quiet, "no progress bar");
  cmd->callback([] { pull(a); });
}

}  // namespace ug::cli
