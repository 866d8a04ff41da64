// HF folder → GGUF as llama.cpp's Gemma 4 converter writes it (text spec §5, §6.3; input spec
// §8.3): the text model (arch gemma4) and optionally the mmproj (arch clip).
#pragma once

#include <string>

#include "runtime/quantize_file.h"

namespace ug {

QuantizeSummary quantize_hf_folder(const std::string& folder, const std::string& out,
                                   const QuantizeOptions& opts);

}  // namespace ug
