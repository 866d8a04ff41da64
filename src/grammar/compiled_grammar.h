// A grammar compiled against one vocabulary: the pushdown automaton plus, for every automaton
// state that can be the top of a parse stack, the tokens it accepts whatever lies below it
// (context-independent) and the trie nodes where a token may leave the state's rule and so
// depends on the caller (context-dependent). GrammarMatcher combines these at each step.
//
// States that behave the same for any input of token length share one entry (a bounded-depth
// structural hash), so `char{0,1000}` costs a few dozen entries, not a thousand.
// Immutable after construction: share it across requests and threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar_ir.h"
#include "grammar/pda.h"
#include "grammar/token_vocab.h"

namespace ug {

struct TokenCacheEntry {
  // Accepted tokens: as a bitmask when many ([mask words]), else as a sorted id list.
  std::vector<uint64_t> bits;
  std::vector<int32_t> ids;
  // Trie nodes (node, depth) below which tokens continue in the caller after this rule ends.
  std::vector<std::pair<int32_t, int32_t>> exits;
};

struct CompileStats {
  double parse_ms = 0, automaton_ms = 0, classes_ms = 0, tokens_ms = 0;
  int32_t states = 0, scanning_states = 0, classes = 0;
  int64_t trie_nodes_walked = 0;
};

class CompiledGrammar {
 public:
  // parse_ms: time the caller spent producing `grammar` (reported in stats()).
  CompiledGrammar(const Grammar& grammar, std::shared_ptr<const TokenVocab> vocab,
                  double parse_ms = 0);

  const Pda& pda() const { return pda_; }
  const TokenVocab& vocab() const { return *vocab_; }
  // Entry of a scanning state (-1 for states that never top a configuration).
  int32_t entry_of(int32_t state) const { return entry_of_[static_cast<size_t>(state)]; }
  const TokenCacheEntry& entry(int32_t e) const { return entries_[static_cast<size_t>(e)]; }
  const CompileStats& stats() const { return stats_; }
  // The grammar as GBNF (for --print-grammar style debugging).
  const std::string& gbnf() const { return gbnf_; }

 private:
  void compute_entries();

  std::shared_ptr<const TokenVocab> vocab_;
  Pda pda_;
  std::vector<int32_t> entry_of_;
  std::vector<TokenCacheEntry> entries_;
  CompileStats stats_;
  std::string gbnf_;
};

// GBNF text -> compiled grammar. Throws ug::Error with line and column on a bad grammar.
std::shared_ptr<const CompiledGrammar> compile_gbnf(std::string_view gbnf,
                                                    std::shared_ptr<const TokenVocab> vocab);
std::shared_ptr<const CompiledGrammar> compile_grammar(const Grammar& grammar,
                                                       std::shared_ptr<const TokenVocab> vocab);

}  // namespace ug
