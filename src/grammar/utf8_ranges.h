// Code point ranges as UTF-8 byte-range sequences, so a character class becomes a small byte
// automaton: [U+0080-U+07FF] -> [C2-DF][80-BF]. The pieces are disjoint and together encode
// exactly the code points of the ranges (surrogates never, as UTF-8 cannot carry them).
#pragma once

#include <cstdint>
#include <vector>

#include "grammar/grammar_ir.h"

namespace ug {

struct ByteRange {
  uint8_t lo, hi;
  bool operator==(const ByteRange&) const = default;
};
using Utf8Sequence = std::vector<ByteRange>;  // 1 to 4 byte ranges, one per byte position

std::vector<Utf8Sequence> utf8_sequences(const std::vector<CodeRange>& ranges);

}  // namespace ug
