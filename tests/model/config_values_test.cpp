// Gemma4Config from hand-written config.json values and GGUF metadata: types and ranges are
// checked, never truncated.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/gguf.h"
#include "model/config.h"
#include "model/test_model.h"

namespace ug {
namespace {

using nlohmann::json;

json minimal_config() {
  return {{"model_type", "gemma4_text"},
          {"num_hidden_layers", 2},
          {"hidden_size", 64},
          {"intermediate_size", 128},
          {"num_attention_heads", 2},
          {"num_key_value_heads", 1},
          {"head_dim", 32},
          {"vocab_size", 1000},
          {"sliding_window", 16},
          {"layer_types", {"sliding_attention", "full_attention"}}};
}

std::string error_of(const json& config) {
  try {
    Gemma4Config::from_hf(config, nullptr);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigJson, MinimalConfigLoads) {
  const Gemma4Config c = Gemma4Config::from_hf(minimal_config(), nullptr);
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.sliding_window, 16);
}

TEST(ConfigJson, IntegersOutOfRangeAreRefusedNotTruncated) {
  json c = minimal_config();
  c["num_hidden_layers"] = json::parse("4294967298");  // 2^32 + 2 would wrap to 2
  EXPECT_NE(error_of(c).find("'num_hidden_layers' = 4294967298 is not an integer from"),
            std::string::npos)
      << error_of(c);
  c = minimal_config();
  c["hidden_size"] = 1e30;
  EXPECT_NE(error_of(c).find("'hidden_size'"), std::string::npos) << error_of(c);
  c = minimal_config();
  c["sliding_window"] = 16.5;
  EXPECT_NE(error_of(c).find("not an integer"), std::string::npos) << error_of(c);
  c = minimal_config();
  c["vocab_size"] = "1000";
  EXPECT_NE(error_of(c).find("'vocab_size' has the wrong type (string"), std::string::npos)
      << error_of(c);
  c = minimal_config();
  c["rms_norm_eps"] = 1e300;  // beyond float
  EXPECT_NE(error_of(c).find("'rms_norm_eps'"), std::string::npos) << error_of(c);
  c = minimal_config();
  c["rope_parameters"] = {
      {"full_attention", {{"rope_type", "proportional"}, {"partial_rotary_factor", 3e38}}}};
  EXPECT_NE(error_of(c).find("partial rotary factor"), std::string::npos) << error_of(c);
}

TEST(ConfigJson, WholeFloatsCountAsIntegers) {
  json c = minimal_config();
  c["sliding_window"] = 1024.0;
  EXPECT_EQ(Gemma4Config::from_hf(c, nullptr).sliding_window, 1024);
}

TEST(ConfigJson, GenerationConfigIdsAreChecked) {
  const json gen = {{"eos_token_id", {1, json::parse("4294967297")}}};
  try {
    Gemma4Config::from_hf(minimal_config(), &gen);
    ADD_FAILURE() << "accepted an id beyond int32";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("eos_token_id"), std::string::npos) << e.what();
  }
}

TEST(ConfigJson, LongBadValuesAreQuotedBriefly) {
  json c = minimal_config();
  c["layer_types"] = {"sliding_attention", std::string(100000, 'x')};
  EXPECT_LT(error_of(c).size(), 300u) << error_of(c).substr(0, 300);
}

// GGUF metadata: a block_count of 2^32 + 2 read as 2 before, a float past float's range was an
// undefined conversion.
TEST(ConfigGguf, ValuesOutOfRangeAreRefused) {
  using V = GgufValue;
  auto config_error = [](const std::string& key, const V& value) -> std::string {
    const std::string path = testing::TempDir() + "/cfg_" + std::to_string(::getpid()) + ".gguf";
    GgufWriter w;
    w.add_kv("general.architecture", V::make_string("gemma4"));
    add_test_config_keys(w, Gemma4Config::preset_tiny());
    if (!key.empty()) w.add_kv(key, value);
    w.write(path);
    std::string msg;
    try {
      Gemma4Config::from_gguf(GgufFile(path));
    } catch (const Error& e) {
      msg = e.what();
    }
    std::remove(path.c_str());
    return msg;
  };
  EXPECT_EQ(config_error("", V{}), "");
  EXPECT_NE(config_error("gemma4.embedding_length", V::make_u64(4294967304ull))
                .find("'gemma4.embedding_length' = 4294967304 is out of range"),
            std::string::npos);
  std::vector<V> kv(Gemma4Config::preset_tiny().n_layer, V::make_u64(1));
  kv.back() = V::make_u64(1ull << 32);
  EXPECT_NE(config_error("gemma4.attention.head_count_kv", V::make_array(GgufType::U64, kv))
                .find("head_count_kv"),
            std::string::npos);
  V big;
  big.type = GgufType::F64;
  big.f = 1e300;
  EXPECT_NE(config_error("gemma4.rope.freq_base", big).find("not a finite 32-bit float"),
            std::string::npos);
}

}  // namespace
}  // namespace ug
