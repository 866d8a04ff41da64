// SafetensorsFile and SafetensorsSet: validating readers that leave the tensor bytes in the map.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/json_parse.h"
#include "formats/safetensors.h"

namespace ug {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;  // the reference library's limit
constexpr size_t kMaxRank = 16;  // far above any real tensor; bounds work on hostile shapes

using nlohmann::json;

std::optional<DType> safetensors_dtype(const std::string& name) {
  if (name == "BF16") return DType::BF16;
  if (name == "F16") return DType::F16;
  if (name == "F32") return DType::F32;
  return std::nullopt;
}

uint64_t json_offset(const std::string& path, const std::string& name, const json& v) {
  if (!v.is_number_unsigned())
    fail(path, ": tensor '", name, "': data_offsets must hold non-negative integers, found ",
         json_excerpt(v));
  return v.get<uint64_t>();
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path)
    : map_(std::make_shared<MappedFile>(path)) {
  const uint8_t* base = map_->data();
  const uint64_t size = map_->size();
  if (size < 8)
    fail(path, ": not a safetensors file: ", size,
         " bytes, too short for the 8-byte header length");
  uint64_t header_bytes;
  std::memcpy(&header_bytes, base, 8);
  if (header_bytes > kMaxHeaderBytes)
    fail(path, ": header length ", header_bytes, " bytes exceeds the limit of ", kMaxHeaderBytes,
         " bytes (not a safetensors file?)");
  if (header_bytes > size - 8)
    fail(path, ": header length ", header_bytes, " bytes exceeds the file (", size,
         " bytes; truncated file?)");
  // Duplicate keys are refused: nlohmann would silently keep one of the two tensors.
  const json header =
      parse_json(std::string_view(reinterpret_cast<const char*>(base + 8), header_bytes),
                 path + ": header", {.reject_duplicate_keys = true});
  if (!header.is_object())
    fail(path, ": header: expected a JSON object, found ", header.type_name());

  const uint8_t* buffer = base + 8 + header_bytes;
  const uint64_t buffer_bytes = size - 8 - header_bytes;
  struct Extent {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Extent> extents;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        fail(path, ": __metadata__: expected an object, found ", entry.type_name());
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string())
          fail(path, ": __metadata__ key '", k, "': expected a string, found ", v.type_name());
        metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = path + ": tensor '" + name + "'";
    if (!entry.is_object()) fail(where, ": expected an object, found ", entry.type_name());
    auto dtype_it = entry.find("dtype");
    auto shape_it = entry.find("shape");
    auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || shape_it == entry.end() || offsets_it == entry.end())
      fail(where, ": needs 'dtype', 'shape' and 'data_offsets', found ", json_excerpt(entry));
    if (!dtype_it->is_string())
      fail(where, ": dtype must be a string, found ", json_excerpt(*dtype_it));
    std::optional<DType> type = safetensors_dtype(dtype_it->get<std::string>());
    if (!type)
      fail(where, ": dtype '", dtype_it->get<std::string>(),
           "' is not supported (expected BF16, F16 or F32)");
    if (!shape_it->is_array())
      fail(where, ": shape must be an array, found ", json_excerpt(*shape_it));
    if (shape_it->size() > kMaxRank)
      fail(where, ": shape has ", shape_it->size(), " dimensions, more than ", kMaxRank);
    TensorView t;
    t.name = name;
    t.type = *type;
    unsigned __int128 n_elements = 1;
    for (const json& d : *shape_it) {
      if (!d.is_number_unsigned() ||
          d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(where, ": shape ", json_excerpt(*shape_it), " must hold non-negative integers, found ",
             json_excerpt(d));
      n_elements *= d.get<uint64_t>();
      if (n_elements > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()))
        fail(where, ": shape ", json_excerpt(*shape_it), " has too many elements");
      t.ne.insert(t.ne.begin(), d.get<int64_t>());  // ggml order: last dimension first
    }
    if (!offsets_it->is_array() || offsets_it->size() != 2)
      fail(where, ": data_offsets must be [begin, end], found ", json_excerpt(*offsets_it));
    uint64_t begin = json_offset(path, name, (*offsets_it)[0]);
    uint64_t end = json_offset(path, name, (*offsets_it)[1]);
    if (begin > end || end > buffer_bytes)
      fail(where, ": data_offsets [", begin, ", ", end, "] lie outside the data buffer of ",
           buffer_bytes, " bytes");
    const uint64_t expected = static_cast<uint64_t>(n_elements) * dtype_info(t.type).block_bytes;
    if (end - begin != expected)
      fail(where, ": data_offsets [", begin, ", ", end, "] span ", end - begin, " bytes but shape ",
           json_excerpt(*shape_it), " of ", dtype_it->get<std::string>(), " needs ", expected);
    t.data = buffer + begin;
    t.nbytes = expected;
    extents.push_back({begin, end, tensors_.size()});
    tensors_.push_back(std::move(t));
  }

  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const Extent* prev = nullptr;
  for (const Extent& e : extents) {
    if (e.begin == e.end) continue;  // empty tensors occupy nothing
    if (prev && prev->end > e.begin)
      fail(path, ": tensor '", tensors_[e.index].name, "' (data_offsets [", e.begin, ", ", e.end,
           "]) overlaps tensor '", tensors_[prev->index].name, "' (data_offsets [", prev->begin,
           ", ", prev->end, "])");
    prev = &e;
  }
  // Keep file order, which is the order the data lies in.
  std::vector<TensorView> ordered;
  ordered.reserve(tensors_.size());
  for (const Extent& e : extents) ordered.push_back(std::move(tensors_[e.index]));
  tensors_ = std::move(ordered);
  for (size_t k = 0; k < tensors_.size(); ++k) index_[tensors_[k].name] = k;
}

