// GGUF v3 (llama.cpp's model format): a validating, memory-mapped reader and a streaming writer
// that produces the same bytes as llama.cpp's gguf-py writer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "tensor/tensor_view.h"

namespace ug {

enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Scalars live in the matching field; arrays keep their element type and
// the elements (arrays of arrays occur).
struct GgufValue {
  GgufType type = GgufType::U32;
  uint64_t u = 0;                     // U8 U16 U32 U64 BOOL
  int64_t i = 0;                      // I8 I16 I32 I64
  double f = 0;                       // F32 F64
  std::string s;                      // STRING
  GgufType elem_type = GgufType::U8;  // ARRAY
  std::vector<GgufValue> arr;         // ARRAY

  bool is_integer() const;
  bool is_float() const;
  // Conversions throw ug::Error (naming `what`) when the value has another type or is out of range.
  int64_t as_int(const std::string& what = "value") const;
  double as_float(const std::string& what = "value") const;  // integers convert too
  bool as_bool(const std::string& what = "value") const;
  const std::string& as_string(const std::string& what = "value") const;

  static GgufValue make_u32(uint32_t v);
  static GgufValue make_i32(int32_t v);
  static GgufValue make_u64(uint64_t v);
  static GgufValue make_f32(float v);
  static GgufValue make_bool(bool v);
  static GgufValue make_string(std::string v);
  static GgufValue make_array(GgufType elem, std::vector<GgufValue> items);
};

class GgufFile {
 public:
  // Opens, maps and validates the whole header and every tensor's extent. Throws ug::Error naming
  // the file and what is wrong (bad magic/version, truncation, absurd counts, bad offsets,
  // overlapping tensors, unknown types, shape/size mismatch).
  explicit GgufFile(const std::string& path);

  const std::string& path() const;
  uint32_t version() const;
  uint64_t alignment() const;
  uint64_t file_size() const;

  const std::vector<std::string>& keys() const;  // in file order
  // Frees the parsed key/value metadata (the tokenizer's arrays alone are 3 × 262144 values):
  // for a file kept open only for its mapped tensor data. keys() is empty afterwards and find()
  // finds nothing; tensors() stay.
  void drop_metadata();
  const GgufValue* find(const std::string& key) const;  // nullptr if absent
  const GgufValue& get(const std::string& key) const;   // throws if absent

  const std::vector<TensorView>& tensors() const;  // in file order, data points into the map
  const TensorView* tensor(const std::string& name) const;  // nullptr if absent

 private:
  void parse(const std::string& path);

  std::shared_ptr<MappedFile> map_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::string> keys_;
  std::map<std::string, GgufValue> kv_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// Writes metadata, then tensor infos, then (streamed, in the order added) each tensor's bytes.
// Usage: add_kv(...)...; add_tensor_info(...)...; begin(path); write_tensor_data(...) for each
// tensor in order (in one call or in consecutive chunks); finish(). Memory use does not grow with
// the tensor data. A file left unfinished (error, early destruction) is removed.
class GgufWriter {
 public:
  GgufWriter();
  ~GgufWriter();
  void add_kv(const std::string& key, GgufValue value);  // keeps insertion order; replaces dups
  void add_tensor_info(const std::string& name, DType type, const std::vector<int64_t>& ne);
  void begin(const std::string& path);                        // writes header, kv, infos, padding
  void write_tensor_data(const void* data, uint64_t nbytes);  // checks size against the info
  void finish();  // checks every tensor was written, closes the file

  // Convenience for small files: keeps copies, writes everything at once.
  void add_tensor(const std::string& name, DType type, const std::vector<int64_t>& ne,
                  const void* data);
  void write(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ug
