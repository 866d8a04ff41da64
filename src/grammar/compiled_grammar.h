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
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar_ir.h"
#include "grammar/pda.h"
#include "grammar/token_vocab.h"

namespace ug {

// A trie node where a token may continue in the caller after this state's rule ends: `child` is
// the next node (its byte is the caller's first), `depth` its depth. For counted frames: the
// units completed before the end, and the units the token starts before it (the exit needs
// count + completed >= min and count + units <= max).
struct TokenExit {
  int32_t child, depth;
  int32_t completed = 0, units = 0;
};

struct TokenCacheEntry {
  // Accepted tokens: as a bitmask when many ([mask words]), else as a sorted id list.
  std::vector<uint64_t> bits;
  std::vector<int32_t> ids;
  // Exits grouped by the byte of `child` ([256] lists, empty when the rule never ends early):
  // a caller that cannot read byte b skips that whole list.
  std::vector<std::vector<TokenExit>> exits;
  // Counted frames: accepted tokens that start units, by units descending; a token is allowed
  // when count + units <= max.
  std::vector<int32_t> unit_ids;
  std::vector<uint8_t> unit_counts;
  size_t bytes() const;

  // The accepted tokens allowing at most `units` new units, as a bitmask (entries with a
  // bitmask only; built on first use and kept; thread-safe).
  const std::vector<uint64_t>& bits_within(int32_t units) const;

 private:
  mutable std::mutex mutex_;
  mutable std::map<int32_t, std::unique_ptr<std::vector<uint64_t>>> within_;
};

struct CompileStats {
  double parse_ms = 0, automaton_ms = 0, classes_ms = 0, tokens_ms = 0;
  int32_t states = 0, scanning_states = 0, classes = 0, cached_classes = 0;
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
  const TokenCacheEntry& entry(int32_t e) const { return *entries_[static_cast<size_t>(e)]; }
  const CompileStats& stats() const { return stats_; }
  // The grammar as GBNF (for --print-grammar style debugging).
  const std::string& gbnf() const { return gbnf_; }

 private:
  void compute_entries();

  std::shared_ptr<const TokenVocab> vocab_;
  Pda pda_;
  std::vector<int32_t> entry_of_;
  std::vector<std::shared_ptr<const TokenCacheEntry>> entries_;
  CompileStats stats_;
  std::string gbnf_;
};

std::shared_ptr<const CompiledGrammar> compile_grammar(const Grammar& grammar,
                                                       std::shared_ptr<const TokenVocab> vocab);

}  // namespace ug
