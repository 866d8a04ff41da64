// The vocabulary as both GGUF (tokenizer.ggml.*) and HF tokenizer.json describe it; the Tokenizer
// is built from this, whichever file it came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ug {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

struct TokenizerData {
  std::vector<std::string> tokens;   // id -> piece ("▁" for spaces, "<0x0A>" for bytes)
  std::vector<float> scores;         // may be empty
  std::vector<TokenType> types;      // same length as tokens
  std::vector<std::string> merges;   // "left right", in rank order
  int32_t bos_id = 2, eos_id = 1, pad_id = 0, unk_id = 3, mask_id = 4;
  bool add_bos = true;
  std::string chat_template;         // may be empty
};

}  // namespace ug
