// The unigemma binary end to end: exit codes, messages and outputs users see.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_util.h"
#include "shared_fixtures.h"

namespace {

using namespace ug::test;

const std::string kFixture = std::string(UG_SHARED_DIR) + "/fixtures/gemma4-fixture-f16-s4242.gguf";

TEST(Cli, InfoDescribesTheFixture) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  Result r = run("info " + kFixture);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("gemma4"), std::string::npos);
  EXPECT_NE(r.out.find("layers:           6 (5 sliding, 1 global): SSSSSG"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sliding window:   16"), std::string::npos);
  EXPECT_NE(r.out.find("Q8_0"), std::string::npos);
}

TEST(Cli, InfoReportsThe12BParameterCount) {
  std::string dir = std::string(UG_BINARY_DIR) + "/test-models";
  std::filesystem::create_directories(dir);
  // The 12B shape is described without writing its weights: the HF config alone carries it.
  // (make-test-model --plan-only prints the tensor plan's counts.)
  Result r = run("make-test-model --size 12b --plan-only");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("11907350320"), std::string::npos) << r.out;
}

TEST(Cli, BadFilesGiveClearErrors) {
  Result missing = run("info /nonexistent/model.gguf");
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;
  std::string junk = testing::TempDir() + "junk.gguf";
  { std::ofstream(junk) << "this is not a model file at all"; }
  Result bad = run("info " + junk);
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("junk.gguf"), std::string::npos) << bad.err;
  std::remove(junk.c_str());
}

TEST(Cli, TokenizeMatchesTheReferenceEncoding) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  Result r =
      run("tokenize -m " + kFixture + " --bos -p '<|turn>user\nHello<turn|>\n<|turn>model\n'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json::parse("[2,105,2364,107,9259,106,107,105,4368,107]"));
}

TEST(Cli, RunJsonIsReproducibleWithASeed) {
  std::string m = tiny_gguf();
  std::string args = "run -m " + m + " -p 'Hello there' -n 6 --seed 11 --temp 0.8 --json -t 1";
  Result a = run(args), b = run(args);
  ASSERT_EQ(a.code, 0) << a.err;
  auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(ja["generated_ids"], jb["generated_ids"]);
  ASSERT_EQ(ja["steps"].size(), ja["generated_ids"].size());
  for (const auto& s : ja["steps"]) {
    EXPECT_LE(s["logprob"].get<double>(), 0.0);
    EXPECT_EQ(s["top"].size(), 5u);
  }
  EXPECT_NE(a.err.find("tok/s"), std::string::npos);  // timing summary
  // The prompt went through the chat template: <bos><|turn>user\n ...
  EXPECT_EQ(ja["prompt_ids"][0], 2);
  EXPECT_EQ(ja["prompt_ids"][1], 105);
}

TEST(Cli, RunRawAddsBosAndParsesSpecialTokens) {
  std::string m = tiny_gguf();
  Result r = run("run -m " + m + " --raw -p '<|turn>user\nHi<turn|>' -n 2 --temp 0 --json -t 1");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt_ids"][0], 2);
  EXPECT_EQ(j["prompt_ids"][1], 105);
}

// Real media made by Debian's tools: a JPEG from ImageMagick, espeak-ng speech as MP3, an MP4
// with picture and sound from FFmpeg.
struct CliMedia {
  std::string jpg, mp3, mp4;
};

const CliMedia& cli_media() {
  static CliMedia m = [] {
    std::string dir = std::string(UG_BINARY_DIR) + "/test-media/cli-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    CliMedia m{dir + "/photo.jpg", dir + "/speech.mp3", dir + "/clip.mp4"};
    std::string cmd =
        "convert -size 320x200 -seed 3 plasma:fractal " + m.jpg + " && espeak-ng -w " + dir +
        "/speech.wav 'unigemma hears this' && ffmpeg -loglevel error -y -i " + dir +
        "/speech.wav " + m.mp3 +
        " && ffmpeg -loglevel error -y -f lavfi -i testsrc=size=160x120:rate=10 "
        "-f lavfi -i sine=frequency=440:sample_rate=22050 -t 2 -pix_fmt yuv420p -shortest " +
        m.mp4;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return m;
  }();
  return m;
}

