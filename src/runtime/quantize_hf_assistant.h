// HF assistant folder (google/gemma-4-12B-it-assistant) → GGUF arch gemma4-assistant, as
// llama.cpp's converter writes it (text spec §7.2): the drafter's matrices in the asked type, its
// vectors in F32, rope_freqs generated, keys from its text_config.
#pragma once

#include <string>

#include "runtime/quantize_file.h"

namespace ug {

QuantizeSummary quantize_hf_assistant(const std::string& folder, const std::string& out,
                                      const QuantizeOptions& opts);

}  // namespace ug
