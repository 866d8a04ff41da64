// GgufFile: parses and validates a GGUF file in place in its memory map. Every count read from the
// file is checked against the bytes that remain before anything is reserved, so a hostile file can
// neither crash the reader nor make it allocate more than a small multiple of the file size.
#include <algorithm>
#include <cstring>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>

#include "base/error.h"
#include "formats/gguf.h"

namespace ug {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr uint64_t kMaxTensorNameBytes = 64 * 1024;
constexpr int kMaxArrayDepth = 8;  // nested arrays: real files use at most 2 levels
// Each value costs ~100 bytes in memory; real vocabularies need a few million (Gemma 4: 1.3 M).
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 24;
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;  // key length, type, smallest value
constexpr uint64_t kMinTensorInfoBytes =
    8 + 4 + 8 + 4 + 8;  // name length, n_dims, ne[0], type, offset

// Smallest encoding of one value of type t (arrays: element type + count).
uint64_t min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
    case GgufType::STRING:
      return 8;
    case GgufType::ARRAY:
      return 12;
  }
  return 1;
}

std::string quoted(const std::string& what, const std::string& name) {
  return what + " '" + name + "'";
}

class Cursor {
 public:
  Cursor(const std::string& path, const uint8_t* data, uint64_t size)
      : path_(path), data_(data), size_(size) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  void need(uint64_t n, const std::string& ctx, const char* what) const {
    if (n > remaining())
      fail(path_, ": ", ctx, ": ", what, " needs ", n, " bytes at offset ", pos_,
           " but the file ends at ", size_, " (truncated or corrupt file)");
  }

