// config.json / generation_config.json: JSON parsing with its depth limit, then the Gemma 4
// configuration read from it.
#include "formats/json_parse.h"
#include "fuzz_util.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ug::fuzz::refusals_allowed([&] {
    const nlohmann::json j = ug::parse_json(ug::fuzz::as_text(data, size), "config.json");
    ug::fuzz::refusals_allowed([&] { ug::Gemma4Config::from_hf(j, nullptr); });
    ug::fuzz::refusals_allowed([&] {
      const ug::Gemma4Config c = ug::Gemma4Config::from_hf(j, &j);
      c.text_param_count();
      c.kv_cache_bytes(4096, 2);
    });
  });
  return 0;
}
