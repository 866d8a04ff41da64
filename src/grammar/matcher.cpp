#include "grammar/matcher.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"

namespace ug {

GrammarMatcher::GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar)
    : grammar_(std::move(grammar)), machine_(grammar_->pda(), false) {
  const Pda& p = grammar_->pda();
  const int32_t start =
      machine_.node(p.rule_start[static_cast<size_t>(p.root)], StackMachine::kBottom);
  history_.push_back(machine_.closure({&start, 1}));
  walk_cfg_.resize(static_cast<size_t>(grammar_->vocab().trie().max_depth) + 1);
}

int32_t GrammarMatcher::caller_config(int32_t parent_node) const {
  auto it = caller_configs_.find(parent_node);
  if (it != caller_configs_.end()) return it->second;
  const int32_t c = machine_.closure({&parent_node, 1});
  caller_configs_.emplace(parent_node, c);
  return c;
}

// Tokens through trie node `child` (at `depth`, reached in configuration `at`) and below it.
void GrammarMatcher::walk_exit(uint64_t* bits, int32_t at, int32_t child, int32_t depth) const {
  const TokenTrie& t = grammar_->vocab().trie();
  auto take = [&](int32_t i) {
    for (int32_t k = t.first[i]; k < t.first[i + 1]; ++k) {
      const int32_t id = t.ids[k];
      bits[id >> 6] |= uint64_t{1} << (id & 63);
    }
  };
  take(child);
  if (!(machine_.flags(at) & 1)) return;  // complete only: nothing longer fits
  walk_cfg_[static_cast<size_t>(depth)] = at;
  const int32_t end = t.end[child];
  for (int32_t i = child + 1; i < end;) {
    const int32_t d = t.depth[i];
    const int32_t c = machine_.step(walk_cfg_[static_cast<size_t>(d - 1)], t.byte[i]);
    if (c == StackMachine::kDead) {
      i = t.end[i];
      continue;
    }
    walk_cfg_[static_cast<size_t>(d)] = c;
    take(i);
    i = (machine_.flags(c) & 1) ? i + 1 : t.end[i];
  }
}

void GrammarMatcher::fill_mask(uint64_t* bits) const {
  const TokenVocab& v = grammar_->vocab();
  const size_t words = static_cast<size_t>(v.mask_words());
  std::memset(bits, 0, words * sizeof(uint64_t));
  const int32_t cur = current();
  if (cur == kEnded) return;
  seen_.clear();
  // Copied: the walks below intern configurations and may move the machine's storage.
  const std::span<const int32_t> live = machine_.stacks(cur);
  top_.assign(live.begin(), live.end());
  const Pda& pda = grammar_->pda();
  for (int32_t n : top_) {
    const int32_t state = machine_.node_state(n);
    const int32_t e = grammar_->entry_of(state);
    const int32_t parent = machine_.node_parent(n);
    const TokenCacheEntry& entry = grammar_->entry(e);
    const size_t rule = static_cast<size_t>(pda.states[static_cast<size_t>(state)].rule);
    const bool counted = pda.rule_counted[rule];
    const int32_t count = machine_.node_count(n);
    // What a stack contributes depends on its entry, its count (counted frames) and, through
    // the exits, its caller.
    const bool has_exits = !entry.exits.empty() && parent != StackMachine::kBottom;
    const SeenKey key{e, counted ? count : 0, has_exits ? parent : -2};
    if (std::find(seen_.begin(), seen_.end(), key) != seen_.end()) continue;
    const bool accepted_done = std::any_of(seen_.begin(), seen_.end(), [&](const SeenKey& k) {
      return k.entry == e && k.count == key.count;
    });
    seen_.push_back(key);
    // Counted frames: at most `room` more units may start (INT32_MAX: no limit).
    const int32_t room =
        counted && pda.rule_max[rule] != INT32_MAX ? pda.rule_max[rule] - count : INT32_MAX;
    if (!accepted_done) {
      const bool limited = !entry.unit_counts.empty() && entry.unit_counts[0] > room;
      if (!entry.bits.empty()) {
        const uint64_t* src = limited ? entry.bits_within(room).data() : entry.bits.data();
        for (size_t w = 0; w < words; ++w) bits[w] |= src[w];
      } else {
        excluded_.clear();
        for (size_t k = 0; limited && k < entry.unit_ids.size() && entry.unit_counts[k] > room; ++k)
          excluded_.push_back(entry.unit_ids[k]);
        std::sort(excluded_.begin(), excluded_.end());
        for (int32_t id : entry.ids)
          if (excluded_.empty() || !std::binary_search(excluded_.begin(), excluded_.end(), id))
            bits[id >> 6] |= uint64_t{1} << (id & 63);
      }
    }
    if (has_exits) {
      const int32_t from = caller_config(parent);
      if (from == StackMachine::kDead) continue;
      const int32_t need = counted ? pda.rule_min[rule] - count : 0;
      for (int b = 0; b < 256; ++b) {
        const std::vector<TokenExit>& list = entry.exits[static_cast<size_t>(b)];
        if (list.empty()) continue;
        const int32_t next = machine_.step(from, static_cast<uint8_t>(b));
        if (next == StackMachine::kDead) continue;  // the caller cannot go on with this byte
        for (const TokenExit& x : list) {
          if (counted && (x.completed < need || x.units > room)) continue;
          walk_exit(bits, next, x.child, x.depth);
        }
      }
    }
  }
  if (machine_.config(cur).complete) {
    for (int32_t id : v.end_ids()) bits[id >> 6] |= uint64_t{1} << (id & 63);
  }
}

bool GrammarMatcher::accept(int32_t token) {
  const TokenVocab& v = grammar_->vocab();
  if (token < 0 || token >= v.size()) return false;
  const int32_t cur = current();
  if (cur == kEnded) return false;
  const TokenKind kind = v.kind(token);
  if (kind == TokenKind::End) {
    if (!machine_.config(cur).complete) return false;
    history_.push_back(kEnded);
    return true;
  }
  if (kind == TokenKind::Never) return false;
  int32_t next = machine_.step_token_edges(cur, token, false);
  if (kind == TokenKind::Text) {
    int32_t c = cur;
    for (char b : v.bytes(token)) {
      c = machine_.step(c, static_cast<uint8_t>(b));
      if (c == StackMachine::kDead) break;
    }
    next = machine_.merge(next, c);
  }
  if (next == StackMachine::kDead) return false;
  history_.push_back(next);
  return true;
}

bool GrammarMatcher::accept_bytes(std::string_view text) {
  int32_t c = current();
  if (c == kEnded) return false;
  for (char b : text) {
    c = machine_.step(c, static_cast<uint8_t>(b));
    if (c == StackMachine::kDead) return false;
  }
  history_.push_back(c);
  return true;
}

bool GrammarMatcher::can_end() const {
  const int32_t cur = current();
  return cur == kEnded || machine_.config(cur).complete;
}

bool GrammarMatcher::is_done() const {
  const int32_t cur = current();
  return cur == kEnded || machine_.stacks(cur).empty();
}

void GrammarMatcher::rollback(int n) {
  if (n < 0 || n > accepted())
    fail("grammar rollback of ", n, " tokens; only ", accepted(), " accepted");
  history_.resize(history_.size() - static_cast<size_t>(n));
}

}  // namespace ug
