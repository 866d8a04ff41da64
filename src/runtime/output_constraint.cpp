#include "runtime/output_constraint.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <list>
#include <map>
#include <mutex>

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/tool_call_grammar.h"

namespace ug {

namespace {

// The sampler's mask from a GrammarMatcher: logits of tokens whose bit is clear become -inf.
class GrammarConstraint : public TokenConstraint {
 public:
  explicit GrammarConstraint(std::shared_ptr<const CompiledGrammar> g) : m_(std::move(g)) {}

  void mask(float* logits, int vocab) override {
    const int words = (vocab + 63) / 64;
    bits_.assign(static_cast<size_t>(words), 0);
    m_.fill_mask(bits_.data());
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();
    for (int w = 0; w < words; ++w) {
      uint64_t keep = bits_[w];
      if (keep == ~0ull) continue;
      const int base = w * 64, n = std::min(64, vocab - base);
      if (keep == 0) {  // most words in a structural position: nothing allowed
        std::fill(logits + base, logits + base + n, kNegInf);
        continue;
      }
      for (int i = 0; i < n; ++i)
        if (!((keep >> i) & 1)) logits[base + i] = kNegInf;
    }
  }
  bool accept(int32_t token) override { return m_.accept(token); }
  void rollback(int n) override { m_.rollback(n); }

 private:
  GrammarMatcher m_;
  std::vector<uint64_t> bits_;
};

// One vocabulary table per tokenizer (built once: about a second on the real vocabulary).
std::shared_ptr<const TokenVocab> vocab_for(const std::shared_ptr<const Tokenizer>& tok) {
  static std::mutex mu;
  static std::map<const Tokenizer*,
                  std::pair<std::weak_ptr<const Tokenizer>, std::shared_ptr<const TokenVocab>>>
      cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(tok.get());
  if (it != cache.end() && !it->second.first.expired()) return it->second.second;
  for (auto i = cache.begin(); i != cache.end();)  // tokenizers that are gone
    i = i->second.first.expired() ? cache.erase(i) : std::next(i);
  auto v = TokenVocab::from_tokenizer(*tok);
  cache[tok.get()] = {tok, v};
  return v;
}

// Recently compiled grammars by their source, so a client that sends the same schema with every
// request compiles it once.
std::shared_ptr<const CompiledGrammar> cached_compile(
    const std::string& key, const std::function<std::shared_ptr<const CompiledGrammar>()>& build) {
  static std::mutex mu;
  static std::list<std::pair<std::string, std::shared_ptr<const CompiledGrammar>>> lru;
  constexpr size_t kKeep = 32;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = lru.begin(); it != lru.end(); ++it)
      if (it->first == key) {
        lru.splice(lru.begin(), lru, it);
        return it->second;
      }
  }
  auto g = build();  // outside the lock: compiling may take a while
  std::lock_guard<std::mutex> lock(mu);
  lru.emplace_front(key, g);
  if (lru.size() > kKeep) lru.pop_back();
  return g;
}

}  // namespace

std::shared_ptr<TokenConstraint> make_constraint(const OutputSpec& spec,
                                                 const std::shared_ptr<const Tokenizer>& tokenizer) {
  using Kind = OutputSpec::Kind;
  if (spec.free()) return nullptr;
  auto vocab = vocab_for(tokenizer);
  ConstraintOptions opt;
  opt.allow_thought = spec.thinking;
  std::string key = std::to_string(static_cast<int>(spec.kind)) + (spec.thinking ? "t" : "f") +
                    std::to_string(reinterpret_cast<uintptr_t>(vocab.get())) + ":";
  std::shared_ptr<const CompiledGrammar> g;
  switch (spec.kind) {
    case Kind::kGbnf:
      g = cached_compile(key + spec.gbnf, [&] { return compile_gbnf(spec.gbnf, vocab, opt); });
      break;
    case Kind::kJsonSchema:
      g = cached_compile(key + spec.schema.dump(),
                         [&] { return compile_json_schema(spec.schema, vocab, opt); });
      break;
    case Kind::kJsonObject:
      g = cached_compile(key, [&] { return compile_json_object(vocab, opt); });
      break;
    case Kind::kToolCalls: {
      const std::string gbnf = tool_call_gbnf(spec.tools, spec.tool_choice, spec.thinking);
      g = cached_compile(key + gbnf, [&] { return compile_gbnf(gbnf, vocab); });
      break;
    }
    case Kind::kFree:
      break;
  }
  return std::make_shared<GrammarConstraint>(std::move(g));
}

}  // namespace ug
