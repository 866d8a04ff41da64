#include "grammar/stack_machine.h"

#include <algorithm>

#include "grammar/hash_mix.h"

namespace ug {
namespace {

constexpr uint64_t kEmptyKey = ~uint64_t{0};

uint64_t mix(uint64_t x) { return hash_mix(x); }

uint64_t hash_stacks(std::span<const int32_t> stacks, bool complete) {
  uint64_t h = mix(stacks.size() * 2 + (complete ? 1 : 0));
  for (int32_t s : stacks) h = mix(h ^ static_cast<uint32_t>(s));
  return h;
}

}  // namespace

StackMachine::StackMachine(const Pda& pda, bool dense_memo, bool count_free_bottom)
    : pda_(pda), dense_(dense_memo), count_free_bottom_(count_free_bottom) {
  node_table_.assign(1024, -1);
  config_table_.assign(1024, -1);
  if (!dense_) {
    memo_keys_.assign(4096, kEmptyKey);
    memo_vals_.assign(4096, 0);
  }
  intern({}, false);  // kDead
}

namespace {
uint64_t node_hash(int32_t state, int32_t parent, int32_t count) {
  return mix((static_cast<uint64_t>(static_cast<uint32_t>(state)) << 32 |
              static_cast<uint32_t>(parent + 1)) ^
             static_cast<uint64_t>(static_cast<uint32_t>(count)) * 0x9E3779B97F4A7C15ull);
}
}  // namespace

int32_t StackMachine::node(int32_t state, int32_t parent, int32_t count) {
  size_t mask = node_table_.size() - 1;
  const uint64_t h = node_hash(state, parent, count);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const int32_t id = node_table_[i];
    if (id < 0) break;
    const Node& n = nodes_[static_cast<size_t>(id)];
    if (n.state == state && n.parent == parent && n.count == count) return id;
  }
  const int32_t id = static_cast<int32_t>(nodes_.size());
  nodes_.push_back({state, parent, count});
  if (nodes_.size() * 2 > node_table_.size()) {
    node_table_.assign(node_table_.size() * 2, -1);
    mask = node_table_.size() - 1;
    for (size_t k = 0; k < nodes_.size(); ++k) {
      const Node& n = nodes_[k];
      size_t i = node_hash(n.state, n.parent, n.count) & mask;
      while (node_table_[i] >= 0) i = (i + 1) & mask;
      node_table_[i] = static_cast<int32_t>(k);
    }
    return id;
  }
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    if (node_table_[i] < 0) {
      node_table_[i] = id;
      return id;
    }
  }
}

int32_t StackMachine::intern(std::vector<int32_t> stacks, bool complete) {
  const uint64_t h = hash_stacks(stacks, complete);
  size_t mask = config_table_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const int32_t c = config_table_[i];
    if (c < 0) break;
    if (config_hashes_[static_cast<size_t>(c)] != h) continue;
    const Config& cfg = configs_[static_cast<size_t>(c)];
    if (cfg.complete == complete && cfg.end - cfg.begin == stacks.size() &&
        std::equal(stacks.begin(), stacks.end(), stacks_.begin() + cfg.begin))
      return c;
  }
  const int32_t id = static_cast<int32_t>(configs_.size());
  const uint32_t begin = static_cast<uint32_t>(stacks_.size());
  stacks_.insert(stacks_.end(), stacks.begin(), stacks.end());
  configs_.push_back({begin, static_cast<uint32_t>(stacks_.size()), complete});
  flags_.push_back(static_cast<uint8_t>((stacks.empty() ? 0 : 1) | (complete ? 2 : 0)));
  first_state_.push_back(stacks.empty() ? -1 : nodes_[static_cast<size_t>(stacks[0])].state);
  config_hashes_.push_back(h);
  if (dense_) dense_rows_.resize(dense_rows_.size() + 256, kUnknown);
  if (configs_.size() * 2 > config_table_.size()) {
    config_table_.assign(config_table_.size() * 2, -1);
    mask = config_table_.size() - 1;
    for (size_t c = 0; c < configs_.size(); ++c) {
      size_t i = config_hashes_[c] & mask;
      while (config_table_[i] >= 0) i = (i + 1) & mask;
      config_table_[i] = static_cast<int32_t>(c);
    }
    return id;
  }
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    if (config_table_[i] < 0) {
      config_table_[i] = id;
      return id;
    }
  }
}