const std::string& SafetensorsFile::path() const { return map_->path(); }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return metadata_; }
const std::vector<TensorView>& SafetensorsFile::tensors() const { return tensors_; }

const TensorView* SafetensorsFile::tensor(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsSet::SafetensorsSet(const std::string& folder) {
  namespace fs = std::filesystem;
  const fs::path dir(folder);
  const fs::path index_path = dir / "model.safetensors.index.json";
  const fs::path single_path = dir / "model.safetensors";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(folder, ": not a folder");

  if (!fs::exists(index_path, ec)) {
    if (!fs::exists(single_path, ec))
      fail(folder, ": no model.safetensors or model.safetensors.index.json in this folder");
    shards_.push_back(std::make_unique<SafetensorsFile>(single_path.string()));
    tensors_ = shards_[0]->tensors();
    for (size_t k = 0; k < tensors_.size(); ++k) index_[tensors_[k].name] = k;
    return;
  }

  const std::string index_name = index_path.string();
  const json index = read_json_file(index_name, {.reject_duplicate_keys = true});
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail(index_name, ": expected an object with a 'weight_map' object");
  const json& weight_map = index["weight_map"];
  if (weight_map.empty()) fail(index_name, ": 'weight_map' lists no tensors");

  // Shards open in file-name order (model-00001-of-… first); each tensor must be in the shard
  // the index names.
  std::map<std::string, std::string> shard_of_tensor;
  std::map<std::string, size_t> shard_index;
  for (const auto& [name, file] : weight_map.items()) {
    if (!file.is_string())
      fail(index_name, ": tensor '", name, "': expected a shard file name, found ",
           json_excerpt(file));
    const std::string shard = file.get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
      fail(index_name, ": tensor '", name, "': shard '", shard,
           "' must be a file name inside the folder");
    if (!shard_index.count(shard) && !fs::exists(dir / shard, ec))
      fail(index_name, ": tensor '", name, "': shard '", shard, "' is missing from ", folder);
    shard_index[shard] = 0;
    shard_of_tensor[name] = shard;
  }
  for (auto& [shard, k] : shard_index) {
    k = shards_.size();
    shards_.push_back(std::make_unique<SafetensorsFile>((dir / shard).string()));
  }
  std::map<std::string, size_t> expected_shard;
  for (const auto& [name, shard] : shard_of_tensor) expected_shard[name] = shard_index[shard];
  for (size_t s = 0; s < shards_.size(); ++s) {
    for (const TensorView& t : shards_[s]->tensors()) {
      auto want = expected_shard.find(t.name);
      if (want == expected_shard.end())
        fail(shards_[s]->path(), ": tensor '", t.name, "' is not listed in ", index_name);
      if (want->second != s)
        fail(shards_[s]->path(), ": tensor '", t.name, "' is listed in ", index_name,
             " under shard '", shards_[want->second]->path(), "'");
      index_[t.name] = tensors_.size();
      tensors_.push_back(t);
    }
  }
  for (const auto& [name, s] : expected_shard)
    if (!index_.count(name))
      fail(index_name, ": tensor '", name, "' is not in its shard ", shards_[s]->path());
}

const std::vector<TensorView>& SafetensorsSet::tensors() const { return tensors_; }

const TensorView* SafetensorsSet::tensor(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

size_t SafetensorsSet::shard_count() const { return shards_.size(); }

}  // namespace ug
