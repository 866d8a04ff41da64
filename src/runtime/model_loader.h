// Everything a generation needs from disk: weights (any format) and the tokenizer stored with them.
#pragma once

#include <memory>
#include <string>

#include "model/assistant.h"
#include "model/weights.h"
#include "text/tokenizer.h"

namespace ug {

struct LoadedModel {
  std::shared_ptr<Gemma4Weights> weights;
  std::shared_ptr<Tokenizer> tokenizer;
  std::string chat_template;  // as stored in the file (may be empty)
  std::shared_ptr<AssistantModel> assistant;  // the MTP drafter, when one was given
};

// assistant_path: a GGUF (gemma4-assistant) or HF folder of the MTP drafter, or empty.
LoadedModel load_model(const std::string& path, const LoadOptions& options = {},
                       const std::string& assistant_path = "");

}  // namespace ug
