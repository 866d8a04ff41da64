#include "runtime/model_loader.h"

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "text/vocab_gguf.h"
#include "text/vocab_hf.h"

namespace ug {

LoadedModel load_model(const std::string& path, const LoadOptions& options,
                       const std::string& assistant_path) {
  LoadedModel m;
  // The vocabulary first, and its source freed before the weights load: a GGUF's parsed metadata
  // holds every piece and merge as a value (≈140 MB for Gemma's 262144 pieces), and the weights
  // keep their own parse of the file for as long as they live; two at once were the peak.
  TokenizerData data;
  if (is_hf_folder(path)) {
    HfFolder hf = load_hf_folder(path);
    if (hf.tokenizer.is_null()) fail(path, ": tokenizer.json is missing");
    data = vocab_from_hf_json(hf.tokenizer);
    if (!hf.tokenizer_config.is_null() && hf.tokenizer_config.contains("add_bos_token") &&
        hf.tokenizer_config["add_bos_token"].is_boolean())
      data.add_bos = hf.tokenizer_config["add_bos_token"].get<bool>();
    data.chat_template = hf.chat_template;
  } else {
    data = vocab_from_gguf(GgufFile(path));
  }
  m.weights = load_gemma4(path, options);
  if (static_cast<int>(data.tokens.size()) != m.weights->config.vocab_size)
    fail(path, ": the tokenizer has ", data.tokens.size(), " tokens but the embedding has ",
         m.weights->config.vocab_size, " rows");
  m.chat_template = data.chat_template;
  m.tokenizer = std::make_shared<Tokenizer>(std::move(data));
  if (!assistant_path.empty())
    m.assistant =
        std::make_shared<AssistantModel>(load_assistant(assistant_path, m.weights->config));
  return m;
}

}  // namespace ug
