// Proves the decoders against an independent numpy implementation (tests/reference/quants_ref.py)
// and the quantizers against bytes written by llama.cpp's gguf-py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "quant_test_util.h"
#include "shared_fixtures.h"
#include "tensor/quant.h"

namespace ug {
namespace {

using namespace testing_util;

TEST(QuantReference, DequantizeMatchesNumpyBitForBit) {
  const auto dir = scratch_dir("deq");
  std::mt19937 rng(1234);
  for (DType t : all_decodable_types()) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t n = 256 * 37;  // 37 K-blocks, 296 small blocks
    const std::vector<uint8_t> blocks = random_blocks(t, n, rng);
    std::vector<float> mine(static_cast<size_t>(n));
    dequantize_row(t, blocks.data(), mine.data(), n);

    const auto in = dir / (std::string(dtype_name(t)) + ".bin");
    const auto out = dir / (std::string(dtype_name(t)) + ".f32");
    write_file(in, blocks.data(), blocks.size());
    ASSERT_EQ(run_reference(std::string("dequant ") + dtype_name(t) + " " + in.string() + " " +
                            out.string()),
              0);
    const std::vector<uint8_t> ref = read_file(out);
    ASSERT_EQ(ref.size(), mine.size() * 4);
    int64_t mismatches = 0, first = -1;
    for (int64_t i = 0; i < n; ++i) {
      if (std::memcmp(&ref[static_cast<size_t>(i) * 4], &mine[static_cast<size_t>(i)], 4) != 0) {
        if (first < 0) first = i;
        ++mismatches;
      }
    }
    float ref_first = 0;
    if (first >= 0) std::memcpy(&ref_first, &ref[static_cast<size_t>(first) * 4], 4);
    EXPECT_EQ(mismatches, 0) << "first at element " << first << ": ours "
                             << (first >= 0 ? mine[static_cast<size_t>(first)] : 0.f) << ", numpy "
                             << ref_first;
    // Random blocks must exercise non-trivial values, or the comparison proves nothing.
    int64_t nonzero = 0;
    for (float v : mine) nonzero += v != 0.f;
    EXPECT_GT(nonzero, n / 2);
  }
  std::filesystem::remove_all(dir);
}

struct FixtureTensor {
  std::string name;
  DType type;
  int64_t ne0, rows;
  std::vector<uint8_t> bytes;
};

std::vector<FixtureTensor> extract_fixture_tensors(const std::filesystem::path& dir) {
  const std::string gguf = std::string(UG_SHARED_DIR) + "/fixtures/gemma4-fixture-f16-s4242.gguf";
  if (run_reference("gguf-extract " + gguf + " " + dir.string() + " Q8_0 Q4_0 --max 4") != 0)
    return {};
  std::vector<FixtureTensor> out;
  std::ifstream index(dir / "index.txt");
  std::string line;
  while (std::getline(index, line)) {
    std::istringstream s(line);
    std::string i, name, type;
    int64_t ne0, rows;
    s >> i >> name >> type >> ne0 >> rows;
    out.push_back({name, *dtype_from_name(type), ne0, rows, read_file(dir / (i + ".bin"))});
  }
  return out;
}

// Whether a round-to-nearest quantizer can have written this block: its extreme level is used
// (Q8_0 |q| = 127; Q4_0 nibble 0, i.e. −8·d), or it is all zero. The fixture's Q8_0/Q4_0 bytes
// are random blocks (d is always positive, nibbles uniform), so only these blocks can be
// reproduced exactly; for the others the test checks that one re-quantization is a fixed point.
bool rtn_reachable(DType t, const uint8_t* block) {
  uint16_t h;
  std::memcpy(&h, block, 2);
  const bool zero_scale = (h & 0x7fff) == 0;
  bool extreme = false, all_zero_level = true;
  if (t == DType::Q8_0) {
    for (int j = 0; j < 32; ++j) {
      const int q = static_cast<int8_t>(block[2 + j]);
      extreme |= q == 127 || q == -127;
      all_zero_level &= q == 0;
    }
  } else {
    for (int j = 0; j < 16; ++j) {
      for (int nib : {block[2 + j] & 0x0F, block[2 + j] >> 4}) {
        extreme |= nib == 0;
        all_zero_level &= nib == 8;
      }
    }
  }
  return zero_scale ? all_zero_level : extreme;
}

TEST(QuantReference, RequantizingFixtureBlocksReproducesTheirBytes) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  const auto dir = scratch_dir("fixture");
  const std::vector<FixtureTensor> tensors = extract_fixture_tensors(dir);
  int q8 = 0, q4 = 0;
  for (const FixtureTensor& t : tensors) {
    SCOPED_TRACE(t.name);
    q8 += t.type == DType::Q8_0;
    q4 += t.type == DType::Q4_0;
    const int64_t block_bytes = dtype_info(t.type).block_bytes;
    const uint64_t rb = row_bytes(t.type, t.ne0);
    ASSERT_EQ(t.bytes.size(), rb * static_cast<uint64_t>(t.rows));
    std::vector<float> values(static_cast<size_t>(t.ne0)), again_values(values.size());
    std::vector<uint8_t> again(rb), twice(rb);
    int64_t reachable = 0, reproduced = 0, blocks = 0, not_fixed = 0;
    for (int64_t r = 0; r < t.rows; ++r) {
      const uint8_t* row = t.bytes.data() + rb * static_cast<uint64_t>(r);
      dequantize_row(t.type, row, values.data(), t.ne0);
      quantize_row(t.type, values.data(), again.data(), t.ne0);
      for (uint64_t off = 0; off < rb; off += static_cast<uint64_t>(block_bytes)) {
        ++blocks;
        if (!rtn_reachable(t.type, row + off)) continue;
        ++reachable;
        reproduced += std::memcmp(row + off, again.data() + off, block_bytes) == 0;
      }
      dequantize_row(t.type, again.data(), again_values.data(), t.ne0);
      quantize_row(t.type, again_values.data(), twice.data(), t.ne0);
      not_fixed += std::memcmp(again.data(), twice.data(), rb) != 0;
    }
    EXPECT_EQ(reproduced, reachable) << "of " << blocks << " blocks";
    EXPECT_GT(reachable, blocks / 4) << "too few testable blocks to prove anything";
    EXPECT_EQ(not_fixed, 0) << "rows whose re-quantization is not a fixed point";
  }
  EXPECT_EQ(q8, 1) << "token_embd.weight (Q8_0) not found in the fixture";
  EXPECT_GE(q4, 3) << "FFN Q4_0 tensors not found in the fixture";
  std::filesystem::remove_all(dir);
}

