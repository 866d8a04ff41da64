// safetensors: writer → reader round trips (single file and a 3-shard folder with its index) and
// malformed files, each refused with a message naming the file and the tensor.
#include "formats/safetensors.h"

#include <nlohmann/json.hpp>
#include <random>

#include "format_test_util.h"

namespace ug {
namespace {

using test::Bytes;

struct Spec {
  std::string name;
  DType type;
  std::vector<int64_t> ne;  // ggml order
  std::vector<uint8_t> data;
};

std::vector<Spec> make_specs(int seed, int count) {
  std::mt19937 rng(seed);
  const std::vector<std::pair<DType, std::vector<int64_t>>> shapes = {
      {DType::BF16, {6, 4}},       {DType::F32, {5}},    {DType::F16, {3, 2, 7}},
      {DType::BF16, {1, 1, 1, 3}}, {DType::F32, {2, 9}}, {DType::F16, {11}},
  };
  std::vector<Spec> out;
  for (int k = 0; k < count; ++k) {
    Spec s;
    s.name = "model.layers." + std::to_string(seed) + "." + std::to_string(k) + ".weight";
    s.type = shapes[k % shapes.size()].first;
    s.ne = shapes[k % shapes.size()].second;
    int64_t n = 1;
    for (int64_t d : s.ne) n *= d;
    s.data.resize(n * dtype_info(s.type).block_bytes);
    for (auto& b : s.data) b = static_cast<uint8_t>(rng());
    out.push_back(std::move(s));
  }
  return out;
}

void write_file(const std::string& path, const std::vector<Spec>& specs,
                const std::map<std::string, std::string>& metadata = {}) {
  SafetensorsWriter w;
  for (const auto& [k, v] : metadata) w.add_metadata(k, v);
  for (const Spec& s : specs) w.add_tensor_info(s.name, s.type, s.ne);
  w.begin(path);
  for (const Spec& s : specs) {
    const uint64_t third = s.data.size() / 3;  // chunked, as a converter streams rows
    w.write_tensor_data(s.data.data(), third);
    w.write_tensor_data(s.data.data() + third, s.data.size() - third);
  }
  w.finish();
}

void expect_tensor(const TensorView* t, const Spec& s) {
  ASSERT_NE(t, nullptr) << s.name;
  EXPECT_EQ(t->type, s.type) << s.name;
  EXPECT_EQ(t->ne, s.ne) << s.name;
  ASSERT_EQ(t->nbytes, s.data.size()) << s.name;
  EXPECT_EQ(std::memcmp(t->data, s.data.data(), t->nbytes), 0) << s.name;
}

nlohmann::json header_of(const std::string& path) {
  std::vector<uint8_t> b = test::read_bytes(path);
  uint64_t n;
  std::memcpy(&n, b.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u) << "data buffer should start 8-byte aligned";
  return nlohmann::json::parse(b.begin() + 8, b.begin() + 8 + n);
}

TEST(Safetensors, SingleFileRoundTrip) {
  const std::string path = test::temp_path("single.safetensors");
  const auto specs = make_specs(1, 6);
  write_file(path, specs, {{"format", "pt"}, {"note", "x\"y"}});

  // The stored shape is the reverse of ne (row-major, PyTorch order).
  nlohmann::json h = header_of(path);
  EXPECT_EQ(h[specs[2].name]["shape"], nlohmann::json({7, 2, 3}));
  EXPECT_EQ(h[specs[2].name]["dtype"], "F16");
  EXPECT_EQ(h[specs[0].name]["dtype"], "BF16");

  SafetensorsFile f(path);
  EXPECT_EQ(f.path(), path);
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"note", "x\"y"}}));
  ASSERT_EQ(f.tensors().size(), specs.size());
  for (size_t k = 0; k < specs.size(); ++k) {
    EXPECT_EQ(f.tensors()[k].name, specs[k].name) << "file order";
    expect_tensor(f.tensor(specs[k].name), specs[k]);
  }
  EXPECT_EQ(f.tensor("absent"), nullptr);

  // A folder with just model.safetensors is a one-shard set.
  const std::string dir = test::temp_path("single_folder");
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(path, dir + "/model.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  SafetensorsSet set(dir);
  EXPECT_EQ(set.shard_count(), 1u);
  for (const Spec& s : specs) expect_tensor(set.tensor(s.name), s);
}

