// GgufWriter: the same bytes llama.cpp's gguf-py writes (GGUF v3): header, metadata in insertion
// order, tensor infos, zero padding to the alignment, then each tensor's data followed by zero
// padding so the next tensor starts aligned. Tensor data is streamed through a buffered FILE.
#include <cstring>
#include <limits>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/output_file.h"

namespace ug {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;
constexpr uint32_t kGgufVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;

template <class T>
void put(std::vector<uint8_t>& out, T v) {
  size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  size_t at = out.size();
  out.resize(at + s.size());
  if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
}

void check_unsigned(const std::string& key, const GgufValue& v, uint64_t max) {
  if (v.u > max)
    fail("GGUF key '", key, "': value ", v.u, " does not fit type ", gguf_type_name(v.type));
}

void check_signed(const std::string& key, const GgufValue& v, int64_t min, int64_t max) {
  if (v.i < min || v.i > max)
    fail("GGUF key '", key, "': value ", v.i, " does not fit type ", gguf_type_name(v.type));
}

// The value without its type tag (arrays carry their element type and count).
void put_value(std::vector<uint8_t>& out, const std::string& key, const GgufValue& v) {
  switch (v.type) {
    case GgufType::U8:
      check_unsigned(key, v, 0xff);
      put<uint8_t>(out, v.u);
      break;
    case GgufType::I8:
      check_signed(key, v, -128, 127);
      put<int8_t>(out, v.i);
      break;
    case GgufType::U16:
      check_unsigned(key, v, 0xffff);
      put<uint16_t>(out, v.u);
      break;
    case GgufType::I16:
      check_signed(key, v, -32768, 32767);
      put<int16_t>(out, v.i);
      break;
    case GgufType::U32:
      check_unsigned(key, v, 0xffffffffu);
      put<uint32_t>(out, v.u);
      break;
    case GgufType::I32:
      check_signed(key, v, std::numeric_limits<int32_t>::min(),
                   std::numeric_limits<int32_t>::max());
      put<int32_t>(out, v.i);
      break;
    case GgufType::F32:
      put<float>(out, static_cast<float>(v.f));
      break;
    case GgufType::BOOL:
      check_unsigned(key, v, 0xff);
      put<uint8_t>(out, v.u);
      break;
    case GgufType::U64:
      put<uint64_t>(out, v.u);
      break;
    case GgufType::I64:
      put<int64_t>(out, v.i);
      break;
    case GgufType::F64:
      put<double>(out, v.f);
      break;
    case GgufType::STRING:
      put_string(out, v.s);
      break;
    case GgufType::ARRAY:
      put<uint32_t>(out, static_cast<uint32_t>(v.elem_type));
      put<uint64_t>(out, v.arr.size());
      for (size_t k = 0; k < v.arr.size(); ++k) {
        if (v.arr[k].type != v.elem_type)
          fail("GGUF key '", key, "': array element ", k, " has type ",
               gguf_type_name(v.arr[k].type), ", expected ", gguf_type_name(v.elem_type));
        put_value(out, key, v.arr[k]);
      }
      break;
    default:
      fail("GGUF key '", key, "': unknown value type ", static_cast<uint32_t>(v.type));
  }
}

uint64_t pad_to(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

}  // namespace

struct GgufWriter::Impl {
  struct Info {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes = 0;
    uint64_t offset = 0;
    std::vector<uint8_t> owned;  // add_tensor() copies
    bool has_data = false;
  };
  std::vector<std::pair<std::string, GgufValue>> kv;
  std::vector<Info> infos;
  std::unique_ptr<OutputFile> file;
  uint64_t alignment = kDefaultAlignment;
  size_t current = 0;            // tensor being written
  uint64_t current_written = 0;  // bytes of it written so far
  bool finished = false;
};

GgufWriter::GgufWriter() : impl_(std::make_unique<Impl>()) {}
GgufWriter::~GgufWriter() = default;

void GgufWriter::add_kv(const std::string& key, GgufValue value) {
  if (impl_->file || impl_->finished) fail("GGUF writer: add_kv('", key, "') after begin()");
  if (key.empty()) fail("GGUF writer: empty metadata key");
  for (auto& [k, v] : impl_->kv) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  impl_->kv.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor_info(const std::string& name, DType type,
                                 const std::vector<int64_t>& ne) {
  if (impl_->file || impl_->finished)
    fail("GGUF writer: add_tensor_info('", name, "') after begin()");
  if (name.empty()) fail("GGUF writer: empty tensor name");
  for (const auto& info : impl_->infos)
    if (info.name == name) fail("GGUF writer: tensor '", name, "' added twice");
  if (ne.empty() || ne.size() > 4)
    fail("GGUF writer: tensor '", name, "': ", ne.size(), " dimensions, expected 1 to 4");
  unsigned __int128 n = 1;
  for (int64_t d : ne) {
    if (d <= 0)
      fail("GGUF writer: tensor '", name, "': shape ", shape_string(ne), " has a size ≤ 0");
    n *= static_cast<uint64_t>(d);
    if (n > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()))
      fail("GGUF writer: tensor '", name, "': shape ", shape_string(ne), " is too large");
  }
  const DTypeInfo& type_info = dtype_info(type);
  if (ne[0] % type_info.block != 0)
    fail("GGUF writer: tensor '", name, "': ne[0] = ", ne[0], " is not a multiple of the ",
         type_info.name, " block size ", type_info.block);
  Impl::Info info;
  info.name = name;
  info.type = type;
  info.ne = ne;
  info.nbytes = row_bytes(type, ne[0]) * static_cast<uint64_t>(n / static_cast<uint64_t>(ne[0]));
  impl_->infos.push_back(std::move(info));
}

void GgufWriter::add_tensor(const std::string& name, DType type, const std::vector<int64_t>& ne,
                            const void* data) {
  add_tensor_info(name, type, ne);
  Impl::Info& info = impl_->infos.back();
  const uint8_t* p = static_cast<const uint8_t*>(data);
  info.owned.assign(p, p + info.nbytes);
  info.has_data = true;
}

void GgufWriter::begin(const std::string& path) {
  Impl& m = *impl_;
  if (m.file || m.finished) fail("GGUF writer: begin('", path, "') called twice");
  m.alignment = kDefaultAlignment;
  for (const auto& [k, v] : m.kv) {
    if (k != "general.alignment") continue;
    if (v.type != GgufType::U32 || v.u == 0 || (v.u & (v.u - 1)) != 0)
      fail("GGUF writer: key 'general.alignment' must be a u32 power of two, found ",
           gguf_type_name(v.type), " ", v.u);
    m.alignment = v.u;
  }

  std::vector<uint8_t> head;
  put<uint32_t>(head, kGgufMagic);
  put<uint32_t>(head, kGgufVersion);
  put<uint64_t>(head, m.infos.size());
  put<uint64_t>(head, m.kv.size());
  for (const auto& [k, v] : m.kv) {
    put_string(head, k);
    put<uint32_t>(head, static_cast<uint32_t>(v.type));
    put_value(head, k, v);
  }
  uint64_t offset = 0;
  for (auto& info : m.infos) {
    info.offset = offset;
    offset += pad_to(info.nbytes, m.alignment);
    put_string(head, info.name);
    put<uint32_t>(head, static_cast<uint32_t>(info.ne.size()));
    for (int64_t d : info.ne) put<uint64_t>(head, static_cast<uint64_t>(d));
    put<uint32_t>(head, static_cast<uint32_t>(info.type));
    put<uint64_t>(head, info.offset);
  }

  m.file = std::make_unique<OutputFile>(path);
  m.file->write(head.data(), head.size());
  m.file->write_zeros(pad_to(head.size(), m.alignment) - head.size());
  m.current = 0;
  m.current_written = 0;
}

void GgufWriter::write_tensor_data(const void* data, uint64_t nbytes) {
  Impl& m = *impl_;
  if (!m.file) fail("GGUF writer: write_tensor_data() before begin()");
  if (m.current >= m.infos.size())
    fail(m.file->path(), ": write_tensor_data(): all ", m.infos.size(),
         " tensors are already written");
  const Impl::Info& info = m.infos[m.current];
  uint64_t left = info.nbytes - m.current_written;
  if (nbytes > left)
    fail(m.file->path(), ": tensor '", info.name, "' (", dtype_name(info.type), " ",
         shape_string(info.ne), "): expected ", left, " more bytes of its ", info.nbytes, ", got ",
         nbytes);
  m.file->write(data, nbytes);
  m.current_written += nbytes;
  if (m.current_written == info.nbytes) {
    m.file->write_zeros(pad_to(info.nbytes, m.alignment) - info.nbytes);
    ++m.current;
    m.current_written = 0;
  }
}

void GgufWriter::finish() {
  Impl& m = *impl_;
  if (!m.file) fail("GGUF writer: finish() before begin()");
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

void GgufWriter::write(const std::string& path) {
  for (const auto& info : impl_->infos)
    if (!info.has_data)
      fail("GGUF writer: write('", path, "'): tensor '", info.name,
           "' was added without data (use begin/write_tensor_data/finish)");
  begin(path);
  for (const auto& info : impl_->infos) write_tensor_data(info.owned.data(), info.nbytes);
  finish();
}

}  // namespace ug
