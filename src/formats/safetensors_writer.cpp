// SafetensorsWriter and write_safetensors_index: the header is written up front (offsets are known
// from the shapes), then the tensor bytes are streamed in order with no gaps.
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/output_file.h"
#include "formats/safetensors.h"

namespace ug {

namespace {
const char* safetensors_dtype_name(DType t) {
  switch (t) {
    case DType::BF16:
      return "BF16";
    case DType::F16:
      return "F16";
    case DType::F32:
      return "F32";
    default:
      return nullptr;
  }
}
}  // namespace

struct SafetensorsWriter::Impl {
  struct Info {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
  };
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<Info> infos;
  std::unique_ptr<OutputFile> file;
  size_t current = 0;
  uint64_t current_written = 0;
  bool finished = false;
};

SafetensorsWriter::SafetensorsWriter() : impl_(std::make_unique<Impl>()) {}
SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::add_metadata(const std::string& key, const std::string& value) {
  if (impl_->file || impl_->finished) fail("safetensors writer: add_metadata() after begin()");
  for (auto& [k, v] : impl_->metadata) {
    if (k == key) {
      v = value;
      return;
    }
  }
  impl_->metadata.emplace_back(key, value);
}

void SafetensorsWriter::add_tensor_info(const std::string& name, DType type,
                                        const std::vector<int64_t>& ne) {
  if (impl_->file || impl_->finished)
    fail("safetensors writer: add_tensor_info('", name, "') after begin()");
  if (name.empty() || name == "__metadata__")
    fail("safetensors writer: invalid tensor name '", name, "'");
  if (!safetensors_dtype_name(type))
    fail("safetensors writer: tensor '", name, "': type ", dtype_name(type),
         " cannot be stored in safetensors (BF16, F16 or F32 only)");
  for (const auto& info : impl_->infos)
    if (info.name == name) fail("safetensors writer: tensor '", name, "' added twice");
  unsigned __int128 n = 1;
  for (int64_t d : ne) {
    if (d < 0)
      fail("safetensors writer: tensor '", name, "': shape ", shape_string(ne),
           " has a negative size");
    n *= static_cast<uint64_t>(d);
    if (n > (static_cast<unsigned __int128>(1) << 62))
      fail("safetensors writer: tensor '", name, "': shape ", shape_string(ne), " is too large");
  }
  impl_->infos.push_back({name, type, ne, static_cast<uint64_t>(n) * dtype_info(type).block_bytes});
}

void SafetensorsWriter::begin(const std::string& path) {
  Impl& m = *impl_;
  if (m.file || m.finished) fail("safetensors writer: begin('", path, "') called twice");
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!m.metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : m.metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const auto& info : m.infos) {
    nlohmann::ordered_json shape = nlohmann::ordered_json::array();
    for (auto it = info.ne.rbegin(); it != info.ne.rend(); ++it) shape.push_back(*it);
    header[info.name] = {{"dtype", safetensors_dtype_name(info.type)},
                         {"shape", std::move(shape)},
                         {"data_offsets", {offset, offset + info.nbytes}}};
    offset += info.nbytes;
  }
  std::string text = header.dump();
  // Spaces pad the header so the data buffer starts 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t header_bytes = text.size();
  m.file = std::make_unique<OutputFile>(path);
  m.file->write(&header_bytes, sizeof(header_bytes));
  m.file->write(text.data(), text.size());
  m.current = 0;
  m.current_written = 0;
  while (m.current < m.infos.size() && m.infos[m.current].nbytes == 0) ++m.current;
}

void SafetensorsWriter::write_tensor_data(const void* data, uint64_t nbytes) {
  Impl& m = *impl_;
  if (!m.file) fail("safetensors writer: write_tensor_data() before begin()");
  if (m.current >= m.infos.size())
    fail(m.file->path(), ": write_tensor_data(): all ", m.infos.size(),
         " tensors are already written");
  const Impl::Info& info = m.infos[m.current];
  const uint64_t left = info.nbytes - m.current_written;
  if (nbytes > left)
    fail(m.file->path(), ": tensor '", info.name, "' (", dtype_name(info.type), " ",
         shape_string(info.ne), "): expected ", left, " more bytes of its ", info.nbytes, ", got ",
         nbytes);
  m.file->write(data, nbytes);
  m.current_written += nbytes;
  if (m.current_written == info.nbytes) {
    m.current_written = 0;
    ++m.current;
    while (m.current < m.infos.size() && m.infos[m.current].nbytes == 0) ++m.current;
  }
}

void SafetensorsWriter::finish() {
  Impl& m = *impl_;
  if (!m.file) fail("safetensors writer: finish() without an open file");
  if (m.current < m.infos.size()) {
    const Impl::Info& info = m.infos[m.current];
    std::string path = m.file->path();
    m.file.reset();  // removes the partial file
    fail(path, ": tensor '", info.name, "' has ", m.current_written, " of its ", info.nbytes,
         " bytes written (", m.infos.size() - m.current, " tensors incomplete); file removed");
  }
  m.file->close();
  m.file.reset();
  m.finished = true;
}

void write_safetensors_index(const std::string& folder,
                             const std::map<std::string, std::string>& weight_map,
                             uint64_t total_size) {
  nlohmann::ordered_json index = {{"metadata", {{"total_size", total_size}}},
                                  {"weight_map", nlohmann::ordered_json::object()}};
  for (const auto& [name, shard] : weight_map) index["weight_map"][name] = shard;
  const std::string path = folder + "/model.safetensors.index.json";
  OutputFile out(path);
  const std::string text = index.dump(2) + "\n";
  out.write(text.data(), text.size());
  out.close();
}

}  // namespace ug
