// GGUF reader, and what is read from its metadata: the model configuration (the input as the
// text model, and as the mmproj of a fixed valid text model) and the tokenizer.
#include "formats/gguf.h"

#include <cstdio>
#include <cstdlib>

#include "fuzz_util.h"
#include "model/config.h"
#include "text/tokenizer.h"
#include "text/vocab_gguf.h"

namespace {

// A valid text model's metadata, written once per process.
const ug::GgufFile& fixed_text_model() {
  static const ug::GgufFile* file = [] {
    char dir[] = "/tmp/ug_fuzz_gguf_XXXXXX";
    if (!::mkdtemp(dir)) __builtin_trap();
    const std::string path = std::string(dir) + "/text.gguf";
    // The keys Gemma4Config::from_gguf needs, for 2 layers (sliding, global).
    using V = ug::GgufValue;
    const std::pair<const char*, V> keys[] = {
        {"general.architecture", V::make_string("gemma4")},
        {"gemma4.block_count", V::make_u32(2)},
        {"gemma4.embedding_length", V::make_u32(8)},
        {"gemma4.feed_forward_length", V::make_u32(16)},
        {"gemma4.attention.head_count", V::make_u32(2)},
        {"gemma4.attention.head_count_kv", V::make_u32(1)},
        {"gemma4.attention.key_length", V::make_u32(4)},
        {"gemma4.attention.sliding_window", V::make_u32(4)},
        {"gemma4.attention.sliding_window_pattern",
         V::make_array(ug::GgufType::BOOL, {V::make_bool(true), V::make_bool(false)})}};
    ug::GgufWriter w;
    for (const auto& [key, value] : keys) w.add_kv(key, value);
    w.write(path);
    auto* f = new ug::GgufFile(path);
    std::remove(path.c_str());
    ::rmdir(dir);
    return f;
  }();
  return *file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ug::fuzz::MemFile file;
  const ug::GgufFile& text = fixed_text_model();
  const std::string& path = file.hold(data, size);
  ug::fuzz::refusals_allowed([&] {
    const ug::GgufFile gguf(path);
    for (const ug::TensorView& t : gguf.tensors()) ug::fuzz::touch(t);
    ug::fuzz::refusals_allowed([&] { ug::Gemma4Config::from_gguf(gguf, nullptr); });
    ug::fuzz::refusals_allowed([&] { ug::Gemma4Config::from_gguf(text, &gguf); });
    ug::fuzz::refusals_allowed([&] {
      const ug::Tokenizer tok(ug::vocab_from_gguf(gguf));
      tok.decode(tok.encode("Hello <|turn>user\n w\xC3\xB6rld \xF0\x9F\x91\x8B \xFF", true));
    });
  });
  return 0;
}
