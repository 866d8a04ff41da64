// Q4_0 and Q8_0 matrices repacked for the AVX-512 decode kernels ("lanes" layout).
//
// In the file layout a row is a run of 18- or 34-byte blocks, so a vector load straddles blocks
// and the kernel spends most of its time shuffling bytes and summing lanes. Repacked, rows go in
// pairs and blocks in groups of 8, and one 64-byte vector holds the same 4 code bytes of 8
// consecutive blocks of both rows of a pair: lane l (dword) belongs to row 2p + l / 8, block
// 8g + l % 8. A vpdpbusd then leaves each block's partial dot in its own lane, with no shuffles.
//
// Each pair's bytes are one run (pair_bytes), and within it groups go two at a time (a unit):
// the codes of group 2u (V vectors of 64 bytes, V = 4 for Q4_0, 8 for Q8_0), those of group
// 2u + 1, then the two groups' f16 scales (16 each, lane order). A row's last group is padded
// with zero blocks, a missing last row is all zero blocks, and a lone last group's unit has 32
// bytes of padding after its scales. Codes are vector v = dword v of each block's code bytes
// (Q4_0: the 16 nibble bytes as stored; Q8_0: codes + 128, unsigned). So the decode kernel reads
// one sequential stream; 64 more bytes at the end keep 4-byte gathers of the last scale inside
// the buffer. The integer dot of every block is the same as from the file layout, so the kernels
// keep their float arithmetic exactly.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"
#include "tensor/tensor_view.h"

namespace ug {

struct LanesShape {
  int64_t in = 0, out = 0;
  int64_t blocks = 0;       // per row: in / 32
  int64_t groups = 0;       // per row: ceil(blocks / 8)
  int64_t pairs = 0;        // ceil(out / 2)
  int vecs = 0;             // code vectors per group: 4 (Q4_0) or 8 (Q8_0)
  uint64_t unit_bytes = 0;  // two groups: (2·vecs + 1)·64
  uint64_t pair_bytes = 0;
  uint64_t bytes = 0;  // whole buffer, padding included

  // Byte offsets of pair p's group g: its first code vector, its 16 scales.
  uint64_t codes_at(int64_t p, int64_t g) const {
    return static_cast<uint64_t>(p) * pair_bytes + static_cast<uint64_t>(g / 2) * unit_bytes +
           static_cast<uint64_t>(g % 2) * vecs * 64;
  }
  uint64_t scales_at(int64_t p, int64_t g) const {
    const int64_t u = g / 2, in_unit = groups - 2 * u < 2 ? 1 : 2;
    return static_cast<uint64_t>(p) * pair_bytes + static_cast<uint64_t>(u) * unit_bytes +
           static_cast<uint64_t>(in_unit * vecs * 64 + (g % 2) * 32);
  }
};

bool is_lanes(DType t);
// The repacked type for a file type, if it has one (Q4_0, Q8_0).
bool has_lanes(DType stored);
DType lanes_of(DType stored);

// Throws ug::Error unless `type` (stored or repacked) has a lanes layout and in is a positive
// multiple of 32, out positive.
LanesShape lanes_shape(DType type, int64_t in, int64_t out);

// Writes pairs [p0, p1) of the repacked form of src (a Q4_0 or Q8_0 {in, out} matrix in file
// layout) into dst (lanes_shape(...).bytes, zero-filled where blocks are padding). Pairs are
// independent, so threads may fill disjoint ranges.
void repack_lanes(const TensorView& src, uint8_t* dst, int64_t p0, int64_t p1);

// Row `row` of a repacked matrix, back in file layout (row_bytes(stored type, in) bytes).
void lanes_row_to_stored(const TensorView& w, int64_t row, uint8_t* out);

}  // namespace ug
