// A grammar compiled to a byte-level pushdown automaton: every rule becomes a deterministic
// automaton over bytes whose edges may also call another rule (push a return state) or match a
// whole token. Small non-recursive rules are inlined into their callers first, so most of a JSON
// grammar is plain byte automata; only recursive rules and large shared ones stay as calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grammar/grammar_ir.h"

namespace ug {

class TokenVocab;

struct PdaByteEdge {
  uint8_t lo, hi;  // inclusive
  int32_t target;
};
struct PdaCall {
  int32_t rule;  // push a frame of this rule; when it completes, continue at `ret`
  int32_t ret;
};
struct PdaTokenEdge {
  int32_t token;
  bool negated;  // any token but `token` (and never an end token)
  int32_t target;
};

struct PdaState {
  int32_t rule = -1;
  bool final = false;                       // the rule's frame may complete here
  uint32_t bytes_begin = 0, bytes_end = 0;  // into Pda::byte_edges, sorted, disjoint
  uint32_t calls_begin = 0, calls_end = 0;
  uint32_t tokens_begin = 0, tokens_end = 0;
  // Has an edge that consumes input (a byte or a token): a possible top of a parse stack.
  bool scanning() const { return bytes_begin != bytes_end || tokens_begin != tokens_end; }
};

struct Pda {
  std::vector<PdaState> states;
  std::vector<PdaByteEdge> byte_edges;
  std::vector<PdaCall> calls;
  std::vector<PdaTokenEdge> token_edges;
  std::vector<int32_t> rule_start;  // [rules]; -1 for rules inlined away
  std::vector<std::string> rule_names;
  // Counted repetitions X{min,max} (X a prefix-free byte pattern, many copies) are rules of
  // their own: the loop X* whose start state is the unit boundary, with a count of completed
  // units kept in the stack node. A unit may start only while count < max; the frame may end
  // only when count >= min. Lets `char{0,1000}` be a handful of states shared by every length.
  std::vector<uint8_t> rule_counted;        // [rules]
  std::vector<int32_t> rule_min, rule_max;  // [rules], counted rules only; max INT32_MAX: none
  int32_t root = -1;                        // rule
  // The longest chain of calls entered without consuming input (bounds closure depth).
  int32_t max_left_calls = 0;
};

// Repetitions with a bound above this become counted rules (when their item qualifies).
inline constexpr int32_t kCountedRepeatMin = 4;

struct PdaLimits {
  int32_t max_nfa_states = 2000000;
  int32_t max_dfa_states = 400000;
};

// Throws ug::Error for left recursion ("rule 'a' is left-recursive: a -> b -> a"), a root that can
// produce nothing, token references the vocabulary forbids (end tokens, unused ids) and grammars
// over the size limits. vocab may be null (no token checks).
Pda build_pda(const Grammar& grammar, const TokenVocab* vocab, const PdaLimits& limits = {});

}  // namespace ug