TEST(Safetensors, ShardedFolderRoundTrip) {
  const std::string dir = test::temp_path("sharded");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::map<std::string, std::string> weight_map;
  std::vector<Spec> all;
  uint64_t total = 0;
  for (int s = 1; s <= 3; ++s) {
    const std::string shard = "model-0000" + std::to_string(s) + "-of-00003.safetensors";
    auto specs = make_specs(10 + s, 3 + s);
    write_file(dir + "/" + shard, specs);
    for (const Spec& t : specs) {
      weight_map[t.name] = shard;
      total += t.data.size();
      all.push_back(t);
    }
  }
  write_safetensors_index(dir, weight_map, total);
  nlohmann::json index =
      nlohmann::json::parse(test::read_bytes(dir + "/model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"], total);
  EXPECT_EQ(index["weight_map"].size(), all.size());

  SafetensorsSet set(dir);
  EXPECT_EQ(set.shard_count(), 3u);
  ASSERT_EQ(set.tensors().size(), all.size());
  for (const Spec& s : all) expect_tensor(set.tensor(s.name), s);
}

TEST(Safetensors, EmptyAndScalarTensors) {
  const std::string path = test::temp_path("odd_shapes.safetensors");
  SafetensorsWriter w;
  w.add_tensor_info("empty", DType::F32, {0, 3});
  w.add_tensor_info("scalar", DType::F32, {});
  w.begin(path);
  const float one = 1.0f;
  w.write_tensor_data(&one, 4);
  w.finish();
  SafetensorsFile f(path);
  ASSERT_NE(f.tensor("empty"), nullptr);
  EXPECT_EQ(f.tensor("empty")->nbytes, 0u);
  ASSERT_NE(f.tensor("scalar"), nullptr);
  EXPECT_TRUE(f.tensor("scalar")->ne.empty());
  EXPECT_EQ(*static_cast<const float*>(f.tensor("scalar")->data), 1.0f);
}

TEST(Safetensors, WriterErrors) {
  const std::string path = test::temp_path("writer_errors.safetensors");
  SafetensorsWriter w;
  EXPECT_ERROR_HAS(w.add_tensor_info("q", DType::Q4_0, {32}), "tensor 'q'", "Q4_0");
  EXPECT_ERROR_HAS(w.add_tensor_info("n", DType::F32, {-1}), "tensor 'n'", "negative");
  w.add_tensor_info("a", DType::F32, {4});
  EXPECT_ERROR_HAS(w.add_tensor_info("a", DType::F32, {4}), "tensor 'a'", "twice");
  w.begin(path);
  EXPECT_ERROR_HAS(w.write_tensor_data("0123456789abcdefg", 17), "tensor 'a'", "16", "17");
  EXPECT_ERROR_HAS(w.finish(), "tensor 'a'", "0 of its 16");
  EXPECT_FALSE(std::filesystem::exists(path));
}

// Hand-made files: 8-byte header length, JSON text, data buffer.
Bytes st_file(const std::string& json, size_t data_bytes) {
  Bytes b;
  b.u64(json.size()).raw(json).zeros(data_bytes);
  return b;
}

std::string st_error(const Bytes& b, const std::string& name) {
  const std::string path = test::temp_path(name + ".safetensors");
  test::write_bytes(path, b.b);
  std::string msg = test::error_of([&] { SafetensorsFile f(path); });
  EXPECT_NE(msg.find(name + ".safetensors"), std::string::npos) << "lacks the file name: " << msg;
  return msg;
}

#define EXPECT_ST_ERROR(bytes, name, ...)                                                     \
  do {                                                                                        \
    std::string m_ = st_error(bytes, name);                                                   \
    for (const std::string f_ : std::initializer_list<std::string>{__VA_ARGS__})              \
      EXPECT_NE(m_.find(f_), std::string::npos) << "\"" << m_ << "\" lacks \"" << f_ << "\""; \
  } while (0)

TEST(SafetensorsHostile, Header) {
  Bytes tiny;
  tiny.u8(1).u8(2).u8(3);
  EXPECT_ST_ERROR(tiny, "tiny", "too short");
  Bytes beyond;
  beyond.u64(1000).raw("{}");
  EXPECT_ST_ERROR(beyond, "header_beyond", "header length 1000", "exceeds the file");
  Bytes huge;
  huge.u64(200'000'000).raw("{}");
  EXPECT_ST_ERROR(huge, "header_huge", "200000000", "limit");
  EXPECT_ST_ERROR(st_file("{\"a\": [1,", 0), "bad_json", "invalid JSON");
  // A value nested 10^5 deep crashed info/run/serve while formatting the error (issue 12).
  std::string deep = "{\"w\": ";
  for (int i = 0; i < 100000; ++i) deep += "[";
  EXPECT_ST_ERROR(st_file(deep, 0), "deep_json", "header", "nested more than 128 levels");
  // A long wrong value is quoted in a few bytes, not in full.
  std::string long_dtype = R"({"w": {"dtype": [)";
  for (int i = 0; i < 100000; ++i) long_dtype += "1,";
  long_dtype += R"(1], "shape": [1], "data_offsets": [0, 4]}})";
  EXPECT_LT(st_error(st_file(long_dtype, 4), "long_dtype").size(), 400u);
  EXPECT_ST_ERROR(st_file("[1, 2]", 0), "not_object", "expected a JSON object");
  EXPECT_ST_ERROR(st_file(R"({"__metadata__": {"k": 1}})", 0), "meta_value", "__metadata__", "'k'");
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                  "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                          8),
                  "dup_name", "'w'", "twice");
}

