// Small checks shared by the vocabulary builders.
#pragma once

#include <string>
#include <string_view>

#include "text/tokenizer_data.h"

namespace ug {

// "<0xXX>" with two upper-case hex digits (how SentencePiece and GGUF name byte tokens); -1 if not.
int byte_piece_value(std::string_view piece);
inline bool is_byte_piece(std::string_view piece) { return byte_piece_value(piece) >= 0; }

// Throws ug::Error (naming `what`) unless tokens/types (and scores, when present) have the same
// length, every type is a known TokenType, special ids are -1 or in range and merges are "a b".
void validate_tokenizer_data(const TokenizerData& d, const std::string& what);

}  // namespace ug
