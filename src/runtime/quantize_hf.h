// HF folder → GGUF as llama.cpp's Gemma 4 converter writes it (text spec §5, §6.3; input spec
// §8.3): the text model (arch gemma4) and optionally the mmproj (arch clip).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/safetensors.h"
#include "model/config.h"
#include "runtime/quantize_file.h"
#include "runtime/quantize_plan.h"
#include "runtime/quantize_stream.h"
#include "text/tokenizer_data.h"

namespace ug {

// The tensors of one output GGUF, each read from a safetensors tensor of an HF folder.
class HfTensorPlanner {
 public:
  HfTensorPlanner(const SafetensorsSet& set, const std::string& folder)
      : set_(set), folder_(folder) {}

  const TensorView* find(const std::string& hf) const { return set_.tensor(hf); }

  // matrix: its type is chosen by choose_types; other tensors are written as F32.
  StreamTensor& add(const std::string& gguf, const std::string& hf, std::vector<int64_t> ne,
                    bool matrix) {
    const TensorView* t = set_.tensor(hf);
    if (!t) fail(folder_, ": missing tensor '", hf, "'");
    used_.insert(hf);
    StreamTensor s;
    s.name = gguf;
    s.src = t;
    s.ne = ne.empty() ? t->ne : std::move(ne);
    s.type = DType::F32;
    out.push_back(std::move(s));
    matrix_.push_back(matrix);
    return out.back();
  }

  void check_all_used(const std::set<std::string>& ignored) const {
    std::string extra;
    int n = 0;
    for (const auto& t : set_.tensors())
      if (!used_.count(t.name) && !ignored.count(t.name)) {
        if (n < 5) extra += (n ? ", '" : "'") + t.name + "'";
        ++n;
      }
    if (n)
      fail(folder_, ": ", n, " tensor(s) the Gemma 4 converter does not know: ", extra,
           n > 5 ? ", ..." : "");
  }

  // Matrices get their type from the chooser; everything else stays F32.
  void choose_types(const QuantScheme& scheme, bool pure) {
    std::vector<std::string> names;
    for (const auto& s : out) names.push_back(s.name);
    TypeChooser chooser(scheme, names, pure);
    for (size_t i = 0; i < out.size(); ++i)
      if (matrix_[i]) out[i].type = chooser.matrix_type(out[i].name, out[i].ne);
  }

  std::vector<StreamTensor> out;
  std::set<std::string> used_;

 private:
  const SafetensorsSet& set_;
  std::string folder_;
  std::vector<bool> matrix_;
};

// Adds a written file's tensors (count, types, bytes read) to the summary.
void count_tensors(QuantizeSummary& sum, const std::vector<StreamTensor>& plan);

// The folder's own name ("gemma-4-12B-it" for ".../gemma-4-12B-it/"): general.name.
std::string hf_folder_name(const std::string& folder);

// The vocabulary of an HF folder (tokenizer.json, which must be present) as the converter writes it
// to GGUF: Gemma 4 token types, padded to vocab_size. Frees hf.tokenizer.
TokenizerData gguf_vocab_from_hf(HfFolder& hf, int64_t vocab_size);

// The tokenizer.* keys llama.cpp's Gemma 4 converter writes (input spec §4.4); ids the vocabulary
// lacks and the suppressed tokens come from c.
void add_gemma4_tokenizer_keys(GgufWriter& w, const Gemma4Config& c, const TokenizerData& v);

QuantizeSummary quantize_hf_folder(const std::string& folder, const std::string& out,
                                   const QuantizeOptions& opts);

}  // namespace ug
