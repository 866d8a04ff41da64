// Everything a generation needs from disk: weights (any format) and the tokenizer stored with them.
#pragma once

#include <memory>
#include <string>

#include "model/weights.h"
#include "text/tokenizer.h"

namespace ug {

struct LoadedModel {
  std::shared_ptr<Gemma4Weights> weights;
  std::shared_ptr<Tokenizer> tokenizer;
  std::string chat_template;  // as stored in the file (may be empty)
};

LoadedModel load_model(const std::string& path, const LoadOptions& options = {});

// Checks that a GGUF is a Gemma 4 MTP assistant (arch gemma4-assistant) matching the model.
void check_assistant_file(const std::string& path, const Gemma4Config& target);

}  // namespace ug
