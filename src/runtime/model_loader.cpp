#include "runtime/model_loader.h"

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "text/vocab_gguf.h"
#include "text/vocab_hf.h"

namespace ug {

LoadedModel load_model(const std::string& path, const LoadOptions& options) {
  LoadedModel m;
  m.weights = load_gemma4(path, options);
  TokenizerData data;
  if (m.weights->format == "hf") {
    HfFolder hf = load_hf_folder(path);
    if (hf.tokenizer.is_null()) fail(path, ": tokenizer.json is missing");
    data = vocab_from_hf_json(hf.tokenizer);
    if (!hf.tokenizer_config.is_null() && hf.tokenizer_config.contains("add_bos_token") &&
        hf.tokenizer_config["add_bos_token"].is_boolean())
      data.add_bos = hf.tokenizer_config["add_bos_token"].get<bool>();
    data.chat_template = hf.chat_template;
  } else {
    GgufFile f(path);
    data = vocab_from_gguf(f);
  }
  if (static_cast<int>(data.tokens.size()) != m.weights->config.vocab_size)
    fail(path, ": the tokenizer has ", data.tokens.size(), " tokens but the embedding has ",
         m.weights->config.vocab_size, " rows");
  m.chat_template = data.chat_template;
  m.tokenizer = std::make_shared<Tokenizer>(std::move(data));
  return m;
}

void check_assistant_file(const std::string& path, const Gemma4Config& target) {
  GgufFile f(path);
  const GgufValue* arch = f.find("general.architecture");
  if (!arch || arch->as_string() != "gemma4-assistant")
    fail(path, ": not a Gemma 4 assistant (general.architecture must be 'gemma4-assistant')");
  const GgufValue* out = f.find("gemma4-assistant.embedding_length_out");
  if (!out || out->as_int() != target.n_embd)
    fail(path, ": assistant embedding_length_out must equal the model's width ", target.n_embd);
}

}  // namespace ug
