// An independent, slow recognizer for checking GrammarMatcher: an Earley parser over the grammar
// IR (repetitions expanded into plain BNF), reading a token sequence as a lattice where a text
// token is either its bytes or one whole token. Characters are matched as single bytes, so use
// it with ASCII grammars and vocabularies.
#pragma once

#include <cstdint>
#include <vector>

#include "grammar/grammar_ir.h"
#include "grammar/token_vocab.h"

namespace ug::test {

class ReferenceRecognizer {
 public:
  ReferenceRecognizer(const Grammar& g, const TokenVocab& vocab);

  struct Result {
    bool viable;    // the tokens are a prefix of some sentence
    bool complete;  // the tokens are a sentence
  };
  Result run(const std::vector<int32_t>& tokens) const;

 private:
  struct Symbol {
    enum Kind { Nonterminal, Byte, Token, NotToken } kind;
    int32_t value;            // nonterminal id or token id
    std::vector<bool> bytes;  // Byte: [256] which bytes match
  };
  struct Production {
    int32_t lhs;
    std::vector<Symbol> rhs;
  };
  int32_t fresh();
  Symbol lower(const GExpr& e);

  const TokenVocab& vocab_;
  std::vector<Production> prods_;
  std::vector<std::vector<int32_t>> by_lhs_;
  int32_t start_ = -1;
};

}  // namespace ug::test
