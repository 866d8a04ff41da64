// One request's position in a compiled grammar: which tokens may come next (a bitmask over the
// vocabulary) and advancing by the token the sampler chose. Cheap to create; not thread-safe
// (one per sequence). See compiled_grammar.h for how the mask is computed.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "grammar/compiled_grammar.h"
#include "grammar/stack_machine.h"

namespace ug {

class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar);

  // bits: [vocab.mask_words()]; bit id%64 of word id/64 set when token id may come next. End
  // tokens are set only where the grammar may end (can_end()).
  void fill_mask(uint64_t* bits) const;
  // Advances by one token; false (and no change) when the token is not allowed here. Accepting
  // an end token finishes the matcher (is_done()).
  bool accept(int32_t token);
  // Advances by text (for tests and for forcing a prefix): every byte must be allowed.
  bool accept_bytes(std::string_view text);
  // The text so far is a complete sentence of the grammar (an end token may follow).
  bool can_end() const;
  // Nothing but an end token may follow (or an end token was accepted).
  bool is_done() const;
  // Undoes the last n accepted tokens (0 <= n <= accepted()).
  void rollback(int n);
  int accepted() const { return static_cast<int>(history_.size()) - 1; }
  const CompiledGrammar& grammar() const { return *grammar_; }

 private:
  static constexpr int32_t kEnded = -1;  // history entry after an end token
  int32_t current() const { return history_.back(); }
  int32_t caller_config(int32_t parent_node) const;
  void walk_exit(uint64_t* bits, int32_t at, int32_t child, int32_t depth) const;

  std::shared_ptr<const CompiledGrammar> grammar_;
  // The memoized automaton grows as masks are computed: mutable so fill_mask() stays const.
  mutable StackMachine machine_;
  std::vector<int32_t> history_;  // configuration after each accepted token; [0] = start
  mutable std::unordered_map<int32_t, int32_t> caller_configs_;  // parent node -> its closure
  mutable std::vector<int32_t> walk_cfg_, top_, excluded_;
  struct SeenKey {
    int32_t entry, count, parent;
    bool operator==(const SeenKey&) const = default;
  };
  mutable std::vector<SeenKey> seen_;  // what one fill_mask() has added already
};

}  // namespace ug
