#include "grammar/compiled_grammar.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "base/error.h"
#include "grammar/gbnf_parser.h"
#include "grammar/stack_machine.h"

namespace ug {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

uint64_t mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x7fb5d329728ea185ull;
  x ^= x >> 27;
  x *= 0x81dadef4bc2dd44dull;
  return x ^ (x >> 33);
}

// Bounded-depth structural hash of every state: after round r, two states have equal hashes iff
// (barring 64-bit collisions) no input of r edges tells them apart. Edge terms are summed, so
// the order edges are stored in (and rule numbering) does not matter.
std::vector<uint64_t> state_hashes(const Pda& p, int rounds) {
  const size_t n = p.states.size();
  std::vector<uint64_t> h(n), prev(n);
  for (size_t s = 0; s < n; ++s) h[s] = mix(p.states[s].final ? 0xF1 : 0x0F);
  for (int r = 0; r < rounds; ++r) {
    prev.swap(h);
    for (size_t s = 0; s < n; ++s) {
      const PdaState& st = p.states[s];
      uint64_t acc = 0;
      for (uint32_t i = st.bytes_begin; i < st.bytes_end; ++i) {
        const PdaByteEdge& e = p.byte_edges[i];
        acc += mix((static_cast<uint64_t>(e.lo) << 8 | e.hi) ^ prev[e.target] * 31);
      }
      for (uint32_t i = st.calls_begin; i < st.calls_end; ++i) {
        const PdaCall& c = p.calls[i];
        acc += mix(prev[p.rule_start[c.rule]] * 7 + prev[c.ret] * 3 + 0xCA11);
      }
      for (uint32_t i = st.tokens_begin; i < st.tokens_end; ++i) {
        const PdaTokenEdge& t = p.token_edges[i];
        acc += mix((static_cast<uint64_t>(t.token) << 1 | t.negated) + prev[t.target] * 5 + 0x70C);
      }
      h[s] = mix(prev[s] ^ acc);
    }
    // Converged: the partition no longer refines (checked now and then; it is not free).
    if (r % 16 == 15) {
      std::vector<uint64_t> a = h, b = prev;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (std::unique(a.begin(), a.end()) - a.begin() ==
          std::unique(b.begin(), b.end()) - b.begin())
        break;
    }
  }
  return h;
}

}  // namespace

CompiledGrammar::CompiledGrammar(const Grammar& grammar, std::shared_ptr<const TokenVocab> vocab,
                                 double parse_ms)
    : vocab_(std::move(vocab)) {
  if (!vocab_) fail("compile grammar: no vocabulary");
  stats_.parse_ms = parse_ms;
  auto t0 = Clock::now();
  pda_ = build_pda(grammar, vocab_.get());
  stats_.automaton_ms = ms_since(t0);
  gbnf_ = to_gbnf(grammar);
  compute_entries();
}

void CompiledGrammar::compute_entries() {
  auto t0 = Clock::now();
  const int32_t n = static_cast<int32_t>(pda_.states.size());
  stats_.states = n;
  // A token walk consumes at most max_token_bytes bytes, and between two bytes enters at most
  // max_left_calls rules without input; hashes this deep tell apart every state a walk can.
  const int rounds =
      (vocab_->max_token_bytes() + 1) * (pda_.max_left_calls + 2) + pda_.max_left_calls + 2;
  const std::vector<uint64_t> h = state_hashes(pda_, rounds);
  entry_of_.assign(static_cast<size_t>(n), -1);
  std::unordered_map<uint64_t, int32_t> by_hash;
  std::vector<int32_t> reps;
  for (int32_t s = 0; s < n; ++s) {
    if (!pda_.states[s].scanning()) continue;
    ++stats_.scanning_states;
    auto [it, added] = by_hash.emplace(h[s], static_cast<int32_t>(reps.size()));
    if (added) reps.push_back(s);
    entry_of_[s] = it->second;
  }
  stats_.classes = static_cast<int32_t>(reps.size());
  stats_.classes_ms = ms_since(t0);

  t0 = Clock::now();
  const TokenTrie& trie = vocab_->trie();
  const int32_t words = vocab_->mask_words();
  StackMachine m(pda_, true);
  entries_.resize(reps.size());
  std::vector<int32_t> cfg(static_cast<size_t>(trie.max_depth) + 1);
  std::vector<uint64_t> accepted(static_cast<size_t>(words));
  auto set = [&](int32_t id) { accepted[id >> 6] |= uint64_t{1} << (id & 63); };
  for (size_t e = 0; e < reps.size(); ++e) {
    const int32_t s = reps[e];
    TokenCacheEntry& out = entries_[e];
    std::fill(accepted.begin(), accepted.end(), 0);
    cfg[0] = m.intern({m.node(s, StackMachine::kBottom)}, false);  // s alone, not closed
    if (pda_.states[s].bytes_begin != pda_.states[s].bytes_end) {
      const int32_t nodes = trie.nodes();
      for (int32_t i = 0; i < nodes;) {
        ++stats_.trie_nodes_walked;
        const int32_t d = trie.depth[i];
        const int32_t c = m.step(cfg[d - 1], trie.byte[i]);
        if (c == StackMachine::kDead) {
          i = trie.end[i];
          continue;
        }
        cfg[d] = c;
        for (int32_t k = trie.first[i]; k < trie.first[i + 1]; ++k) set(trie.ids[k]);
        const StackMachine::Config& cc = m.config(c);
        if (cc.complete && trie.end[i] > i + 1) out.exits.push_back({i, d});
        i = cc.begin == cc.end ? trie.end[i] : i + 1;
      }
    }
    // Whole-token edges.
    const PdaState& st = pda_.states[s];
    for (uint32_t k = st.tokens_begin; k < st.tokens_end; ++k) {
      const PdaTokenEdge& te = pda_.token_edges[k];
      if (!te.negated) {
        set(te.token);
        continue;
      }
      for (int32_t id = 0; id < vocab_->size(); ++id) {
        const TokenKind kind = vocab_->kind(id);
        if (id != te.token && (kind == TokenKind::Text || kind == TokenKind::Special)) set(id);
      }
    }
    size_t count = 0;
    for (uint64_t w : accepted) count += static_cast<size_t>(__builtin_popcountll(w));
    if (count > static_cast<size_t>(words) * 2) {
      out.bits = accepted;
    } else {
      out.ids.reserve(count);
      for (int32_t w = 0; w < words; ++w)
        for (uint64_t x = accepted[w]; x; x &= x - 1)
          out.ids.push_back(w * 64 + __builtin_ctzll(x));
    }
  }
  stats_.tokens_ms = ms_since(t0);
}

std::shared_ptr<const CompiledGrammar> compile_grammar(const Grammar& grammar,
                                                       std::shared_ptr<const TokenVocab> vocab) {
  return std::make_shared<const CompiledGrammar>(grammar, std::move(vocab));
}

std::shared_ptr<const CompiledGrammar> compile_gbnf(std::string_view gbnf,
                                                    std::shared_ptr<const TokenVocab> vocab) {
  auto t0 = Clock::now();
  const Grammar g = parse_gbnf(gbnf, vocab.get());
  const double parse_ms = ms_since(t0);
  return std::make_shared<const CompiledGrammar>(g, std::move(vocab), parse_ms);
}

}  // namespace ug
