// Images, audio and video end to end (decode → resize → patches/frames → embedders → expanded
// prompt with bidirectional image blocks → decoder) against the independent numpy reference
// (tests/reference/mm_ref.py: PIL resize, wave, its own embedders and masks) on tiny generated
// models in both formats.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "kernels/isa.h"
#include "model/model_fixture.h"
#include "model/npy.h"
#include "runtime/model_loader.h"
#include "model/decoder.h"
#include "runtime/multimodal.h"
#include "text/chat_format.h"
#include "shared_fixtures.h"

namespace ug {
namespace {

namespace fs = std::filesystem;

std::string sh(const std::string& cmd) {
  std::string out = testing::TempDir() + "mm_sh_" + std::to_string(::getpid()) + ".txt";
  int rc = std::system((cmd + " > " + out + " 2>&1").c_str());
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  std::remove(out.c_str());
  if (rc != 0) throw std::runtime_error("command failed: " + cmd + "\n" + ss.str());
  return ss.str();
}

// Test media made with numpy/PIL and FFmpeg (lossless PNG-in-Matroska, so frames decode exactly).
struct Media {
  std::string dir, image, video, wav;
  std::vector<std::string> frames;
};

const Media& media() {
  static Media m = [] {
    Media m;
    m.dir = std::string(UG_BINARY_DIR) + "/test-media/mm-" + std::to_string(::getpid());
    fs::create_directories(m.dir);
    m.image = m.dir + "/photo.png";
    m.wav = std::string(UG_SHARED_DIR) + "/fixtures/media/hello_16k.wav";
    sh("/usr/bin/python3 -c \"import numpy as np; from PIL import Image; r=np.random.default_rng(5); "
       "y,x=np.mgrid[0:130,0:210]; a=np.stack([x%256,(y*2)%256,(x+y)%256],-1).astype(np.int32); "
       "a=np.clip(a+r.integers(-40,40,a.shape),0,255).astype(np.uint8); "
       "Image.fromarray(a).save('" + m.image + "'); "
       "[Image.fromarray(np.roll(a,k*17,1)[:96,:144]).save('" + m.dir + "/f%d.png'%k) "
       "for k in range(4)]\"");
    m.video = m.dir + "/clip.mkv";
    sh("ffmpeg -loglevel error -y -framerate 2 -i " + m.dir + "/f%d.png -c:v png " + m.video);
    for (int k = 0; k < 4; ++k) m.frames.push_back(m.dir + "/f" + std::to_string(k) + ".png");
    return m;
  }();
  return m;
}

MediaInput read(const std::string& path, MediaInput::Kind kind) {
  std::ifstream f(path, std::ios::binary);
  MediaInput in;
  in.kind = kind;
  in.name = path;
  in.bytes.assign(std::istreambuf_iterator<char>(f), {});
  return in;
}

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b, size_t from_row,
                    size_t to_row, int64_t V) {
  double m = 0;
  for (size_t i = from_row * V; i < to_row * V && i < a.size() && i < b.size(); ++i) {
    if (std::isinf(a[i]) && std::isinf(b[i])) continue;
    m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  }
  return m;
}

struct Case {
  Prompt prompt;
  std::vector<float> engine;   // all logits, f32 cache, scalar kernels
  std::vector<float> causal;   // the same with the image blocks made causal
  nlohmann::json ref;          // mm_ref's JSON
  std::vector<float> ref_logits;
  int64_t vocab = 0;
};

std::vector<float> run_engine(const LoadedModel& m, const Prompt& p) {
  Decoder dec(m.weights, 2);
  KvCache cache(m.weights->config, 1024, 256, true);
  std::vector<float> logits;
  Batch b;
  b.tokens = p.tokens;
  b.embeddings.resize(p.tokens.size(), nullptr);
  for (size_t i = 0; i < p.soft.size(); ++i)
    if (!p.soft[i].empty()) b.embeddings[i] = p.soft[i].data();
  b.bidirectional = p.bidirectional;
  b.all_logits = true;
  dec.forward(b, cache, logits);
  return logits;
}

Case run_case(const std::string& model, const std::string& mmproj, bool video) {
  Isa saved = active_isa();
  set_active_isa(Isa::Scalar);
  LoadOptions lo;
  lo.mmproj_path = mmproj;
  LoadedModel m = load_model(model, lo);
  ChatMessage user{"user", {}, "", {}, "", ""};
  std::vector<MediaInput> inputs;
  user.parts.push_back({ContentPart::Image, ""});
  inputs.push_back(read(media().image, MediaInput::Image));
  user.parts.push_back({ContentPart::Audio, ""});
  inputs.push_back(read(media().wav, MediaInput::Audio));
  if (video) {
    user.parts.push_back({ContentPart::Video, ""});
    inputs.push_back(read(media().video, MediaInput::Video));
  }
  user.parts.push_back({ContentPart::Text, "Describe all of this."});
  std::string text = render_chat({user}, ChatOptions{});
  MediaOptions mo;
  mo.image_tokens = 70;
  Case c;
  c.vocab = m.weights->config.vocab_size;
  ThreadPool pool(2);
  c.prompt = build_multimodal_prompt(m, pool, text, inputs, mo);
  c.engine = run_engine(m, c.prompt);
  Prompt causal = c.prompt;
  causal.bidirectional.clear();
  c.causal = run_engine(m, causal);
  set_active_isa(saved);

  std::vector<int32_t> ids = m.tokenizer->encode(text, true);
  std::string npy = testing::TempDir() + "mm_ref_" + std::to_string(::getpid()) + ".npy";
  std::string args = " logits --model " + model + (mmproj.empty() ? "" : " --mmproj " + mmproj) +
                     " --tokens " + join(ids) + " --image " + media().image + " --audio " +
                     media().wav + " --image-tokens 70 --out " + npy;
  if (video) {
    std::string frames;
    for (const auto& f : media().frames) frames += (frames.empty() ? "" : ",") + f;
    args += " --video " + frames + " --video-times 0,0.5,1,1.5";
  }
  c.ref = nlohmann::json::parse(
      sh("/usr/bin/python3 " + std::string(UG_SOURCE_DIR) + "/tests/reference/mm_ref.py" + args));
  c.ref_logits = test::read_npy_f32(npy).data;
  std::remove(npy.c_str());
  return c;
}

void check(const Case& c) {
  EXPECT_EQ(c.prompt.tokens, c.ref["expanded_ids"].get<std::vector<int32_t>>());
  auto blocks = c.ref["bidirectional_blocks"].get<std::vector<std::pair<int64_t, int64_t>>>();
  EXPECT_EQ(c.prompt.bidirectional, blocks);
  const size_t rows = c.prompt.tokens.size();
  double d = max_abs_diff(c.engine, c.ref_logits, 0, rows, c.vocab);
  std::printf("%zu rows (%zu image/video blocks): max |logit difference| vs reference %.3g\n", rows,
              blocks.size(), d);
  EXPECT_LT(d, 2e-3);
  // The mask matters: the same prompt with causal image blocks is far from the reference.
  ASSERT_FALSE(blocks.empty());
  double dc = max_abs_diff(c.causal, c.ref_logits, blocks[0].first, blocks[0].second, c.vocab);
  std::printf("with causal image blocks instead: %.3g\n", dc);
  EXPECT_GT(dc, 1e-2);
}

TEST(MultimodalParity, GgufImageAudioVideoMatchReference) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  std::string g = test::tiny_model("gguf", DType::F32);
  check(run_case(g, test::mmproj_of(g), true));
}