int32_t StackMachine::closure(std::span<const int32_t> seeds) {
  if (seeds.empty()) return kDead;
  ++stamp_;
  work_.assign(seeds.begin(), seeds.end());
  out_.clear();
  bool complete = false;
  while (!work_.empty()) {
    const int32_t n = work_.back();
    work_.pop_back();
    if (static_cast<size_t>(n) >= mark_.size()) mark_.resize(nodes_.size() * 2 + 64, 0);
    if (mark_[static_cast<size_t>(n)] == stamp_) continue;
    mark_[static_cast<size_t>(n)] = stamp_;
    const Node nd = nodes_[static_cast<size_t>(n)];
    const PdaState& st = pda_.states[static_cast<size_t>(nd.state)];
    if (st.scanning()) out_.push_back(n);
    for (uint32_t i = st.calls_begin; i < st.calls_end; ++i) {
      const PdaCall& c = pda_.calls[i];
      const int32_t ret = node(c.ret, nd.parent);
      work_.push_back(node(pda_.rule_start[static_cast<size_t>(c.rule)], ret));
    }
    const int32_t cr = counted_rule(nd);
    if (st.final && (cr < 0 || nd.count >= pda_.rule_min[static_cast<size_t>(cr)])) {
      if (nd.parent == kBottom) {
        complete = true;
      } else {
        work_.push_back(nd.parent);
      }
    }
  }
  if (out_.empty() && !complete) return kDead;
  std::sort(out_.begin(), out_.end());
  return intern(out_, complete);
}

int32_t StackMachine::merge(int32_t a, int32_t b) {
  if (a == kDead || a == b) return b;
  if (b == kDead) return a;
  std::vector<int32_t> all;
  const auto sa = stacks(a), sb = stacks(b);
  std::set_union(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(all));
  return intern(std::move(all), config(a).complete || config(b).complete);
}

int32_t StackMachine::step_uncached(int32_t config, uint8_t byte) {
  std::vector<int32_t> seeds;
  const Config c = configs_[static_cast<size_t>(config)];
  for (uint32_t k = c.begin; k < c.end; ++k) {
    const Node nd = nodes_[static_cast<size_t>(stacks_[k])];
    const PdaState& st = pda_.states[static_cast<size_t>(nd.state)];
    for (uint32_t i = st.bytes_begin; i < st.bytes_end; ++i) {
      const PdaByteEdge& e = pda_.byte_edges[i];
      if (byte < e.lo) break;  // edges are sorted
      if (byte > e.hi) continue;
      const int32_t cr = counted_rule(nd);
      if (cr < 0) {
        seeds.push_back(node(e.target, nd.parent));
        break;
      }
      // A counted frame: a unit starts at the frame's start state, and ends on return to it.
      const size_t r = static_cast<size_t>(cr);
      const int32_t head = pda_.rule_start[r];
      if (nd.state == head && nd.count >= pda_.rule_max[r]) break;
      int32_t count = nd.count + (e.target == head ? 1 : 0);
      // Past the minimum with no maximum, the exact count no longer matters.
      if (pda_.rule_max[r] == INT32_MAX) count = std::min(count, pda_.rule_min[r]);
      seeds.push_back(node(e.target, nd.parent, count));
      break;
    }
  }
  return closure(seeds);
}

int32_t StackMachine::step_hashed(int32_t config, uint8_t byte) {
  const uint64_t key = (static_cast<uint64_t>(config) << 8) | byte;
  size_t mask = memo_keys_.size() - 1;
  for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
    if (memo_keys_[i] == key) return memo_vals_[i];
    if (memo_keys_[i] == kEmptyKey) break;
  }
  const int32_t next = step_uncached(config, byte);
  if (++memo_used_ * 2 > memo_keys_.size()) {
    std::vector<uint64_t> keys(memo_keys_.size() * 2, kEmptyKey);
    std::vector<int32_t> vals(keys.size(), 0);
    mask = keys.size() - 1;
    for (size_t j = 0; j < memo_keys_.size(); ++j) {
      if (memo_keys_[j] == kEmptyKey) continue;
      size_t i = mix(memo_keys_[j]) & mask;
      while (keys[i] != kEmptyKey) i = (i + 1) & mask;
      keys[i] = memo_keys_[j];
      vals[i] = memo_vals_[j];
    }
    memo_keys_ = std::move(keys);
    memo_vals_ = std::move(vals);
  }
  for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
    if (memo_keys_[i] == kEmptyKey) {
      memo_keys_[i] = key;
      memo_vals_[i] = next;
      return next;
    }
  }
}

int32_t StackMachine::step_token_edges(int32_t config, int32_t token, bool end_or_never) {
  std::vector<int32_t> seeds;
  const Config c = configs_[static_cast<size_t>(config)];
  for (uint32_t k = c.begin; k < c.end; ++k) {
    const Node nd = nodes_[static_cast<size_t>(stacks_[k])];
    const PdaState& st = pda_.states[static_cast<size_t>(nd.state)];
    for (uint32_t i = st.tokens_begin; i < st.tokens_end; ++i) {
      const PdaTokenEdge& e = pda_.token_edges[i];
      const bool match = e.negated ? (token != e.token && !end_or_never) : token == e.token;
      if (match) seeds.push_back(node(e.target, nd.parent));
    }
  }
  return closure(seeds);
}

}  // namespace ug
