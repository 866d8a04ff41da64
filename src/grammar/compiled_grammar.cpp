#include "grammar/compiled_grammar.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <unordered_map>

#include "base/error.h"
#include "grammar/hash_mix.h"
#include "grammar/stack_machine.h"

namespace ug {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

uint64_t mix(uint64_t x) { return hash_mix(x); }

uint64_t mix2(uint64_t x) {  // a second, independent mixer for the other hash lane
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

struct Hash128 {
  uint64_t a, b;
  bool operator==(const Hash128&) const = default;
};
struct Hash128Hasher {
  size_t operator()(const Hash128& h) const { return static_cast<size_t>(h.a ^ (h.b * 31)); }
};

// Bounded-depth structural hash of every state, in two independent 64-bit lanes: after `rounds`
// rounds, two states (of this grammar or another) have equal hashes iff (barring a 128-bit
// collision) no input of `rounds` edges tells them apart. Edge terms are summed, so the order
// edges are stored in, and rule numbering, do not matter.
//
// A round's partition of the states (equal hashes) depends only on the previous round's, so once
// a round splits no class the partition is final: the remaining rounds run on one representative
// per class, edges redirected to their targets' representatives, which gives every state the same
// hash as the full iteration at a fraction of the cost (about 500 rounds on the Gemma vocabulary;
// large schemas settle after a few dozen).
std::vector<Hash128> state_hashes(const Pda& p, int rounds) {
  const size_t n = p.states.size();
  std::vector<Hash128> h(n), prev(n);
  // Finality and whether the state's frame is counted (its entries then carry unit counts).
  for (size_t s = 0; s < n; ++s) {
    const uint64_t base = (p.states[s].final ? 1 : 0) |
                          (p.rule_counted[static_cast<size_t>(p.states[s].rule)] ? 2 : 0);
    h[s] = {mix(base + 0xF0), mix2(base + 3)};
  }
  // rep[s]: the state whose hash s shares (identity until the partition is final).
  std::vector<int32_t> rep(n);
  for (size_t s = 0; s < n; ++s) rep[s] = static_cast<int32_t>(s);
  std::vector<int32_t> active = rep;  // states computed each round
  size_t classes = 0;
  auto target = [&](int32_t t) { return prev[static_cast<size_t>(rep[static_cast<size_t>(t)])]; };
  for (int r = 0; r < rounds; ++r) {
    prev.swap(h);
    for (int32_t si : active) {
      const size_t s = static_cast<size_t>(si);
      const PdaState& st = p.states[s];
      uint64_t a = 0, b = 0;
      auto add = [&](uint64_t label, const Hash128& x, const Hash128& y) {
        a += mix(label ^ (x.a * 31 + y.a * 7));
        b += mix2(label * 3 + (x.b ^ (y.b * 5)));
      };
      const Hash128 none{0, 0};
      for (uint32_t i = st.bytes_begin; i < st.bytes_end; ++i) {
        const PdaByteEdge& e = p.byte_edges[i];
        add(static_cast<uint64_t>(e.lo) << 8 | e.hi, target(e.target), none);
      }
      for (uint32_t i = st.calls_begin; i < st.calls_end; ++i) {
        const PdaCall& c = p.calls[i];
        const size_t rule = static_cast<size_t>(c.rule);
        const uint64_t bounds = p.rule_counted[rule]
                                    ? mix(static_cast<uint64_t>(p.rule_min[rule]) << 32 |
                                          static_cast<uint32_t>(p.rule_max[rule]))
                                    : 0xCA11;
        add(bounds, target(p.rule_start[rule]), target(c.ret));
      }
      for (uint32_t i = st.tokens_begin; i < st.tokens_end; ++i) {
        const PdaTokenEdge& t = p.token_edges[i];
        add((static_cast<uint64_t>(t.token) << 1 | t.negated) + 0x70C0000000000ull,
            target(t.target), none);
      }
      h[s] = {mix(prev[s].a ^ a), mix2(prev[s].b + b)};
    }
    if (active.size() < n || r % 8 != 7) continue;  // final already, or not a check round
    // Classes only split, so a count unchanged over 8 rounds means an unchanged partition.
    std::unordered_map<Hash128, int32_t, Hash128Hasher> first;
    first.reserve(n);
    for (size_t s = 0; s < n; ++s) first.emplace(h[s], static_cast<int32_t>(s));
    if (first.size() == classes) {
      active.clear();
      for (size_t s = 0; s < n; ++s) {
        rep[s] = first.at(h[s]);
        if (rep[s] == static_cast<int32_t>(s)) active.push_back(rep[s]);
      }
    }
    classes = first.size();
  }
  for (size_t s = 0; s < n; ++s) h[s] = h[static_cast<size_t>(rep[s])];
  return h;
}

}  // namespace

// Entries by structural hash, across the grammars of one vocabulary; evicted oldest first beyond
// a memory budget.
struct TokenVocab::GrammarCache {
  static constexpr size_t kBudgetBytes = size_t{256} << 20;
  std::mutex mutex;
  std::unordered_map<Hash128, std::shared_ptr<const TokenCacheEntry>, Hash128Hasher> map;
  std::deque<Hash128> order;
  size_t bytes = 0;

