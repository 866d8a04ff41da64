// GgufWriter → GgufFile round trips: every value type, nested and string arrays, many tensor
// types, default and custom alignment; plus the writer's own protocol errors.
#include <cstring>
#include <random>

#include "format_test_util.h"
#include "formats/gguf.h"

namespace ug {
namespace {

using test::same_value;

GgufValue scalar(GgufType t, uint64_t u, int64_t i = 0, double f = 0) {
  GgufValue v;
  v.type = t;
  v.u = u;
  v.i = i;
  v.f = f;
  return v;
}

std::vector<std::pair<std::string, GgufValue>> all_value_kinds() {
  std::vector<std::pair<std::string, GgufValue>> kv;
  kv.emplace_back("t.u8", scalar(GgufType::U8, 255));
  kv.emplace_back("t.i8", scalar(GgufType::I8, 0, -128));
  kv.emplace_back("t.u16", scalar(GgufType::U16, 65535));
  kv.emplace_back("t.i16", scalar(GgufType::I16, 0, -32768));
  kv.emplace_back("t.u32", GgufValue::make_u32(4000000000u));
  kv.emplace_back("t.i32", GgufValue::make_i32(-2000000000));
  kv.emplace_back("t.f32", GgufValue::make_f32(-1.5e-7f));
  kv.emplace_back("t.bool", GgufValue::make_bool(true));
  kv.emplace_back("t.string", GgufValue::make_string(std::string("h\xc3\xa9llo\n\0x", 9)));
  kv.emplace_back("t.empty_string", GgufValue::make_string(""));
  kv.emplace_back("t.u64", GgufValue::make_u64(0xfedcba9876543210ull));
  kv.emplace_back("t.i64", scalar(GgufType::I64, 0, INT64_MIN + 1));
  kv.emplace_back("t.f64", scalar(GgufType::F64, 0, 0, 3.141592653589793));
  std::vector<GgufValue> strings;
  for (int k = 0; k < 50; ++k)
    strings.push_back(GgufValue::make_string(std::string(k, 'a' + k % 26)));
  kv.emplace_back("t.strings", GgufValue::make_array(GgufType::STRING, strings));
  std::vector<GgufValue> floats, bools, i8s;
  for (int k = 0; k < 17; ++k) {
    floats.push_back(GgufValue::make_f32(k * 0.25f - 2));
    bools.push_back(GgufValue::make_bool(k % 3 == 0));
    i8s.push_back(scalar(GgufType::I8, 0, -k));
  }
  kv.emplace_back("t.floats", GgufValue::make_array(GgufType::F32, floats));
  kv.emplace_back("t.bools", GgufValue::make_array(GgufType::BOOL, bools));
  kv.emplace_back("t.i8s", GgufValue::make_array(GgufType::I8, i8s));
  kv.emplace_back("t.empty_array", GgufValue::make_array(GgufType::U16, {}));
  // [[ "a", "bb" ], [], [ "ccc" ]] and [[[1, 2]], [[3]]]
  kv.emplace_back("t.nested_strings",
                  GgufValue::make_array(
                      GgufType::ARRAY,
                      {GgufValue::make_array(GgufType::STRING, {GgufValue::make_string("a"),
                                                                GgufValue::make_string("bb")}),
                       GgufValue::make_array(GgufType::STRING, {}),
                       GgufValue::make_array(GgufType::STRING, {GgufValue::make_string("ccc")})}));
  kv.emplace_back(
      "t.nested3",
      GgufValue::make_array(
          GgufType::ARRAY,
          {GgufValue::make_array(GgufType::ARRAY,
                                 {GgufValue::make_array(GgufType::U64, {GgufValue::make_u64(1),
                                                                        GgufValue::make_u64(2)})}),
           GgufValue::make_array(GgufType::ARRAY, {GgufValue::make_array(
                                                      GgufType::U64, {GgufValue::make_u64(3)})})}));
  return kv;
}

struct TensorSpec {
  std::string name;
  DType type;
  std::vector<int64_t> ne;
  std::vector<uint8_t> data;
};

std::vector<TensorSpec> many_tensors() {
  std::mt19937 rng(7);
  const std::vector<std::pair<DType, std::vector<int64_t>>> specs = {
      {DType::F32, {3}},
      {DType::F16, {5, 3}},
      {DType::BF16, {2, 3, 4}},
      {DType::Q8_0, {64, 3}},
      {DType::Q4_0, {32, 2, 1, 3}},
      {DType::Q4_1, {96}},
      {DType::Q5_0, {32, 5}},
      {DType::Q5_1, {32, 1}},
      {DType::Q4_K, {256, 2}},
      {DType::Q5_K, {512}},
      {DType::Q6_K, {256, 3}},
      {DType::Q2_K, {256}},
      {DType::Q3_K, {256, 1, 2}},
      {DType::F32, {1}},
  };
  std::vector<TensorSpec> out;
  for (size_t k = 0; k < specs.size(); ++k) {
    TensorSpec t;
    t.name = "tensor." + std::to_string(k) + "." + dtype_name(specs[k].first);
    t.type = specs[k].first;
    t.ne = specs[k].second;
    int64_t rows = 1;
    for (size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
    t.data.resize(row_bytes(t.type, t.ne[0]) * rows);
    for (auto& b : t.data) b = static_cast<uint8_t>(rng());
    out.push_back(std::move(t));
  }
  return out;
}

void check_round_trip(uint32_t alignment, bool streaming) {
  const auto kv = all_value_kinds();
  const auto tensors = many_tensors();
  const std::string path = test::temp_path("roundtrip_" + std::to_string(alignment) + ".gguf");
  {
    GgufWriter w;
    if (alignment) w.add_kv("general.alignment", GgufValue::make_u32(alignment));
    for (const auto& [k, v] : kv) w.add_kv(k, v);
    if (streaming) {
      for (const auto& t : tensors) w.add_tensor_info(t.name, t.type, t.ne);
      w.begin(path);
      for (const auto& t : tensors) w.write_tensor_data(t.data.data(), t.data.size());
      w.finish();
    } else {
      for (const auto& t : tensors) w.add_tensor(t.name, t.type, t.ne, t.data.data());
      w.write(path);
    }
  }
  GgufFile f(path);
  const uint64_t expected_alignment = alignment ? alignment : 32;
  EXPECT_EQ(f.alignment(), expected_alignment);
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.keys().size(), kv.size() + (alignment ? 1 : 0));
  for (size_t k = 0; k < kv.size(); ++k) {
    EXPECT_EQ(f.keys()[k + (alignment ? 1 : 0)], kv[k].first);
    const GgufValue* v = f.find(kv[k].first);
    ASSERT_NE(v, nullptr) << kv[k].first;
    EXPECT_TRUE(same_value(*v, kv[k].second)) << kv[k].first;
  }
  ASSERT_EQ(f.tensors().size(), tensors.size());
  const uint8_t* first = static_cast<const uint8_t*>(f.tensors()[0].data);
  for (size_t k = 0; k < tensors.size(); ++k) {
    const TensorView& t = f.tensors()[k];
    EXPECT_EQ(t.name, tensors[k].name);
    EXPECT_EQ(t.type, tensors[k].type) << t.name;
    EXPECT_EQ(t.ne, tensors[k].ne) << t.name;
    ASSERT_EQ(t.nbytes, tensors[k].data.size()) << t.name;
    EXPECT_EQ(std::memcmp(t.data, tensors[k].data.data(), t.nbytes), 0) << t.name;
    EXPECT_EQ((static_cast<const uint8_t*>(t.data) - first) % expected_alignment, 0u) << t.name;
    EXPECT_EQ(f.tensor(t.name), &t);
  }
  EXPECT_EQ(f.file_size() % expected_alignment, 0u);
  std::remove(path.c_str());
}

TEST(GgufRoundTrip, DefaultAlignment) { check_round_trip(0, true); }
TEST(GgufRoundTrip, Alignment64InMemory) { check_round_trip(64, false); }
TEST(GgufRoundTrip, Alignment1) { check_round_trip(1, true); }
TEST(GgufRoundTrip, Alignment4096) { check_round_trip(4096, false); }

TEST(GgufRoundTrip, DuplicateKeyReplacesInPlace) {
  const std::string path = test::temp_path("dup.gguf");
  GgufWriter w;
  w.add_kv("a", GgufValue::make_u32(1));
  w.add_kv("b", GgufValue::make_u32(2));
  w.add_kv("a", GgufValue::make_string("x"));
  w.write(path);
  GgufFile f(path);
  EXPECT_EQ(f.keys(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.get("a").as_string(), "x");
  EXPECT_TRUE(f.tensors().empty());
  std::remove(path.c_str());
}

// A file kept open for its tensors can free its parsed metadata; the tensors' data stays mapped.
TEST(GgufRoundTrip, DroppedMetadataKeepsTheTensors) {
  const std::string path = test::temp_path("drop.gguf");
  const std::vector<float> data = {1.f, 2.f, 3.f, 4.f};
  GgufWriter w;
  w.add_kv("tokens", GgufValue::make_array(GgufType::STRING, {GgufValue::make_string("x")}));
  w.add_tensor_info("t", DType::F32, {4});
  w.begin(path);
  w.write_tensor_data(data.data(), data.size() * 4);
  w.finish();
  GgufFile f(path);
  ASSERT_NE(f.find("tokens"), nullptr);
  f.drop_metadata();
  EXPECT_EQ(f.find("tokens"), nullptr);
  EXPECT_TRUE(f.keys().empty());
  ASSERT_NE(f.tensor("t"), nullptr);
  EXPECT_EQ(std::memcmp(f.tensor("t")->data, data.data(), 16), 0);
  std::remove(path.c_str());
}

TEST(GgufWriterErrors, ProtocolAndSizes) {
  const std::string path = test::temp_path("writer_errors.gguf");
  const std::vector<uint8_t> data(64 * 4);
  {
    GgufWriter w;
    w.add_tensor_info("a", DType::F32, {64});
    w.add_tensor_info("b", DType::F32, {64});
    w.begin(path);
    EXPECT_ERROR_HAS(w.write_tensor_data(data.data(), 257), "tensor 'a'", "256", "257");
    w.write_tensor_data(data.data(), 256);
    w.write_tensor_data(data.data(), 100);
    EXPECT_ERROR_HAS(w.finish(), "tensor 'b'", "100", "256", path.c_str());
    EXPECT_FALSE(std::filesystem::exists(path)) << "an incomplete file must be removed";
  }
  {
    GgufWriter w;
    w.add_tensor_info("a", DType::F32, {64});
    w.begin(path);
    w.write_tensor_data(data.data(), 256);
    EXPECT_ERROR_HAS(w.write_tensor_data(data.data(), 1), "already written");
    w.finish();
    EXPECT_TRUE(std::filesystem::exists(path));
  }
  {
    GgufWriter w;
    w.add_tensor_info("a", DType::F32, {64});
    w.begin(path);
  }  // destroyed unfinished
  EXPECT_FALSE(std::filesystem::exists(path));

  GgufWriter w;
  EXPECT_ERROR_HAS(w.add_tensor_info("q", DType::Q4_0, {33}), "tensor 'q'", "Q4_0", "33");
  EXPECT_ERROR_HAS(w.add_tensor_info("z", DType::F32, {4, 0}), "tensor 'z'");
  EXPECT_ERROR_HAS(w.add_tensor_info("d", DType::F32, {1, 1, 1, 1, 1}), "tensor 'd'", "5");
  w.add_tensor_info("a", DType::F32, {2});
  EXPECT_ERROR_HAS(w.add_tensor_info("a", DType::F32, {2}), "tensor 'a'", "twice");
  EXPECT_ERROR_HAS(w.write(path), "tensor 'a'", "without data");
  GgufWriter bad_align;
  bad_align.add_kv("general.alignment", GgufValue::make_u32(48));
  EXPECT_ERROR_HAS(bad_align.begin(path), "general.alignment", "48");
  GgufWriter bad_array;
  bad_array.add_kv("mixed", GgufValue::make_array(GgufType::U32, {GgufValue::make_i32(1)}));
  EXPECT_ERROR_HAS(bad_array.begin(path), "mixed", "i32", "u32");
  GgufWriter bad_range;
  bad_range.add_kv("small", scalar(GgufType::U8, 256));
  EXPECT_ERROR_HAS(bad_range.begin(path), "small", "256");
  std::remove(path.c_str());
}

TEST(GgufValue, Conversions) {
  EXPECT_EQ(GgufValue::make_u32(7).as_int(), 7);
  EXPECT_EQ(GgufValue::make_i32(-7).as_int(), -7);
  EXPECT_EQ(GgufValue::make_u32(7).as_float(), 7.0);
  EXPECT_EQ(GgufValue::make_f32(0.5f).as_float(), 0.5);
  EXPECT_TRUE(GgufValue::make_u32(1).is_integer());
  EXPECT_FALSE(GgufValue::make_f32(1).is_integer());
  EXPECT_TRUE(GgufValue::make_f32(1).is_float());
  EXPECT_FALSE(GgufValue::make_bool(true).is_integer());
  EXPECT_ERROR_HAS(GgufValue::make_u64(~0ull).as_int("big.key"), "big.key", "18446744073709551615");
  EXPECT_ERROR_HAS(GgufValue::make_f32(1).as_int("f.key"), "f.key", "f32");
  EXPECT_ERROR_HAS(GgufValue::make_string("x").as_float("s.key"), "s.key", "string");
  EXPECT_ERROR_HAS(GgufValue::make_u32(1).as_bool("b.key"), "b.key", "u32");
  EXPECT_ERROR_HAS(GgufValue::make_bool(true).as_string("t.key"), "t.key", "bool");
  EXPECT_STREQ(gguf_type_name(GgufType::ARRAY), "array");
}

}  // namespace
}  // namespace ug
