// Activations rounded to 8 bits for the integer dot-product kernels: each token's row is cut into
// blocks of 32 with one f32 scale and one block sum each, laid out so that a 64-byte vector holds
// a pair of blocks. Only the 8-bit values and two floats per block are kept, so a token's data
// stays in L1 even for rows of 15360.
#pragma once

#include <cstdint>
#include <vector>

namespace ug {

// How a token's 8-bit values are laid out (what the kernel for the weight type reads):
//  Natural: block after block.
//  Q4:      each run of 4 blocks (128 bytes) holds elements 0-15 of the 4 blocks, then elements
//           16-31 of the 4 blocks, the order of a Q4_0 quad's low and high nibbles.
//  Lanes:   for repacked weights (tensor/lanes.h): per group of 8 blocks, 8 runs of 32 bytes;
//           run v, dword c holds elements 4v..4v+3 of block 8g + c (the kernel broadcasts a run
//           to both halves of a vector, one per row of a pair); d and s in block order.
enum class ActOrder { Natural, Q4, Lanes };

struct Q8Acts {
  int64_t in = 0;  // elements per token (a multiple of 32)
  int64_t n_tokens = 0;
  // 64-byte units per token: ceil(in / 64) (Natural), rounded up to even (Q4), 4 per group of 8
  // blocks (Lanes). Missing blocks are zero blocks.
  int64_t pairs = 0;
  ActOrder order = ActOrder::Natural;
  // Per token, `pairs` entries each (padding blocks are all zero):
  std::vector<int8_t> qs;  // [n_tokens][pairs * 64] values in [-127, 127]
  std::vector<float> d;    // [n_tokens][pairs * 2] block scales
  std::vector<float> s;    // [n_tokens][pairs * 2] d × (sum of the block's 32 values)

  const int8_t* qs_of(int64_t t) const { return qs.data() + t * pairs * 64; }
  const float* d_of(int64_t t) const { return d.data() + t * pairs * 2; }
  const float* s_of(int64_t t) const { return s.data() + t * pairs * 2; }
};

// x: [n_tokens, in]. Round-to-nearest with d = max|x| / 127 per block, so each element's error is
// at most d / 2 = max|x_block| / 254. Reuses the buffers of `out` (no allocation once grown).
void quantize_acts(const float* x, int64_t n_tokens, int64_t in, Q8Acts& out,
                   ActOrder order = ActOrder::Natural);

}  // namespace ug