  std::shared_ptr<const TokenCacheEntry> find(const Hash128& k) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = map.find(k);
    return it == map.end() ? nullptr : it->second;
  }
  void put(const Hash128& k, std::shared_ptr<const TokenCacheEntry> e) {
    std::lock_guard<std::mutex> lock(mutex);
    if (map.count(k)) return;
    bytes += e->bytes();
    map.emplace(k, std::move(e));
    order.push_back(k);
    while (bytes > kBudgetBytes && order.size() > 1) {
      auto it = map.find(order.front());
      bytes -= it->second->bytes();
      map.erase(it);
      order.pop_front();
    }
  }
};

TokenVocab::GrammarCache& TokenVocab::grammar_cache() const {
  std::call_once(cache_once_, [this] { cache_ = std::make_shared<GrammarCache>(); });
  return *cache_;
}

size_t TokenCacheEntry::bytes() const {
  size_t n = sizeof(*this) + bits.size() * 8 + ids.size() * 4 + unit_ids.size() * 5;
  for (const auto& e : exits) n += e.size() * sizeof(TokenExit);
  return n;
}

const std::vector<uint64_t>& TokenCacheEntry::bits_within(int32_t units) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = within_[units];
  if (!slot) {
    slot = std::make_unique<std::vector<uint64_t>>(bits);
    for (size_t k = 0; k < unit_ids.size() && unit_counts[k] > units; ++k) {
      const int32_t id = unit_ids[k];
      (*slot)[id >> 6] &= ~(uint64_t{1} << (id & 63));
    }
  }
  return *slot;
}

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