std::string tiny_hf() {
  return tiny_model("cli-tiny-hf-s3", "--format hf --seed 3 --no-assistant") + "/m";
}

void check_multimodal_run(const std::string& model_args) {
  const CliMedia& m = cli_media();
  Result r =
      run("run " + model_args + " --image " + m.jpg + " --audio " + m.mp3 + " --video " + m.mp4 +
          " --image-tokens 70 -p 'What do you see and hear?' -n 3 --temp 0 --json -t 2");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  int images = 0, audio = 0, video = 0;
  for (int id : j["prompt_ids"]) {
    images += id == 258880;
    audio += id == 258881;
    video += id == 258884;
  }
  EXPECT_GT(images, 40);  // 320x200 at budget 70: 13x8 = ... at most 70 tokens
  EXPECT_LE(images, 70);
  EXPECT_GT(audio, 20);      // ~1 s of speech at 25 tokens/s
  EXPECT_EQ(video % 20, 0);  // 20 frames (2 s at 10 fps) with the same token count each
  EXPECT_GT(video, 0);
  EXPECT_EQ(j["generated_ids"].size(), 3u);
}

TEST(Cli, RunTakesImageAudioAndVideoFromGguf) {
  std::string m = tiny_gguf();
  check_multimodal_run("-m " + m + " --mmproj " + m.substr(0, m.size() - 5) + "-mmproj.gguf");
}

TEST(Cli, RunTakesImageAudioAndVideoFromHf) { check_multimodal_run("-m " + tiny_hf()); }

TEST(Cli, BadMediaIsAClearErrorNotACrash) {
  std::string m = tiny_gguf();
  std::string mm = " --mmproj " + m.substr(0, m.size() - 5) + "-mmproj.gguf";
  std::string junk = testing::TempDir() + "junk.png";
  { std::ofstream(junk) << "\x89PNG not really"; }
  Result r = run("run -m " + m + mm + " --image " + junk + " -p hi -n 1");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("junk.png"), std::string::npos) << r.err;
  Result missing = run("run -m " + m + mm + " --audio /nonexistent.wav -p hi -n 1");
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("/nonexistent.wav"), std::string::npos) << missing.err;
  Result no_mmproj = run("run -m " + m + " --image " + cli_media().jpg + " -p hi -n 1");
  EXPECT_NE(no_mmproj.code, 0);
  EXPECT_NE(no_mmproj.err.find("--mmproj"), std::string::npos) << no_mmproj.err;
  std::remove(junk.c_str());
}

TEST(Cli, ChatAttachesMedia) {
  std::string m = tiny_gguf();
  std::string in = testing::TempDir() + "chat_media_in.txt";
  {
    std::ofstream(in) << "/image " << cli_media().jpg
                      << "\nWhat is this?\n/audio /nope.wav\nAnd now?\n/exit\n";
  }
  Result r = run("chat -m " + m + " --mmproj " + m.substr(0, m.size() - 5) +
                 "-mmproj.gguf --image-tokens 70 -n 3 --temp 0 -t 1 < " + in);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("(attached"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/nope.wav"), std::string::npos) << r.out;  // a clear error, chat goes on
  std::remove(in.c_str());
}

TEST(Cli, ChatAnswersAndHandlesCommands) {
  std::string m = tiny_gguf();
  std::string in = testing::TempDir() + "chat_in.txt";
  { std::ofstream(in) << "Hello\n/think on\nAnd again\n/clear\n/exit\n"; }
  Result r = run("chat -m " + m + " -n 4 --temp 0 -t 1 < " + in);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("(thinking on)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(new conversation)"), std::string::npos) << r.out;
  std::remove(in.c_str());
}

