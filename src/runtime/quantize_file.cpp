#include "runtime/quantize_file.h"

#include <filesystem>

#include "base/error.h"
#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "model/assistant.h"
#include "model/tensor_names.h"
#include "runtime/quantize_hf.h"
#include "runtime/quantize_hf_assistant.h"
#include "runtime/quantize_plan.h"
#include "runtime/quantize_stream.h"

namespace ug {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool same_path(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::exists(b, ec) && std::filesystem::equivalent(a, b, ec);
}

// A 2-D weight llama-quantize converts; clip patch/position tables stay as the converter wrote
// them (ggml's im2col needs an F32/F16 kernel).
bool is_converted_matrix(const TensorView& t, bool clip) {
  if (t.ne.size() != 2 || !ends_with(t.name, "weight") || ends_with(t.name, "_norm.weight"))
    return false;
  if (clip && (t.name.rfind("v.patch_embd", 0) == 0 || t.name.rfind("v.position_embd", 0) == 0))
    return false;
  return true;
}

QuantizeSummary quantize_gguf(const std::string& in, const std::string& out,
                              const QuantizeOptions& o) {
  if (!o.mmproj_out.empty())
    fail("quantize: --mmproj-out is for HF folders; quantize an mmproj GGUF on its own");
  const QuantScheme scheme = parse_quant_scheme(o.type);
  GgufFile f(in);
  const GgufValue* arch_v = f.find("general.architecture");
  const std::string arch = arch_v ? arch_v->as_string("general.architecture") : "";
  const bool clip = arch == "clip";
  std::vector<std::string> names;
  for (const auto& t : f.tensors()) names.push_back(t.name);
  TypeChooser chooser(scheme, names, o.pure);

  std::vector<StreamTensor> plan;
  QuantizeSummary sum;
  bool any_quantized = false;
  DType main_type = scheme.base;
  for (const auto& t : f.tensors()) {
    StreamTensor s;
    s.name = t.name;
    s.ne = t.ne;
    s.src = &t;
    if (is_converted_matrix(t, clip)) {
      s.type = chooser.matrix_type(t.name, t.ne);
      if (clip && s.name.rfind("mm.", 0) == 0) main_type = s.type;
    } else if (t.ne.size() == 1 || ends_with(t.name, "_norm.weight")) {
      s.type = DType::F32;  // converter rule: every 1-D tensor and every norm is F32
    } else {
      s.type = t.type;  // copied unchanged
    }
    const DTypeInfo& info = dtype_info(s.type);
    any_quantized |= info.block > 1;
    sum.bytes_in += t.nbytes;
    ++sum.type_counts[s.type];
    plan.push_back(std::move(s));
  }

  GgufWriter w;
  bool has_qv = false;
  for (const auto& k : f.keys()) {
    if (k == "general.file_type") {
      w.add_kv(k, GgufValue::make_u32(clip ? gguf_file_type(main_type) : scheme.file_type));
    } else if (k == "general.quantization_version") {
      w.add_kv(k, GgufValue::make_u32(2));
      has_qv = true;
    } else {
      w.add_kv(k, f.get(k));
    }
  }
  if (!f.find("general.file_type"))
    w.add_kv("general.file_type",
             GgufValue::make_u32(clip ? gguf_file_type(main_type) : scheme.file_type));
  if (!has_qv && (!clip || any_quantized))
    w.add_kv("general.quantization_version", GgufValue::make_u32(2));

  ThreadPool pool(o.threads);
  StreamStats st = write_gguf_streamed(w, plan, out, pool, o.progress);
  sum.tensors = static_cast<int>(plan.size());
  sum.bytes_out = st.bytes_out;
  sum.largest_tensor_bytes = st.largest_tensor_bytes;
  return sum;
}

}  // namespace

QuantizeSummary quantize_model(const std::string& in, const std::string& out,
                               const QuantizeOptions& opts) {
  if (out.empty()) fail("quantize: no output file given");
  if (same_path(in, out) || (!opts.mmproj_out.empty() && same_path(in, opts.mmproj_out)))
    fail("quantize: the output '", out, "' would overwrite the input '", in, "'");
  if (!opts.mmproj_out.empty() && opts.mmproj_out == out)
    fail("quantize: the text and mmproj outputs are the same file '", out, "'");
  if (is_hf_assistant_folder(in)) return quantize_hf_assistant(in, out, opts);
  if (is_hf_folder(in)) return quantize_hf_folder(in, out, opts);
  if (std::filesystem::is_directory(in))
    fail("quantize: '", in, "' is a folder without config.json (not an HF checkpoint)");
  return quantize_gguf(in, out, opts);
}

}  // namespace ug