namespace {

// The walk over the token trie from state s (alone at the bottom of its stack; see the header).
// Scratch reused across entries: a generation stamp per token replaces clearing a bitmask.
struct EntryScratch {
  std::vector<uint32_t> stamp;
  uint32_t gen = 0;
  std::vector<int32_t> ids;
};

std::shared_ptr<TokenCacheEntry> build_entry(const Pda& pda, const TokenVocab& vocab,
                                             StackMachine& m, int32_t s, int64_t& walked,
                                             EntryScratch& sc) {
  auto out = std::make_shared<TokenCacheEntry>();
  const TokenTrie& trie = vocab.trie();
  const int32_t words = vocab.mask_words();
  const size_t depth_slots = static_cast<size_t>(trie.max_depth) + 1;
  std::vector<int32_t> cfg(depth_slots), started(depth_slots), completed(depth_slots);
  std::vector<std::vector<int32_t>> by_units;  // [units] -> tokens, counted frames
  if (sc.stamp.size() != static_cast<size_t>(vocab.size()))
    sc.stamp.assign(static_cast<size_t>(vocab.size()), 0);
  ++sc.gen;
  sc.ids.clear();
  auto set = [&](int32_t id) {
    uint32_t& st = sc.stamp[static_cast<size_t>(id)];
    if (st != sc.gen) {
      st = sc.gen;
      sc.ids.push_back(id);
    }
  };
  const size_t rule = static_cast<size_t>(pda.states[s].rule);
  const int32_t head = pda.rule_counted[rule] ? pda.rule_start[rule] : -1;
  const int32_t mid = head >= 0 && s != head ? 1 : 0;
  cfg[0] = m.intern({m.node(s, StackMachine::kBottom)}, false);  // s alone, not closed
  started[0] = completed[0] = 0;
  const PdaState& st = pda.states[s];
  if (st.bytes_begin != st.bytes_end) {
    const uint8_t* tbyte = trie.byte.data();
    const uint16_t* tdepth = trie.depth.data();
    const int32_t* tend = trie.end.data();
    const int32_t* tfirst = trie.first.data();
    const int32_t* tids = trie.ids.data();
    const int32_t nodes = trie.nodes();
    for (int32_t i = 0; i < nodes;) {
      ++walked;
      const int32_t d = tdepth[i];
      const int32_t c = m.step(cfg[d - 1], tbyte[i]);
      if (c == StackMachine::kDead) {
        i = tend[i];
        continue;
      }
      cfg[d] = c;
      const uint8_t flags = m.flags(c);
      int32_t u = 0;
      if (head >= 0) {
        // The counted frame is the only stack: its state shows the unit boundaries.
        started[d] = started[d - 1] + (m.first_state(cfg[d - 1]) == head ? 1 : 0);
        completed[d] = completed[d - 1] + (m.first_state(c) == head ? 1 : 0);
        u = started[d] > 0 ? started[d] + mid : 0;
      }
      for (int32_t k = tfirst[i], e = tfirst[i + 1]; k < e; ++k) {
        set(tids[k]);
        if (u > 0) {
          if (by_units.size() <= static_cast<size_t>(u))
            by_units.resize(static_cast<size_t>(u) + 1);
          by_units[static_cast<size_t>(u)].push_back(tids[k]);
        }
      }
      if ((flags & 2) && tend[i] > i + 1) {
        if (out->exits.empty()) out->exits.resize(256);
        for (int32_t ch = i + 1; ch < tend[i]; ch = tend[ch])
          out->exits[tbyte[ch]].push_back({ch, d + 1, head >= 0 ? completed[d] : 0, u});
      }
      i = (flags & 1) ? i + 1 : tend[i];
    }
  }
  // Whole-token edges.
  for (uint32_t k = st.tokens_begin; k < st.tokens_end; ++k) {
    const PdaTokenEdge& te = pda.token_edges[k];
    if (!te.negated) {
      set(te.token);
      continue;
    }
    for (int32_t id = 0; id < vocab.size(); ++id) {
      const TokenKind kind = vocab.kind(id);
      if (id != te.token && (kind == TokenKind::Text || kind == TokenKind::Special)) set(id);
    }
  }
  if (sc.ids.size() > static_cast<size_t>(words) * 2) {
    out->bits.assign(static_cast<size_t>(words), 0);
    for (int32_t id : sc.ids) out->bits[static_cast<size_t>(id >> 6)] |= uint64_t{1} << (id & 63);
  } else {
    out->ids = sc.ids;
    std::sort(out->ids.begin(), out->ids.end());
  }
  for (size_t n = by_units.size(); n-- > 1;) {
    for (int32_t id : by_units[n]) {
      out->unit_counts.push_back(static_cast<uint8_t>(std::min<size_t>(n, 255)));
      out->unit_ids.push_back(id);
    }
  }
  return out;
}

}  // namespace

void CompiledGrammar::compute_entries() {
  auto t0 = Clock::now();
  const int32_t n = static_cast<int32_t>(pda_.states.size());
  stats_.states = n;
  // A token walk consumes at most max_token_bytes bytes, and between two bytes enters at most
  // max_left_calls rules without input; hashes this deep tell apart every state a walk can.
  const int rounds =
      (vocab_->max_token_bytes() + 1) * (pda_.max_left_calls + 2) + pda_.max_left_calls + 2;
  const std::vector<Hash128> h = state_hashes(pda_, rounds);
  entry_of_.assign(static_cast<size_t>(n), -1);
  std::unordered_map<Hash128, int32_t, Hash128Hasher> by_hash;
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
  TokenVocab::GrammarCache& cache = vocab_->grammar_cache();
  StackMachine m(pda_, true, true);
  EntryScratch scratch;
  entries_.resize(reps.size());
  for (size_t e = 0; e < reps.size(); ++e) {
    const Hash128 key = h[static_cast<size_t>(reps[e])];
    entries_[e] = cache.find(key);
    if (entries_[e]) {
      ++stats_.cached_classes;
      continue;
    }
    std::shared_ptr<const TokenCacheEntry> built =
        build_entry(pda_, *vocab_, m, reps[e], stats_.trie_nodes_walked, scratch);
    cache.put(key, built);
    entries_[e] = std::move(built);
  }
  stats_.tokens_ms = ms_since(t0);
}

std::shared_ptr<const CompiledGrammar> compile_grammar(const Grammar& grammar,
                                                       std::shared_ptr<const TokenVocab> vocab) {
  return std::make_shared<const CompiledGrammar>(grammar, std::move(vocab));
}

}  // namespace ug
