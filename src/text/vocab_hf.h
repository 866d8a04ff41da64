// TokenizerData <-> HF tokenizer.json (BPE with byte fallback, the layout of Gemma's file,
// input spec §4.5).
#pragma once

#include <nlohmann/json.hpp>

#include "text/tokenizer_data.h"

namespace ug {

// Reads model.vocab, model.merges ("a b" strings or [a, b] pairs), added_tokens and the BOS
// post-processor. Types: "<0xXX>" -> Byte; special added token -> Control; other added token ->
// UserDefined; model.unk_token (when not an added token) -> Unknown; the rest Normal. Ids missing
// from both vocab and added_tokens become "[PAD<id>]" Unused slots (as llama.cpp's converter
// does). Special ids come from the pieces <bos>, <eos>, <pad>, <mask> and model.unk_token (-1
// when absent). `tokenizer_config` (tokenizer_config.json, may be null) supplies add_bos_token
// and chat_template. Throws ug::Error naming `what` (usually the file) on malformed input.
TokenizerData vocab_from_hf_json(const nlohmann::json& tokenizer_json,
                                 const nlohmann::json* tokenizer_config = nullptr,
                                 const std::string& what = "tokenizer.json");

// Writes a tokenizer.json that HF tokenizers loads as Gemma's: BPE, byte_fallback, Replace
// normalizer, Split pre-tokenizer, Replace/ByteFallback/Fuse decoder, BOS post-processor when
// add_bos. added_tokens: Control (special) and UserDefined, plus the Normal tokens the Tokenizer
// treats as added (tokenizer_added_token_ids) so HF splits them the same way; those come back from
// vocab_from_hf_json as UserDefined. Scores and the chat template are not part of the format.
nlohmann::json vocab_to_hf_json(const TokenizerData& data);

}  // namespace ug
