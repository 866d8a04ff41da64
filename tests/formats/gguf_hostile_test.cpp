// Malformed and hostile GGUF files: each must give a ug::Error naming the file and what is wrong,
// never a crash, a hang or a huge allocation.
#include "format_test_util.h"
#include "formats/gguf.h"
#include "shared_fixtures.h"

namespace ug {
namespace {

using test::Bytes;
using test::fixture_path;

constexpr uint32_t kMagic = 0x46554747;
constexpr uint32_t kF32 = 0, kQ4_0 = 2;

Bytes header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  Bytes b;
  b.u32(kMagic).u32(version).u64(n_tensors).u64(n_kv);
  return b;
}

void tensor_info(Bytes& b, const std::string& name, const std::vector<uint64_t>& ne, uint32_t type,
                 uint64_t offset) {
  b.str(name).u32(static_cast<uint32_t>(ne.size()));
  for (uint64_t d : ne) b.u64(d);
  b.u32(type).u64(offset);
}

// Writes the bytes as <name>.gguf, opens it, and returns the error (failing if none).
std::string open_error(const Bytes& b, const std::string& name) {
  const std::string path = test::temp_path(name + ".gguf");
  test::write_bytes(path, b.b);
  std::string msg = test::error_of([&] { GgufFile f(path); });
  EXPECT_NE(msg.find(name + ".gguf"), std::string::npos) << "message lacks the file name: " << msg;
  std::remove(path.c_str());
  return msg;
}

#define EXPECT_GGUF_ERROR(bytes, name, ...)                                                   \
  do {                                                                                        \
    std::string m_ = open_error(bytes, name);                                                 \
    for (const std::string f_ : std::initializer_list<std::string>{__VA_ARGS__})              \
      EXPECT_NE(m_.find(f_), std::string::npos) << "\"" << m_ << "\" lacks \"" << f_ << "\""; \
  } while (0)

// A valid file with one F32 tensor of `floats` elements, for corrupting one field at a time.
Bytes one_tensor_file(const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset,
                      uint64_t data_bytes) {
  Bytes b = header(1, 0);
  tensor_info(b, "w", ne, type, offset);
  b.pad(32).zeros(data_bytes);
  return b;
}

TEST(GgufHostile, ValidBaselineLoads) {
  Bytes b = one_tensor_file({4, 2}, kF32, 0, 32);
  const std::string path = test::temp_path("baseline.gguf");
  test::write_bytes(path, b.b);
  GgufFile f(path);
  ASSERT_EQ(f.tensors().size(), 1u);
  EXPECT_EQ(f.tensors()[0].nbytes, 32u);
}

TEST(GgufHostile, HeaderFields) {
  EXPECT_GGUF_ERROR(Bytes{}, "empty", "not a GGUF file", "0 bytes");
  Bytes magic = header(0, 0);
  magic.b[3] = 'X';
  EXPECT_GGUF_ERROR(magic, "bad_magic", "not a GGUF file", "47 47 55 58");
  EXPECT_GGUF_ERROR(header(0, 0, 1), "version1", "version 1", "expected 3");
  EXPECT_GGUF_ERROR(header(0, 0, 0x03000000), "big_endian", "big-endian");
  EXPECT_GGUF_ERROR(header(uint64_t{1} << 60, 0), "tensor_count", "tensor count",
                    "1152921504606846976");
  EXPECT_GGUF_ERROR(header(0, ~uint64_t{0}), "kv_count", "metadata key count",
                    "18446744073709551615");
  Bytes short_header;
  short_header.u32(kMagic).u32(3).u32(0);
  EXPECT_GGUF_ERROR(short_header, "short_header", "tensor count", "truncated");
}

TEST(GgufHostile, MetadataValues) {
  Bytes key_len = header(0, 1);
  key_len.u64(uint64_t{1} << 62).raw("abc").zeros(16);
  EXPECT_GGUF_ERROR(key_len, "key_length", "metadata key #0", "4611686018427387904");

  Bytes str_len = header(0, 1);
  str_len.str("my.key").u32(8).u64(uint64_t{1} << 62).raw("abcdefgh");
  EXPECT_GGUF_ERROR(str_len, "string_length", "key 'my.key'", "4611686018427387904");

  Bytes arr = header(0, 1);
  arr.str("my.array").u32(9).u32(4).u64(uint64_t{1} << 61).zeros(64);
  EXPECT_GGUF_ERROR(arr, "array_count", "key 'my.array'", "2305843009213693952");

  Bytes str_arr = header(0, 1);  // 2^40 strings cannot fit 8 bytes each in what is left
  str_arr.str("strs").u32(9).u32(8).u64(uint64_t{1} << 40).zeros(64);
  EXPECT_GGUF_ERROR(str_arr, "string_array_count", "key 'strs'", "1099511627776");

  Bytes nested = header(0, 1);  // [[<2^50 u8>]]
  nested.str("nest").u32(9).u32(9).u64(1).u32(0).u64(uint64_t{1} << 50).zeros(16);
  EXPECT_GGUF_ERROR(nested, "nested_count", "key 'nest'", "1125899906842624");

  Bytes deep = header(0, 1);  // 10000 arrays inside each other would overflow a naive recursion
  deep.str("deep").u32(9);
  for (int k = 0; k < 10000; ++k) deep.u32(9).u64(1);
  deep.u32(0).u64(0);
  EXPECT_GGUF_ERROR(deep, "deep_nesting", "key 'deep'", "nested");

  // 2^24 + 1 one-byte values fit the file but would need ~1.6 GB as GgufValues.
  Bytes many = header(0, 1);
  many.str("many").u32(9).u32(0).u64((uint64_t{1} << 24) + 1).zeros((size_t{1} << 24) + 1);
  EXPECT_GGUF_ERROR(many, "too_many_values", "key 'many'", "16777217", "16777216");

  Bytes bad_type = header(0, 1);
  bad_type.str("k").u32(13).u32(0);
  EXPECT_GGUF_ERROR(bad_type, "value_type", "key 'k'", "unknown value type 13");

  Bytes bad_elem = header(0, 1);
  bad_elem.str("k").u32(9).u32(77).u64(1).u32(0);
  EXPECT_GGUF_ERROR(bad_elem, "elem_type", "key 'k'", "77");

  Bytes dup = header(0, 2);
  dup.str("k").u32(4).u32(1).str("k").u32(4).u32(2);
  EXPECT_GGUF_ERROR(dup, "dup_key", "key 'k'", "twice");

  Bytes cut_value = header(0, 1);
  cut_value.str("k").u32(10).u32(1);  // u64 value with only 4 bytes left
  EXPECT_GGUF_ERROR(cut_value, "cut_value", "key 'k'", "u64 value", "truncated");
}

TEST(GgufHostile, Alignment) {
  for (uint32_t a : {0u, 3u, 48u}) {
    Bytes b = header(0, 1);
    b.str("general.alignment").u32(4).u32(a);
    EXPECT_GGUF_ERROR(b, "alignment" + std::to_string(a), "general.alignment", "power of two",
                      std::to_string(a).c_str());
  }
  Bytes wrong_type = header(0, 1);
  wrong_type.str("general.alignment").u32(10).u64(32);
  EXPECT_GGUF_ERROR(wrong_type, "alignment_type", "general.alignment", "u32", "u64");
}

TEST(GgufHostile, TensorShapesAndTypes) {
  EXPECT_GGUF_ERROR(one_tensor_file({}, kF32, 0, 32), "ndims0", "tensor 'w'", "0 dimensions");
  EXPECT_GGUF_ERROR(one_tensor_file({1, 1, 1, 1, 1, 1, 1}, kF32, 0, 32), "ndims7", "tensor 'w'",
                    "7 dimensions");
  EXPECT_GGUF_ERROR(one_tensor_file({4, 0}, kF32, 0, 32), "ne_zero", "tensor 'w'", "ne[1] = 0");
  EXPECT_GGUF_ERROR(one_tensor_file({uint64_t{1} << 32, uint64_t{1} << 32}, kF32, 0, 32),
                    "ne_overflow", "tensor 'w'", "overflows");
  EXPECT_GGUF_ERROR(one_tensor_file({uint64_t{1} << 63}, kF32, 0, 32), "ne_huge", "tensor 'w'",
                    "ne[0] = 9223372036854775808");
  // 2^61 F32 elements: the count fits, the byte size does not fit the file (nor 2^63).
  EXPECT_GGUF_ERROR(one_tensor_file({uint64_t{1} << 61}, kF32, 0, 32), "bytes_huge", "tensor 'w'",
                    "beyond the end of the file");
  EXPECT_GGUF_ERROR(one_tensor_file({32}, 99, 0, 32), "type99", "tensor 'w'", "type id 99");
  EXPECT_GGUF_ERROR(one_tensor_file({48}, kQ4_0, 0, 64), "block", "tensor 'w'", "ne[0] = 48",
                    "Q4_0", "32");

  Bytes empty_name = header(1, 0);
  tensor_info(empty_name, "", {8}, kF32, 0);
  empty_name.pad(32).zeros(32);
  EXPECT_GGUF_ERROR(empty_name, "empty_name", "tensor #0", "empty tensor name");

  Bytes long_name = header(1, 0);
  long_name.str(std::string(70000, 'n')).u32(1).u64(4).u32(0).u64(0);
  long_name.pad(32).zeros(32);
  EXPECT_GGUF_ERROR(long_name, "long_name", "tensor #0", "70000", "65536");
}

TEST(GgufHostile, TensorExtents) {
  EXPECT_GGUF_ERROR(one_tensor_file({8}, kF32, 16, 64), "unaligned", "tensor 'w'", "data offset 16",
                    "alignment 32");
  EXPECT_GGUF_ERROR(one_tensor_file({8}, kF32, 64, 64), "beyond", "tensor 'w'",
                    "data [offset 128, 32 bytes] lies beyond the end of the file (size 128)");
  EXPECT_GGUF_ERROR(one_tensor_file({8}, kF32, ~uint64_t{31}, 64), "offset_wrap", "tensor 'w'",
                    "beyond the end of the file");
  EXPECT_GGUF_ERROR(one_tensor_file({16}, kF32, 0, 32), "short_data", "tensor 'w'",
                    "64 bytes] lies beyond");

  Bytes overlap = header(2, 0);
  tensor_info(overlap, "first", {16}, kF32, 0);   // bytes [0, 64)
  tensor_info(overlap, "second", {8}, kF32, 32);  // bytes [32, 64)
  overlap.pad(32).zeros(64);
  EXPECT_GGUF_ERROR(overlap, "overlap", "'second'", "overlaps", "'first'");

  Bytes dup = header(2, 0);
  tensor_info(dup, "same", {8}, kF32, 0);
  tensor_info(dup, "same", {8}, kF32, 32);
  dup.pad(32).zeros(64);
  EXPECT_GGUF_ERROR(dup, "dup_tensor", "tensor 'same'", "twice");
}

// Every prefix of a file that ends exactly at its last tensor's data must be refused.
void expect_every_cut_fails(const std::string& source, const std::vector<uint64_t>& cuts,
                            const std::string& name) {
  MappedFile full(source);
  const std::string path = test::temp_path(name);
  int failures = 0;
  for (uint64_t cut : cuts) {
    ASSERT_LT(cut, full.size());
    test::write_bytes(path, full.data(), cut);
    try {
      GgufFile f(path);
      ADD_FAILURE() << name << " cut at " << cut << " loaded";
    } catch (const Error& e) {
      if (std::string(e.what()).find(name) == std::string::npos && failures++ < 5)
        ADD_FAILURE() << "cut at " << cut << ": message lacks the file name: " << e.what();
    }
  }
  std::remove(path.c_str());
}

TEST(GgufHostile, TruncatedSmallFileAtEveryOffset) {
  const std::string source = test::temp_path("small_source.gguf");
  {
    GgufWriter w;
    w.add_kv("general.architecture", GgufValue::make_string("test"));
    w.add_kv("a.u32", GgufValue::make_u32(5));
    w.add_kv("a.strings", GgufValue::make_array(GgufType::STRING, {GgufValue::make_string("x"),
                                                                   GgufValue::make_string("yz")}));
    w.add_kv("a.nested", GgufValue::make_array(
                             GgufType::ARRAY,
                             {GgufValue::make_array(GgufType::F32, {GgufValue::make_f32(1)})}));
    std::vector<uint8_t> q(18 * 2, 1), f(32, 2);
    w.add_tensor("q", DType::Q4_0, {64}, q.data());
    w.add_tensor("f", DType::F32, {8}, f.data());  // 32 bytes: the file ends with its data
    w.write(source);
  }
  const uint64_t size = MappedFile(source).size();
  std::vector<uint64_t> cuts(size);
  for (uint64_t k = 0; k < size; ++k) cuts[k] = k;
  expect_every_cut_fails(source, cuts, "small_cut.gguf");
}

TEST(GgufHostile, TruncatedMmprojFixture) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  const std::string source = fixture_path("gemma4-fixture-mmproj-f16-s4242.gguf");
  const uint64_t size = MappedFile(source).size();
  std::vector<uint64_t> cuts;
  for (uint64_t k = 0; k < 1800; ++k) cuts.push_back(k);  // the whole header (1745 bytes)
  for (uint64_t k = 1800; k < size; k += 65537) cuts.push_back(k);
  cuts.push_back(size - 1);
  expect_every_cut_fails(source, cuts, "mmproj_cut.gguf");
}

TEST(GgufHostile, TruncatedTextFixture) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  const std::string source = fixture_path("gemma4-fixture-f16-s4242.gguf");
  const uint64_t size = MappedFile(source).size();
  // Inside the token list, the merges, the tensor infos, and the tensor data.
  // gguf-py pads the last tensor (4 bytes) to 32: cutting into that padding leaves a usable file,
  // cutting one byte of its data does not.
  const uint64_t last_bytes = GgufFile(source).tensors().back().nbytes;
  const uint64_t data_end = size - (last_bytes + 31) / 32 * 32 + last_bytes;
  std::vector<uint64_t> cuts = {100, 1000003, 15000000, 15785000, size / 2, data_end - 1};
  expect_every_cut_fails(source, cuts, "text_cut.gguf");
  const std::string padded_cut = test::temp_path("text_padding_cut.gguf");
  {
    MappedFile full(source);
    test::write_bytes(padded_cut, full.data(), data_end);
  }
  EXPECT_EQ(GgufFile(padded_cut).tensors().size(), 86u);
  std::remove(padded_cut.c_str());
}

}  // namespace
}  // namespace ug
