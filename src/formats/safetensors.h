// safetensors: a validating memory-mapped reader (single file or sharded folder) and a writer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "tensor/tensor_view.h"

namespace ug {

class SafetensorsFile {
 public:
  // Validates header size (≤ 100 MB), JSON, dtypes (BF16 F16 F32 accepted), shapes, offsets
  // inside the buffer, sizes = elements × dtype size, no overlaps. Throws ug::Error naming the file
  // and tensor.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const;
  const std::map<std::string, std::string>& metadata() const;  // "__metadata__"
  // TensorView.ne is in ggml order (reversed safetensors shape): a [out, in] Linear has ne={in,out}.
  const std::vector<TensorView>& tensors() const;
  const TensorView* tensor(const std::string& name) const;

 private:
  std::shared_ptr<MappedFile> map_;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> index_;
};

// All tensors of an HF checkpoint folder: model.safetensors, or the shards named by
// model.safetensors.index.json (every listed shard must exist, every tensor must be where the
// index says, no tensor twice).
class SafetensorsSet {
 public:
  explicit SafetensorsSet(const std::string& folder);
  const std::vector<TensorView>& tensors() const;
  const TensorView* tensor(const std::string& name) const;
  size_t shard_count() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> index_;
};

// Streams tensors into one .safetensors file (ne given in ggml order; written as the reversed
// row-major shape). Same begin / write_tensor_data / finish protocol as GgufWriter.
class SafetensorsWriter {
 public:
  SafetensorsWriter();
  ~SafetensorsWriter();
  void add_metadata(const std::string& key, const std::string& value);
  void add_tensor_info(const std::string& name, DType type, const std::vector<int64_t>& ne);
  void begin(const std::string& path);
  void write_tensor_data(const void* data, uint64_t nbytes);
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes model.safetensors.index.json for shards already written.
void write_safetensors_index(const std::string& folder,
                             const std::map<std::string, std::string>& weight_map,
                             uint64_t total_size);

}  // namespace ug
