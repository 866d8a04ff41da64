// Runs a Pda nondeterministically: a parse configuration is the set of parse stacks alive after
// the input so far. Stacks are interned linked lists (node = state + parent node), so stacks that
// share a bottom share memory and a configuration is a sorted list of node ids. Configurations
// are interned too, and the byte transitions between them are memoized: after warm-up a byte step
// is one table lookup (a lazily built DFA over configurations).
//
// Configurations are closed: every stack's top is a scanning state (it has byte or token edges);
// calls have been pushed and completed frames popped. `complete` says some stack popped past the
// bottom: the whole grammar has matched (at run time) or the frame being examined has ended
// (during precomputation, where the bottom parent is kBottom).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "grammar/pda.h"

namespace ug {

class StackMachine {
 public:
  static constexpr int32_t kBottom = -1;  // parent of the lowest frame
  static constexpr int32_t kDead = 0;     // the empty configuration (no stack, not complete)

  struct Config {
    uint32_t begin, end;  // stack node ids in stacks_[begin, end), sorted
    bool complete;
  };

  // dense_memo: one 256-entry transition row per configuration (fast; for precomputation).
  // Otherwise transitions live in a hash table (for long runs with many configurations).
  // count_free_bottom: a counted frame at the bottom ignores its bounds and keeps count 0 (the
  // precomputation, which does not know the count, records unit counts instead).
  StackMachine(const Pda& pda, bool dense_memo, bool count_free_bottom = false);

  // count: completed units, for frames of counted rules (0 otherwise).
  int32_t node(int32_t state, int32_t parent, int32_t count = 0);
  int32_t node_state(int32_t n) const { return nodes_[static_cast<size_t>(n)].state; }
  int32_t node_parent(int32_t n) const { return nodes_[static_cast<size_t>(n)].parent; }
  int32_t node_count(int32_t n) const { return nodes_[static_cast<size_t>(n)].count; }

  // Closes the seeds (stack nodes) into a configuration.
  int32_t closure(std::span<const int32_t> seeds);
  // The configuration holding exactly `stacks` (taken as closed) and `complete`.
  int32_t intern(std::vector<int32_t> stacks, bool complete);
  // Both configurations' stacks together.
  int32_t merge(int32_t a, int32_t b);

  // Consumes one byte: each stack follows its top's byte edge; then closure. Memoized.
  int32_t step(int32_t config, uint8_t byte) {
    if (dense_) {
      const size_t at = static_cast<size_t>(config) * 256 + byte;
      if (dense_rows_[at] == kUnknown) {
        const int32_t next = step_uncached(config, byte);  // may grow dense_rows_
        dense_rows_[at] = next;
      }
      return dense_rows_[at];
    }
    return step_hashed(config, byte);
  }
  // Consumes one whole token through the tops' token edges (not memoized).
  int32_t step_token_edges(int32_t config, int32_t token, bool token_is_end_or_never);

  const Config& config(int32_t id) const { return configs_[static_cast<size_t>(id)]; }
  // Bit 0: has a stack; bit 1: complete. One byte per configuration, for tight loops.
  uint8_t flags(int32_t id) const { return flags_[static_cast<size_t>(id)]; }
  // State on top of the configuration's first stack (-1 if none).
  int32_t first_state(int32_t id) const { return first_state_[static_cast<size_t>(id)]; }
  std::span<const int32_t> stacks(int32_t id) const {
    const Config& c = configs_[static_cast<size_t>(id)];
    return {stacks_.data() + c.begin, c.end - c.begin};
  }
  bool alive(int32_t id) const { return id != kDead; }
  const Pda& pda() const { return pda_; }
  size_t config_count() const { return configs_.size(); }

 private:
  static constexpr int32_t kUnknown = -2;
  struct Node {
    int32_t state, parent, count;
  };
  int32_t step_uncached(int32_t config, uint8_t byte);
  // Counted frame rule of a state (-1 for ordinary rules), honouring count_free_bottom.
  int32_t counted_rule(const Node& n) const {
    const int32_t r = pda_.states[static_cast<size_t>(n.state)].rule;
    if (!pda_.rule_counted[static_cast<size_t>(r)]) return -1;
    if (count_free_bottom_ && n.parent == kBottom) return -1;
    return r;
  }
  int32_t step_hashed(int32_t config, uint8_t byte);

  const Pda& pda_;
  bool dense_;
  bool count_free_bottom_;
  std::vector<Node> nodes_;
  std::vector<int32_t> node_table_;  // open addressing over node ids (-1 empty)
  std::vector<Config> configs_;
  std::vector<uint8_t> flags_;
  std::vector<int32_t> first_state_;
  std::vector<int32_t> stacks_;
  std::vector<uint64_t> config_hashes_;  // per config
  std::vector<int32_t> config_table_;    // open addressing over config ids (-1 empty)
  std::vector<int32_t> dense_rows_;      // [configs * 256]
  std::vector<uint64_t> memo_keys_;      // hashed transitions: (config << 8 | byte) + 1
  std::vector<int32_t> memo_vals_;
  size_t memo_used_ = 0;
  // closure scratch
  std::vector<uint32_t> mark_;
  uint32_t stamp_ = 0;
  std::vector<int32_t> work_, out_;
};

}  // namespace ug