TEST(MultimodalParity, HfImageAndAudioMatchReference) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  std::string h = test::tiny_model("hf", DType::BF16);
  check(run_case(h, "", false));
}

TEST(MultimodalParity, BidirectionalOnGlobalLayersWouldBeWrong) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  std::string g = test::tiny_model("gguf", DType::F32);
  Case c = run_case(g, test::mmproj_of(g), false);
  ASSERT_FALSE(c.prompt.bidirectional.empty());
  auto [b, e] = c.prompt.bidirectional[0];
  std::vector<int32_t> ids;
  LoadOptions lo;
  lo.mmproj_path = test::mmproj_of(g);
  LoadedModel m = load_model(g, lo);
  ChatMessage user{"user", {{ContentPart::Image, ""}, {ContentPart::Audio, ""}, {ContentPart::Text, "Describe all of this."}}, "", {}, "", ""};
  ids = m.tokenizer->encode(render_chat({user}, ChatOptions{}), true);
  std::string npy = testing::TempDir() + "mm_all_" + std::to_string(::getpid()) + ".npy";
  sh("/usr/bin/python3 " + std::string(UG_SOURCE_DIR) + "/tests/reference/mm_ref.py logits --model " +
     g + " --mmproj " + test::mmproj_of(g) + " --tokens " + join(ids) + " --image " +
     media().image + " --audio " + media().wav +
     " --image-tokens 70 --bidirectional-layers all --out " + npy);
  std::vector<float> all_layers = test::read_npy_f32(npy).data;
  std::remove(npy.c_str());
  double d = max_abs_diff(c.engine, all_layers, b, e, c.vocab);
  std::printf("engine vs reference with bidirectional global layers: %.3g\n", d);
  EXPECT_GT(d, 1e-2);
}