  template <class T>
  T get(const std::string& ctx, const char* what) {
    need(sizeof(T), ctx, what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  // A length-prefixed string of at most max_len bytes.
  std::string str(const std::string& ctx, const char* what,
                  uint64_t max_len = std::numeric_limits<uint64_t>::max()) {
    uint64_t n = get<uint64_t>(ctx, what);
    if (n > max_len)
      fail(path_, ": ", ctx, ": ", what, " is ", n, " bytes long, more than the limit of ",
           max_len);
    need(n, ctx, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const std::string& path_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

GgufType checked_type(const std::string& path, const std::string& ctx, uint32_t raw,
                      const char* what) {
  if (raw > static_cast<uint32_t>(GgufType::F64))
    fail(path, ": ", ctx, ": unknown ", what, " ", raw, " (expected 0 to 12)");
  return static_cast<GgufType>(raw);
}

GgufValue read_value(Cursor& c, const std::string& path, const std::string& ctx, GgufType t,
                     int depth, uint64_t& values_left) {
  GgufValue v;
  v.type = t;
  switch (t) {
    case GgufType::U8:
      v.u = c.get<uint8_t>(ctx, "u8 value");
      break;
    case GgufType::I8:
      v.i = c.get<int8_t>(ctx, "i8 value");
      break;
    case GgufType::U16:
      v.u = c.get<uint16_t>(ctx, "u16 value");
      break;
    case GgufType::I16:
      v.i = c.get<int16_t>(ctx, "i16 value");
      break;
    case GgufType::U32:
      v.u = c.get<uint32_t>(ctx, "u32 value");
      break;
    case GgufType::I32:
      v.i = c.get<int32_t>(ctx, "i32 value");
      break;
    case GgufType::F32:
      v.f = c.get<float>(ctx, "f32 value");
      break;
    case GgufType::BOOL:
      v.u = c.get<uint8_t>(ctx, "bool value");
      break;
    case GgufType::U64:
      v.u = c.get<uint64_t>(ctx, "u64 value");
      break;
    case GgufType::I64:
      v.i = c.get<int64_t>(ctx, "i64 value");
      break;
    case GgufType::F64:
      v.f = c.get<double>(ctx, "f64 value");
      break;
    case GgufType::STRING:
      v.s = c.str(ctx, "string value");
      break;
    case GgufType::ARRAY: {
      if (depth >= kMaxArrayDepth)
        fail(path, ": ", ctx, ": arrays nested more than ", kMaxArrayDepth, " deep");
      v.elem_type =
          checked_type(path, ctx, c.get<uint32_t>(ctx, "array element type"), "array element type");
      uint64_t count = c.get<uint64_t>(ctx, "array length");
      uint64_t min_bytes = min_value_bytes(v.elem_type);
      if (count > c.remaining() / min_bytes)
        fail(path, ": ", ctx, ": array of ", count, " ", gguf_type_name(v.elem_type),
             " values needs at least ", min_bytes, " bytes each but only ", c.remaining(),
             " bytes remain in the file");
      if (count > values_left)
        fail(path, ": ", ctx, ": array of ", count,
             " values exceeds what the metadata may hold in all (", kMaxMetadataValues, " values)");
      values_left -= count;
      v.arr.reserve(count);
      for (uint64_t k = 0; k < count; ++k)
        v.arr.push_back(read_value(c, path, ctx, v.elem_type, depth + 1, values_left));
      break;
    }
  }
  return v;
}

std::string hex_bytes(const uint8_t* p, uint64_t n) {
  std::ostringstream s;
  for (uint64_t k = 0; k < n; ++k)
    s << (k ? " " : "") << std::hex << std::setw(2) << std::setfill('0') << int(p[k]);
  return s.str();
}

}  // namespace

GgufFile::GgufFile(const std::string& path) : map_(std::make_shared<MappedFile>(path)) {
  // The count checks bound allocations by the file size; a huge file can still exhaust memory.
  try {
    parse(path);
  } catch (const std::bad_alloc&) {
    fail(path, ": out of memory while reading the GGUF header");
  }
}

void GgufFile::parse(const std::string& path) {
  const uint8_t* base = map_->data();
  const uint64_t size = map_->size();
  Cursor c(path, base, size);

  const std::string header = "header";
  if (size < 4)
    fail(path, ": not a GGUF file: it is ", size, " bytes long, too short for the magic 'GGUF'");
  uint32_t magic = c.get<uint32_t>(header, "magic");
  if (magic != kGgufMagic)
    fail(path, ": not a GGUF file: the first bytes are ", hex_bytes(base, 4),
         ", expected 47 47 55 46 ('GGUF')");
  version_ = c.get<uint32_t>(header, "version");
  if (version_ != 2 && version_ != 3) {
    if (version_ == 0x03000000 || version_ == 0x02000000)
      fail(path, ": GGUF version is byte-swapped (", version_,
           "): a big-endian file, which this engine cannot read");
    fail(path, ": unsupported GGUF version ", version_, " (expected 3)");
  }
  uint64_t tensor_count = c.get<uint64_t>(header, "tensor count");
  uint64_t kv_count = c.get<uint64_t>(header, "metadata key count");
  if (kv_count > c.remaining() / kMinKvBytes)
    fail(path, ": header: metadata key count ", kv_count,
         " is impossible: each key needs at least ", kMinKvBytes, " bytes and only ", c.remaining(),
         " bytes remain");
  if (tensor_count > c.remaining() / kMinTensorInfoBytes)
    fail(path, ": header: tensor count ", tensor_count,
         " is impossible: each tensor info needs at least ", kMinTensorInfoBytes,
         " bytes and only ", c.remaining(), " bytes remain");

  keys_.reserve(kv_count);
  uint64_t values_left = kMaxMetadataValues;
  for (uint64_t k = 0; k < kv_count; ++k) {
    std::string ctx = "metadata key #" + std::to_string(k);
    std::string key = c.str(ctx, "key name");
    if (key.empty()) fail(path, ": ", ctx, ": empty key name");
    ctx = quoted("key", key);
    GgufType t = checked_type(path, ctx, c.get<uint32_t>(ctx, "value type"), "value type");
    GgufValue v = read_value(c, path, ctx, t, 0, values_left);
    if (!kv_.emplace(key, std::move(v)).second)
      fail(path, ": ", ctx, ": appears twice in the metadata");
    keys_.push_back(std::move(key));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (a->type != GgufType::U32)
      fail(path, ": key 'general.alignment': expected type u32, found ", gguf_type_name(a->type));
    if (a->u == 0 || (a->u & (a->u - 1)) != 0)
      fail(path, ": key 'general.alignment': expected a nonzero power of two, found ", a->u);
    alignment_ = a->u;
  }

  if (tensor_count > c.remaining() / kMinTensorInfoBytes)
    fail(path, ": header: tensor count ", tensor_count,
         " is impossible: each tensor info needs at least ", kMinTensorInfoBytes,
         " bytes and only ", c.remaining(), " bytes remain after the metadata");
  tensors_.reserve(tensor_count);
  std::vector<uint64_t> offsets;
  offsets.reserve(tensor_count);
  for (uint64_t k = 0; k < tensor_count; ++k) {
    std::string ctx = "tensor #" + std::to_string(k);
    std::string name = c.str(ctx, "tensor name", kMaxTensorNameBytes);
    if (name.empty()) fail(path, ": ", ctx, ": empty tensor name");
    ctx = quoted("tensor", name);
    uint32_t n_dims = c.get<uint32_t>(ctx, "dimension count");
    if (n_dims < 1 || n_dims > 4)
      fail(path, ": ", ctx, ": has ", n_dims, " dimensions, expected 1 to 4");
    TensorView t;
    t.name = name;
    unsigned __int128 n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = c.get<uint64_t>(ctx, "dimension");
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(path, ": ", ctx, ": ne[", d, "] = ", ne, ", expected a positive size");
      n_elements *= ne;
      if (n_elements > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()))
        fail(path, ": ", ctx, ": the element count of shape ", shape_string(t.ne), " × ", ne,
             "... overflows 64 bits");
      t.ne.push_back(static_cast<int64_t>(ne));
    }
    uint32_t type_id = c.get<uint32_t>(ctx, "tensor type");
    std::optional<DType> type = dtype_from_id(type_id);
    if (!type) fail(path, ": ", ctx, ": unknown ggml tensor type id ", type_id);
    t.type = *type;
    const DTypeInfo& info = dtype_info(t.type);
    if (t.ne[0] % info.block != 0)
      fail(path, ": ", ctx, ": ne[0] = ", t.ne[0], " is not a multiple of the ", info.name,
           " block size ", info.block);
    unsigned __int128 nbytes = static_cast<unsigned __int128>(n_elements / info.block) *
                               static_cast<uint64_t>(info.block_bytes);
    if (nbytes > static_cast<unsigned __int128>(std::numeric_limits<uint64_t>::max()))
      fail(path, ": ", ctx, ": shape ", shape_string(t.ne), " of ", info.name,
           " has a byte size that overflows 64 bits");
    t.nbytes = static_cast<uint64_t>(nbytes);
    uint64_t offset = c.get<uint64_t>(ctx, "data offset");
    if (offset % alignment_ != 0)
      fail(path, ": ", ctx, ": data offset ", offset, " is not a multiple of the alignment ",
           alignment_);
    if (!tensor_index_.emplace(name, tensors_.size()).second)
      fail(path, ": ", ctx, ": tensor name appears twice");
    tensors_.push_back(std::move(t));
    offsets.push_back(offset);
  }

  // The data section starts at the first aligned offset after the tensor infos.
  const uint64_t data_start = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  const uint64_t available = data_start <= size ? size - data_start : 0;
  for (size_t k = 0; k < tensors_.size(); ++k) {
    const TensorView& t = tensors_[k];
    if (offsets[k] > available || t.nbytes > available - offsets[k]) {
      std::ostringstream where;
      if (offsets[k] <= std::numeric_limits<uint64_t>::max() - data_start)
        where << "offset " << data_start + offsets[k];
      else
        where << "offset " << offsets[k] << " in the data section at " << data_start;
      fail(path, ": tensor '", t.name, "': data [", where.str(), ", ", t.nbytes,
           " bytes] lies beyond the end of the file (size ", size, ")");
    }
  }
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return offsets[a] < offsets[b]; });
  for (size_t k = 1; k < order.size(); ++k) {
    size_t prev = order[k - 1], cur = order[k];
    if (offsets[prev] + tensors_[prev].nbytes > offsets[cur])
      fail(path, ": tensor '", tensors_[cur].name, "' (data offset ", offsets[cur],
           ") overlaps tensor '", tensors_[prev].name, "' (data offset ", offsets[prev], ", ",
           tensors_[prev].nbytes, " bytes)");
  }
  for (size_t k = 0; k < tensors_.size(); ++k) tensors_[k].data = base + data_start + offsets[k];
}

const std::string& GgufFile::path() const { return map_->path(); }
uint32_t GgufFile::version() const { return version_; }
uint64_t GgufFile::alignment() const { return alignment_; }
uint64_t GgufFile::file_size() const { return map_->size(); }
const std::vector<std::string>& GgufFile::keys() const { return keys_; }

void GgufFile::drop_metadata() {
  std::map<std::string, GgufValue>().swap(kv_);
  std::vector<std::string>().swap(keys_);
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const GgufValue& GgufFile::get(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) fail(path(), ": metadata key '", key, "' is missing");
  return *v;
}

const std::vector<TensorView>& GgufFile::tensors() const { return tensors_; }

const TensorView* GgufFile::tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace ug
