// TokenizerData from a GGUF file's tokenizer.ggml.* keys (input spec §4.4).
#pragma once

#include "formats/gguf.h"
#include "text/tokenizer_data.h"

namespace ug {

// Reads tokenizer.ggml.{tokens, scores, token_type, merges, bos/eos/padding/unknown/mask_token_id,
// add_bos_token} and tokenizer.chat_template. Absent optional keys keep TokenizerData's defaults
// (types default to Normal). Throws ug::Error naming the file and key when a key has the wrong
// type or length, or when there are no merges (SentencePiece-score vocabularies, model "llama",
// are not supported).
TokenizerData vocab_from_gguf(const GgufFile& file);

}  // namespace ug
