// HF folder → GGUF as llama.cpp's Gemma 4 converter writes it (text spec §5, §6.3; input spec
// §8.3): the text model (arch gemma4) and optionally the mmproj (arch clip).
#pragma once

#include <string>

#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "model/config.h"
#include "runtime/quantize_file.h"
#include "text/tokenizer_data.h"

namespace ug {

// The folder's own name ("gemma-4-12B-it" for ".../gemma-4-12B-it/"): general.name.
std::string hf_folder_name(const std::string& folder);

// The vocabulary of an HF folder (tokenizer.json, which must be present) as the converter writes it
// to GGUF: Gemma 4 token types, padded to vocab_size. Frees hf.tokenizer.
TokenizerData gguf_vocab_from_hf(HfFolder& hf, int64_t vocab_size);

// The tokenizer.* keys llama.cpp's Gemma 4 converter writes (input spec §4.4); ids the vocabulary
// lacks and the suppressed tokens come from c.
void add_gemma4_tokenizer_keys(GgufWriter& w, const Gemma4Config& c, const TokenizerData& v);

QuantizeSummary quantize_hf_folder(const std::string& folder, const std::string& out,
                                   const QuantizeOptions& opts);

}  // namespace ug