// --json reports each step's log-probability even when no candidates are asked for.
TEST(Cli, RunJsonReportsLogprobsWithoutTopCandidates) {
  Result r = run("run -m " + tiny_gguf() + " -p Hi -n 4 --temp 0 --json --top-logprobs 0 -t 1");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["steps"].size(), 4u);
  for (const auto& s : j["steps"]) {
    EXPECT_LT(s["logprob"].get<double>(), 0.0);
    EXPECT_TRUE(s["top"].empty());
  }
}

// chat is a client of the same engine as run: run's flags work there too, media from the command
// line go with the first message, and the second turn reuses the cached prefix.
TEST(Cli, ChatTakesRunFlagsAndReusesThePrefix) {
  std::string m = tiny_gguf();
  std::string in = testing::TempDir() + "chat_flags_in.txt";
  { std::ofstream(in) << "What is this?\nAnd now?\n/exit\n"; }
  Result r =
      run("chat -m " + m + " --mmproj " + m.substr(0, m.size() - 5) + "-mmproj.gguf --image " +
          cli_media().jpg +
          " --image-tokens 70 -n 3 --temp 0 --json --top-logprobs 2 --stop zzzz -t 1 < " + in);
  ASSERT_EQ(r.code, 0) << r.err;
  // Two JSON documents, one per answer, after the prompts.
  std::vector<nlohmann::json> docs;
  for (size_t pos = 0; (pos = r.out.find("{\n", pos)) != std::string::npos;) {
    size_t end = r.out.find("\n}", pos);
    ASSERT_NE(end, std::string::npos);
    docs.push_back(nlohmann::json::parse(r.out.substr(pos, end + 2 - pos)));
    pos = end + 2;
  }
  ASSERT_EQ(docs.size(), 2u) << r.out;
  EXPECT_GT(docs[0]["prompt_ids"].size(), 70u) << "the image's 70 soft tokens are in the prompt";
  EXPECT_EQ(docs[0]["steps"][0]["top"].size(), 2u);
  EXPECT_GT(docs[1]["timings"]["cached_tokens"].get<int>(), 70)
      << "the second turn keeps the first turn's prefix, image included";
  std::remove(in.c_str());
}

// --assistant drafts in run and in chat, and greedy output is the same as without it.
TEST(Cli, AssistantDraftsInRunAndChat) {
  std::string m = tiny_gguf();
  const std::string a = m.substr(0, m.size() - 5) + "-assistant.gguf";
  ASSERT_TRUE(std::filesystem::exists(a));
  Result plain = run("run -m " + m + " -p 'Tell me a story' -n 12 --temp 0 --json -t 1");
  Result spec = run("run -m " + m + " --assistant " + a +
                    " -p 'Tell me a story' -n 12 --temp 0 --json --draft-n 3 -t 1");
  ASSERT_EQ(plain.code, 0) << plain.err;
  ASSERT_EQ(spec.code, 0) << spec.err;
  auto jp = nlohmann::json::parse(plain.out), js = nlohmann::json::parse(spec.out);
  EXPECT_EQ(jp["generated_ids"], js["generated_ids"]);
  EXPECT_GT(js["timings"]["drafted_tokens"].get<int>(), 0);
  EXPECT_NE(spec.err.find("speculative decoding"), std::string::npos) << spec.err;

  std::string in = testing::TempDir() + "chat_assistant_in.txt";
  { std::ofstream(in) << "Tell me a story\n/exit\n"; }
  Result chat = run("chat -m " + m + " --assistant " + a + " -n 12 --temp 0 --json -t 1 < " + in);
  ASSERT_EQ(chat.code, 0) << chat.err;
  const size_t at = chat.out.find('{');
  ASSERT_NE(at, std::string::npos) << chat.out;
  auto jc = nlohmann::json::parse(chat.out.substr(at, chat.out.rfind('}') + 1 - at));
  EXPECT_GT(jc["timings"]["drafted_tokens"].get<int>(), 0);
  EXPECT_EQ(jc["generated_ids"], jp["generated_ids"]);
  std::remove(in.c_str());
}