TEST(MultimodalInput, MismatchedPlaceholdersAndBadMediaGiveClearErrors) {
  std::string g = test::tiny_model("gguf", DType::F32);
  LoadOptions lo;
  lo.mmproj_path = test::mmproj_of(g);
  LoadedModel m = load_model(g, lo);
  ThreadPool pool(1);
  MediaOptions mo;
  // Two image placeholders, one image.
  try {
    build_multimodal_prompt(m, pool, "<|image|><|image|>", {read(media().image, MediaInput::Image)}, mo);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image"), std::string::npos) << e.what();
  }
  // An input no placeholder takes.
  std::string tone = media().dir + "/tone.wav";
  sh("sox -n -r 16000 -c 1 -b 16 " + tone + " synth 1 sine 440");
  EXPECT_THROW(build_multimodal_prompt(m, pool, "hello", {read(tone, MediaInput::Audio)}, mo), Error);
  // A truncated PNG names the input.
  MediaInput bad = read(media().image, MediaInput::Image);
  bad.bytes.resize(bad.bytes.size() / 3);
  bad.name = "broken.png";
  try {
    build_multimodal_prompt(m, pool, "<|image|>", {bad}, mo);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broken.png"), std::string::npos) << e.what();
  }
  // Silent audio: nothing to hear.
  std::string silent = media().dir + "/silent.wav";
  sh("sox -D -n -r 16000 -c 1 -b 16 " + silent + " trim 0 2");  // -D: no dither
  try {
    build_multimodal_prompt(m, pool, "<|audio|>", {read(silent, MediaInput::Audio)}, mo);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("silent"), std::string::npos) << e.what();
  }
  // A text-only load refuses media.
  LoadedModel text_only = load_model(g, LoadOptions{});
  EXPECT_THROW(build_multimodal_prompt(text_only, pool, "<|image|>",
                                       {read(media().image, MediaInput::Image)}, mo),
               Error);
}

TEST(MultimodalInput, LongAudioIsSplitIntoBlocksOfThirtySeconds) {
  std::string g = test::tiny_model("gguf", DType::F32);
  LoadOptions lo;
  lo.mmproj_path = test::mmproj_of(g);
  LoadedModel m = load_model(g, lo);
  std::string wav = media().dir + "/long.wav";
  sh("sox -n -r 16000 -c 1 -b 16 " + wav + " synth 65 sine 300");
  ThreadPool pool(2);
  Prompt p = build_multimodal_prompt(m, pool, "<|audio|>", {read(wav, MediaInput::Audio)}, MediaOptions{});
  const Gemma4Config& c = m.weights->config;
  int blocks = 0, soft = 0;
  for (int32_t id : p.tokens) {
    blocks += id == c.boa_id;
    soft += id == c.audio_token_id;
  }
  EXPECT_EQ(blocks, 3);              // 30 s + 30 s + 5 s
  EXPECT_EQ(soft, 750 + 750 + 125);  // 25 tokens per second
  EXPECT_TRUE(p.bidirectional.empty());  // audio stays causal
}

}  // namespace
}  // namespace ug
