#include "tensor/dtype.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"

namespace ug {

namespace {
struct Entry {
  DType type;
  DTypeInfo info;
};
// Block sizes and byte counts from ggml-common.h (formats spec table).
constexpr Entry kTypes[] = {
    {DType::F32, {"F32", 1, 4}},       {DType::F16, {"F16", 1, 2}},
    {DType::Q4_0, {"Q4_0", 32, 18}},   {DType::Q4_1, {"Q4_1", 32, 20}},
    {DType::Q5_0, {"Q5_0", 32, 22}},   {DType::Q5_1, {"Q5_1", 32, 24}},
    {DType::Q8_0, {"Q8_0", 32, 34}},   {DType::Q8_1, {"Q8_1", 32, 36}},
    {DType::Q2_K, {"Q2_K", 256, 84}},  {DType::Q3_K, {"Q3_K", 256, 110}},
    {DType::Q4_K, {"Q4_K", 256, 144}}, {DType::Q5_K, {"Q5_K", 256, 176}},
    {DType::Q6_K, {"Q6_K", 256, 210}}, {DType::Q8_K, {"Q8_K", 256, 292}},
    {DType::BF16, {"BF16", 1, 2}},
};
// Same bytes per block as the stored types: only the order within a pair of rows differs.
constexpr Entry kInternal[] = {
    {DType::Q4_0_LANES, {"Q4_0 (repacked)", 32, 18}},
    {DType::Q8_0_LANES, {"Q8_0 (repacked)", 32, 34}},
};
}  // namespace

DType stored_dtype(DType t) {
  switch (t) {
    case DType::Q4_0_LANES:
      return DType::Q4_0;
    case DType::Q8_0_LANES:
      return DType::Q8_0;
    default:
      return t;
  }
}

std::optional<DType> dtype_from_id(uint32_t id) {
  for (const auto& e : kTypes)
    if (static_cast<uint32_t>(e.type) == id) return e.type;
  return std::nullopt;
}

std::optional<DType> dtype_from_name(const std::string& name) {
  std::string up = name;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  for (const auto& e : kTypes)
    if (up == e.info.name) return e.type;
  return std::nullopt;
}

const DTypeInfo& dtype_info(DType t) {
  for (const auto& e : kTypes)
    if (e.type == t) return e.info;
  for (const auto& e : kInternal)
    if (e.type == t) return e.info;
  fail("unknown tensor type id ", static_cast<uint32_t>(t));
}

uint64_t row_bytes(DType t, int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  if (n < 0 || n % info.block != 0)
    fail("a row of ", n, " elements is not a whole number of ", info.name, " blocks of ",
         info.block);
  return static_cast<uint64_t>(n / info.block) * static_cast<uint64_t>(info.block_bytes);
}

}  // namespace ug
