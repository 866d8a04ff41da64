#include "tensor/lanes.h"

#include <cstring>

#include "base/error.h"

namespace ug {

namespace {
int code_bytes(DType stored) { return stored == DType::Q4_0 ? 16 : 32; }

// Byte offset of block b's code dword v in row r's pair (group b / 8, lane (r % 2)·8 + b % 8).
uint64_t code_at(const LanesShape& s, int64_t r, int64_t b, int v) {
  const int64_t lane = (r % 2) * 8 + b % 8;
  return s.codes_at(r / 2, b / 8) + static_cast<uint64_t>(v) * 64 + lane * 4;
}
uint64_t scale_at(const LanesShape& s, int64_t r, int64_t b) {
  const int64_t lane = (r % 2) * 8 + b % 8;
  return s.scales_at(r / 2, b / 8) + lane * 2;
}
}  // namespace

bool is_lanes(DType t) { return t == DType::Q4_0_LANES || t == DType::Q8_0_LANES; }
bool has_lanes(DType stored) { return stored == DType::Q4_0 || stored == DType::Q8_0; }

DType lanes_of(DType stored) {
  if (stored == DType::Q4_0) return DType::Q4_0_LANES;
  if (stored == DType::Q8_0) return DType::Q8_0_LANES;
  fail("no repacked layout for ", dtype_name(stored));
}

LanesShape lanes_shape(DType type, int64_t in, int64_t out) {
  const DType stored = stored_dtype(type);
  if (!has_lanes(stored)) fail("no repacked layout for ", dtype_name(type));
  if (in <= 0 || in % 32 != 0 || out <= 0)
    fail("repacked ", dtype_name(stored), ": bad shape [", in, ", ", out, "]");
  LanesShape s;
  s.in = in;
  s.out = out;
  s.blocks = in / 32;
  s.groups = (s.blocks + 7) / 8;
  s.pairs = (out + 1) / 2;
  s.vecs = code_bytes(stored) / 4;
  s.unit_bytes = static_cast<uint64_t>(2 * s.vecs + 1) * 64;
  s.pair_bytes = static_cast<uint64_t>(s.groups / 2) * s.unit_bytes +
                 static_cast<uint64_t>(s.groups % 2) * (s.vecs + 1) * 64;
  s.bytes = static_cast<uint64_t>(s.pairs) * s.pair_bytes + 64;
  return s;
}

void repack_lanes(const TensorView& src, uint8_t* dst, int64_t p0, int64_t p1) {
  const DType t = src.type;
  const LanesShape s = lanes_shape(t, src.dim(0), src.dim(1));
  const int cb = code_bytes(t);
  const uint64_t block_bytes = static_cast<uint64_t>(dtype_info(t).block_bytes);
  const uint8_t flip = t == DType::Q8_0 ? 0x80 : 0x00;
  for (int64_t p = p0; p < p1; ++p) {
    // The pair's whole span: padding blocks and a missing second row stay zero.
    std::memset(dst + s.codes_at(p, 0), 0, s.pair_bytes);
    if (p == s.pairs - 1) std::memset(dst + s.codes_at(p, 0) + s.pair_bytes, 0, 64);
    for (int64_t r = 2 * p; r < 2 * p + 2 && r < s.out; ++r) {
      const uint8_t* row = src.row(r);
      for (int64_t b = 0; b < s.blocks; ++b) {
        const uint8_t* blk = row + b * block_bytes;
        std::memcpy(dst + scale_at(s, r, b), blk, 2);
        for (int v = 0; v < cb / 4; ++v) {
          uint8_t* d = dst + code_at(s, r, b, v);
          for (int k = 0; k < 4; ++k) d[k] = blk[2 + 4 * v + k] ^ flip;
        }
      }
    }
  }
}

void lanes_row_to_stored(const TensorView& w, int64_t row, uint8_t* out) {
  if (!is_lanes(w.type)) fail("tensor ", w.name, " is not repacked");
  const LanesShape s = lanes_shape(w.type, w.dim(0), w.dim(1));
  if (row < 0 || row >= s.out) fail("tensor ", w.name, ": row ", row, " out of range");
  const auto* base = static_cast<const uint8_t*>(w.data);
  const DType stored = stored_dtype(w.type);
  const int cb = code_bytes(stored);
  const uint8_t flip = stored == DType::Q8_0 ? 0x80 : 0x00;
  for (int64_t b = 0; b < s.blocks; ++b) {
    uint8_t* blk = out + b * (2 + cb);
    std::memcpy(blk, base + scale_at(s, row, b), 2);
    for (int v = 0; v < cb / 4; ++v) {
      const uint8_t* c = base + code_at(s, row, b, v);
      for (int k = 0; k < 4; ++k) blk[2 + 4 * v + k] = c[k] ^ flip;
    }
  }
}

}  // namespace ug
