// `unigemma tokenize -m MODEL -p TEXT`: ids as a JSON array, like llama-tokenize.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "text/tokenizer.h"
#include "text/vocab_gguf.h"
#include "text/vocab_hf.h"

namespace ug::cli {

void register_tokenize(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "print the token ids of a text");
  static ModelOptions mo;
  static std::string text;
  static bool bos = false, pieces = false, no_special = false;
  mo.add_to(cmd, false);
  cmd->add_option("-p,--prompt", text, "text to tokenize")->required();
  cmd->add_flag("--bos", bos, "add the BOS token in front");
  cmd->add_flag("--pieces", pieces, "print [id, piece] pairs");
  cmd->add_flag("--no-parse-special", no_special, "treat special-token text as plain text");
  cmd->callback([] {
    // Only the vocabulary is needed: no weights are bound.
    TokenizerData data;
    const std::string path = resolve_model_arg(mo.model, false, false).model;
    if (is_hf_folder(path)) {
      HfFolder hf = load_hf_folder(path);
      if (hf.tokenizer.is_null()) fail(path, ": tokenizer.json is missing");
      data = vocab_from_hf_json(hf.tokenizer);
    } else {
      data = vocab_from_gguf(GgufFile(path));
    }
    Tokenizer tok(std::move(data));
    std::vector<int32_t> ids = tok.encode(text, !no_special);
    if (bos) ids.insert(ids.begin(), tok.bos_id());
    nlohmann::json out = nlohmann::json::array();
    for (int32_t id : ids) {
      if (pieces) out.push_back({id, tok.piece(id)});
      else out.push_back(id);
    }
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  });
}

}  // namespace ug::cli