TEST(SafetensorsHostile, Tensors) {
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})", 8),
                  "dtype", "tensor 'w'", "I64");
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 4),
                  "outside", "tensor 'w'", "[0, 8]", "4 bytes");
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8),
                  "size_mismatch", "tensor 'w'", "12");
  EXPECT_ST_ERROR(
      st_file(R"({"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 8]}})", 8),
      "negative", "tensor 'w'", "-1");
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}})", 8),
                  "float_dim", "tensor 'w'", "2.5");
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296],
                          "data_offsets": [0, 8]}})",
                          8),
                  "too_many", "tensor 'w'", "too many elements");
  std::string ones = "1";  // 40000 dimensions of 1
  for (int k = 1; k < 40000; ++k) ones += ",1";
  EXPECT_ST_ERROR(
      st_file(R"({"w": {"dtype": "F32", "data_offsets": [0, 4], "shape": [)" + ones + "]}}", 4),
      "rank", "tensor 'w'", "40000 dimensions", "16");
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8),
                  "reversed", "tensor 'w'", "[8, 4]");
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", 8),
                  "neg_offset", "tensor 'w'", "-4");
  EXPECT_ST_ERROR(st_file(R"({"w": {"dtype": "F32", "shape": [1]}})", 8), "missing_field",
                  "tensor 'w'", "data_offsets");
  EXPECT_ST_ERROR(st_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                          12),
                  "overlap", "'b'", "overlaps", "'a'");
}

// A folder with two shards and an index, optionally damaged.
std::string sharded_folder(const std::string& name) {
  const std::string dir = test::temp_path(name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_file(dir + "/s1.safetensors", make_specs(21, 2));
  write_file(dir + "/s2.safetensors", make_specs(22, 2));
  return dir;
}

std::map<std::string, std::string> good_map() {
  std::map<std::string, std::string> m;
  for (const Spec& s : make_specs(21, 2)) m[s.name] = "s1.safetensors";
  for (const Spec& s : make_specs(22, 2)) m[s.name] = "s2.safetensors";
  return m;
}

TEST(SafetensorsHostile, ShardedIndex) {
  {
    const std::string dir = sharded_folder("set_ok");
    write_safetensors_index(dir, good_map(), 0);
    EXPECT_EQ(SafetensorsSet(dir).tensors().size(), 4u);
  }
  {
    const std::string dir = sharded_folder("set_missing_shard");
    auto m = good_map();
    m["extra.weight"] = "s3.safetensors";
    write_safetensors_index(dir, m, 0);
    EXPECT_ERROR_HAS(SafetensorsSet s(dir), "model.safetensors.index.json", "'extra.weight'",
                     "s3.safetensors", "missing");
  }
  {
    const std::string dir = sharded_folder("set_absent_tensor");
    auto m = good_map();
    m["ghost.weight"] = "s1.safetensors";
    write_safetensors_index(dir, m, 0);
    EXPECT_ERROR_HAS(SafetensorsSet s(dir), "'ghost.weight'", "s1.safetensors");
  }
  {
    const std::string dir = sharded_folder("set_wrong_shard");
    auto m = good_map();
    const std::string moved = make_specs(21, 1)[0].name;
    m[moved] = "s2.safetensors";
    write_safetensors_index(dir, m, 0);
    EXPECT_ERROR_HAS(SafetensorsSet s(dir), moved.c_str(), "s1.safetensors", "s2.safetensors");
  }
  {
    const std::string dir = sharded_folder("set_unlisted");
    auto m = good_map();
    const std::string dropped = make_specs(22, 2)[1].name;
    m.erase(dropped);
    write_safetensors_index(dir, m, 0);
    EXPECT_ERROR_HAS(SafetensorsSet s(dir), dropped.c_str(), "not listed");
  }
  {
    const std::string dir = sharded_folder("set_escape");
    write_safetensors_index(dir, {{"w", "../s1.safetensors"}}, 0);
    EXPECT_ERROR_HAS(SafetensorsSet s(dir), "'w'", "../s1.safetensors");
  }
  {
    const std::string dir = sharded_folder("set_bad_json");
    test::write_bytes(dir + "/model.safetensors.index.json", "{\"weight_map\": ", 15);
    EXPECT_ERROR_HAS(SafetensorsSet s(dir), "model.safetensors.index.json", "invalid JSON");
  }
  {
    const std::string dir = test::temp_path("set_empty_folder");
    std::filesystem::create_directories(dir);
    EXPECT_ERROR_HAS(SafetensorsSet s(dir), "set_empty_folder", "model.safetensors");
  }
}

}  // namespace
}  // namespace ug
