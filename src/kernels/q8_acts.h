// Activations rounded to 8 bits for the integer dot-product kernels: each token's row is cut into
// blocks of 32 with one f32 scale each (as llama.cpp's Q8_0/Q8_1), laid out so that a 64-byte
// vector holds a pair of blocks and the per-lane side data of that pair sits beside it.
#pragma once

#include <cstdint>
#include <vector>

namespace ug {

struct Q8Acts {
  int64_t in = 0;  // elements per token (a multiple of 32)
  int64_t n_tokens = 0;
  int64_t pairs = 0;  // ceil(in / 64); an odd last block is padded with a zero block
  // Per token, `pairs` entries each (padding blocks are all zero):
  std::vector<int8_t> qs;  // [n_tokens][pairs * 64] values in [-127, 127]
  std::vector<float>
      dxv;  // [n_tokens][pairs * 16] block scale per 32-bit lane: 8 × d(2p), 8 × d(2p+1)
  std::vector<int32_t> b8;  // [n_tokens][pairs * 16] -8 × (sum of the lane's 4 values)
  std::vector<float> d;     // [n_tokens][pairs * 2] block scales
  std::vector<float> s;     // [n_tokens][pairs * 2] d × (sum of the block's 32 values)

  const int8_t* qs_of(int64_t t) const { return qs.data() + t * pairs * 64; }
  const float* dxv_of(int64_t t) const { return dxv.data() + t * pairs * 16; }
  const int32_t* b8_of(int64_t t) const { return b8.data() + t * pairs * 16; }
  const float* d_of(int64_t t) const { return d.data() + t * pairs * 2; }
  const float* s_of(int64_t t) const { return s.data() + t * pairs * 2; }
};

// x: [n_tokens, in]. Round-to-nearest with d = max|x| / 127 per block, so each element's error is
// at most d / 2 = max|x_block| / 254. Reuses the buffers of `out` (no allocation once grown).
void quantize_acts(const float* x, int64_t n_tokens, int64_t in, Q8Acts& out);

}  // namespace ug