TEST(QuantReference, FixtureBytesDecodeAsNumpyDecodesThem) {
  UG_SKIP_WITHOUT_SHARED_FIXTURES();
  const auto dir = scratch_dir("fixture_deq");
  const std::vector<FixtureTensor> tensors = extract_fixture_tensors(dir);
  ASSERT_FALSE(tensors.empty());
  for (const FixtureTensor& t : tensors) {
    SCOPED_TRACE(t.name);
    // The embedding table is large; its first 4096 rows are plenty.
    const int64_t rows = std::min<int64_t>(t.rows, 4096);
    const size_t nbytes = row_bytes(t.type, t.ne0) * static_cast<uint64_t>(rows);
    std::vector<float> mine(static_cast<size_t>(t.ne0 * rows));
    dequantize_row(t.type, t.bytes.data(), mine.data(), t.ne0 * rows);
    const auto in = dir / "raw.bin", out = dir / "raw.f32";
    write_file(in, t.bytes.data(), nbytes);
    ASSERT_EQ(run_reference(std::string("dequant ") + dtype_name(t.type) + " " + in.string() + " " +
                            out.string()),
              0);
    const std::vector<uint8_t> ref = read_file(out);
    ASSERT_EQ(ref.size(), mine.size() * 4);
    EXPECT_EQ(std::memcmp(ref.data(), mine.data(), ref.size()), 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ug
