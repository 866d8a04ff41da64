// tokenizer.json (with itself as tokenizer_config.json): vocabulary, merges, added tokens, then
// the tokenizer built from them encoding and decoding a few texts.
#include "formats/json_parse.h"
#include "fuzz_util.h"
#include "text/tokenizer.h"
#include "text/vocab_hf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ug::fuzz::refusals_allowed([&] {
    const nlohmann::json j = ug::parse_json(ug::fuzz::as_text(data, size), "tokenizer.json");
    const ug::Tokenizer tok(ug::vocab_from_hf_json(j, &j));
    for (const char* text : {"Hello world", "  a\n\n\tb <bos><|turn>", "\xC3\xA9\xF0\x9F\x98\x80",
                             "\xFF\xFE ab", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
      const std::vector<int32_t> ids = tok.encode(text, true);
      tok.decode(ids);
      ug::StreamDecoder dec(tok);
      for (int32_t id : ids) dec.push(id);
      dec.flush();
    }
  });
  return 0;
}
