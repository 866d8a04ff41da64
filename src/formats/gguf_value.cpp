// GgufValue: typed metadata values and their checked conversions.
#include <cmath>
#include <limits>

#include "base/error.h"
#include "formats/gguf.h"

namespace ug {

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8:
      return "u8";
    case GgufType::I8:
      return "i8";
    case GgufType::U16:
      return "u16";
    case GgufType::I16:
      return "i16";
    case GgufType::U32:
      return "u32";
    case GgufType::I32:
      return "i32";
    case GgufType::F32:
      return "f32";
    case GgufType::BOOL:
      return "bool";
    case GgufType::STRING:
      return "string";
    case GgufType::ARRAY:
      return "array";
    case GgufType::U64:
      return "u64";
    case GgufType::I64:
      return "i64";
    case GgufType::F64:
      return "f64";
  }
  return "unknown";
}

namespace {
bool is_unsigned(GgufType t) {
  return t == GgufType::U8 || t == GgufType::U16 || t == GgufType::U32 || t == GgufType::U64;
}
bool is_signed(GgufType t) {
  return t == GgufType::I8 || t == GgufType::I16 || t == GgufType::I32 || t == GgufType::I64;
}
}  // namespace

bool GgufValue::is_integer() const { return is_unsigned(type) || is_signed(type); }
bool GgufValue::is_float() const { return type == GgufType::F32 || type == GgufType::F64; }

int64_t GgufValue::as_int(const std::string& what) const {
  if (is_signed(type)) return i;
  if (is_unsigned(type)) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(what, ": value ", u, " does not fit a signed 64-bit integer");
    return static_cast<int64_t>(u);
  }
  fail(what, ": expected an integer, found ", gguf_type_name(type));
}

double GgufValue::as_float(const std::string& what) const {
  if (is_float()) return f;
  if (is_signed(type)) return static_cast<double>(i);
  if (is_unsigned(type)) return static_cast<double>(u);
  fail(what, ": expected a number, found ", gguf_type_name(type));
}

bool GgufValue::as_bool(const std::string& what) const {
  if (type != GgufType::BOOL) fail(what, ": expected a bool, found ", gguf_type_name(type));
  return u != 0;
}

const std::string& GgufValue::as_string(const std::string& what) const {
  if (type != GgufType::STRING) fail(what, ": expected a string, found ", gguf_type_name(type));
  return s;
}

GgufValue GgufValue::make_u32(uint32_t v) {
  GgufValue x;
  x.type = GgufType::U32;
  x.u = v;
  return x;
}

GgufValue GgufValue::make_i32(int32_t v) {
  GgufValue x;
  x.type = GgufType::I32;
  x.i = v;
  return x;
}

GgufValue GgufValue::make_u64(uint64_t v) {
  GgufValue x;
  x.type = GgufType::U64;
  x.u = v;
  return x;
}

GgufValue GgufValue::make_f32(float v) {
  GgufValue x;
  x.type = GgufType::F32;
  x.f = v;
  return x;
}

GgufValue GgufValue::make_bool(bool v) {
  GgufValue x;
  x.type = GgufType::BOOL;
  x.u = v ? 1 : 0;
  return x;
}

GgufValue GgufValue::make_string(std::string v) {
  GgufValue x;
  x.type = GgufType::STRING;
  x.s = std::move(v);
  return x;
}

GgufValue GgufValue::make_array(GgufType elem, std::vector<GgufValue> items) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.elem_type = elem;
  x.arr = std::move(items);
  return x;
}

}  // namespace ug