// Structured output from the command line: --json-schema and --grammar-file in run and chat.
TEST(Cli, JsonSchemaAndGrammarConstrainRunAndChat) {
  const std::string m = tiny_gguf();
  Result r = run("run -m " + m +
                 " -p 'A number' -n 80 --temp 1 --seed 4 -t 1 --json-schema "
                 "'{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},"
                 "\"required\":[\"n\"],\"additionalProperties\":false}'");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_TRUE(j["n"].is_number_integer()) << r.out;
  EXPECT_EQ(j.size(), 1u);

  const std::string g = testing::TempDir() + "yesno.gbnf";
  { std::ofstream(g) << "root ::= (\"yes\" | \"no\") \".\"\n"; }
  const std::string in = testing::TempDir() + "chat_grammar_in.txt";
  { std::ofstream(in) << "Well?\nAgain?\n/exit\n"; }
  Result c = run("chat -m " + m + " --grammar-file " + g + " -n 10 -t 1 < " + in);
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out.find("> "), 0u);
  size_t answers = 0;
  for (const char* a : {"> yes.\n", "> no.\n"})
    for (size_t p = c.out.find(a); p != std::string::npos; p = c.out.find(a, p + 1)) ++answers;
  EXPECT_EQ(answers, 2u) << c.out;

  Result bad = run("run -m " + m + " -p x -n 2 -t 1 --json-schema '{\"not\":{}}'");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("not"), std::string::npos) << bad.err;
  std::remove(g.c_str());
  std::remove(in.c_str());
}

}  // namespace

// `run --audio -`: audio from standard input, as a WAV stream or raw 16 kHz PCM16, is prefilled
// as it arrives and gives the same prompt and answer as the file given by name.
TEST(Cli, RunReadsLiveAudioFromStdin) {
  const std::string m = tiny_gguf(), mm = " --mmproj " + m.substr(0, m.size() - 5) + "-mmproj.gguf";
  const std::string dir = std::filesystem::path(cli_media().mp3).parent_path().string();
  const std::string wav16 = dir + "/speech16k.wav", raw = dir + "/speech16k.pcm";
  const std::string cmd = "ffmpeg -loglevel error -y -i " + dir + "/speech.wav -ar 16000 -ac 1 " +
                          "-c:a pcm_s16le " + wav16 + " && ffmpeg -loglevel error -y -i " + wav16 +
                          " -f s16le -c:a pcm_s16le " + raw;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string flags = " -p 'What was said?' -n 5 --temp 0 --json -t 2";
  Result file = run("run -m " + m + mm + " --audio " + wav16 + flags);
  ASSERT_EQ(file.code, 0) << file.err;
  const auto expect = nlohmann::json::parse(file.out);
  for (const std::string& in : {wav16, raw}) {
    // The pipe delivers the audio in pieces, as a microphone would.
    Result live = run("run -m " + m + mm + " --audio -" + flags + " < " + in);
    ASSERT_EQ(live.code, 0) << in << ": " << live.err;
    const auto got = nlohmann::json::parse(live.out);
    EXPECT_EQ(got["prompt_ids"], expect["prompt_ids"]) << in;
    EXPECT_EQ(got["generated_ids"], expect["generated_ids"]) << in;
  }
  // Any other rate is resampled as it arrives (espeak-ng writes 22050 Hz).
  Result other = run("run -m " + m + mm + " --audio -" + flags + " < " + dir + "/speech.wav");
  ASSERT_EQ(other.code, 0) << other.err;
  EXPECT_EQ(nlohmann::json::parse(other.out)["prompt_ids"].size(), expect["prompt_ids"].size());
  Result twice = run("run -m " + m + mm + " --audio - --audio -" + flags + " < " + raw);
  EXPECT_NE(twice.code, 0);
  EXPECT_NE(twice.err.find("once"), std::string::npos) << twice.err;
  Result empty = run("run -m " + m + mm + " --audio -" + flags + " < /dev/null");
  EXPECT_NE(empty.code, 0);
  EXPECT_NE(empty.err.find("standard input"), std::string::npos) << empty.err;
}
