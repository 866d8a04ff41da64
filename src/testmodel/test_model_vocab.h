// The vocabulary a test checkpoint carries: the real Gemma vocabulary from the npm tokenizer.
#pragma once

#include <memory>

#include "testmodel/test_model.h"
#include "text/tokenizer_data.h"

namespace ug {

// opts.vocab, or the file at opts.vocab_path (default_vocab_path() when empty). Throws ug::Error
// when its size differs from opts.config.vocab_size.
std::shared_ptr<const TokenizerData> resolve_test_vocab(const TestModelOptions& opts);

}  // namespace ug
