#include "testmodel/test_model_stream.h"

#include <algorithm>
#include <cstring>
#include <future>

#include "base/error.h"
#include "tensor/half.h"
#include "tensor/quant.h"

namespace ug {

namespace {

// Rows of a tensor in one encoding: GGUF rows are ne[0] values in gguf_type; HF rows are
// hf_ne[0] BF16 values.
struct RowSource {
  int64_t rows = 0, row_len = 0;
  uint64_t row_size = 0;
};

RowSource rows_of(const TestTensor& t, TestEncoding e) {
  RowSource s;
  s.row_len = e == TestEncoding::Gguf ? t.ne[0] : t.hf_ne[0];
  s.rows = t.n_elements() / s.row_len;
  s.row_size = e == TestEncoding::Gguf ? row_bytes(t.gguf_type, s.row_len) : 2ull * s.row_len;
  return s;
}

void fill_rows(const TestTensor& t, TestEncoding e, const RowSource& s, int64_t begin, int64_t end,
               uint8_t* dst, float* scratch) {
  for (int64_t r = begin; r < end; ++r, dst += s.row_size) {
    if (e == TestEncoding::HfBf16) {
      test_range_hf(t, r * s.row_len, s.row_len, scratch);
      uint16_t* d = reinterpret_cast<uint16_t*>(dst);
      for (int64_t j = 0; j < s.row_len; ++j) d[j] = f32_to_bf16(scratch[j]);
    } else {
      test_row_gguf(t, r, scratch);
      if (t.gguf_type == DType::F32)
        std::memcpy(dst, scratch, s.row_size);
      else
        quantize_row(t.gguf_type, scratch, dst, s.row_len);
    }
  }
}

}  // namespace

void stream_tensors(const std::vector<const TestTensor*>& tensors, TestEncoding encoding,
                    ThreadPool& pool, const std::function<void(const void*, uint64_t)>& write,
                    uint64_t chunk_bytes) {
  std::vector<uint8_t> buffers[2];
  int next = 0;
  std::future<void> pending;
  try {
    for (const TestTensor* t : tensors) {
      const RowSource s = rows_of(*t, encoding);
      const int64_t per_chunk =
          std::max<int64_t>(1, static_cast<int64_t>(chunk_bytes / s.row_size));
      // Fan out only over at least ~64K values per worker.
      const int64_t grain = std::max<int64_t>(1, 65536 / s.row_len);
      for (int64_t r0 = 0; r0 < s.rows; r0 += per_chunk) {
        const int64_t n = std::min(per_chunk, s.rows - r0);
        std::vector<uint8_t>& buf = buffers[next];
        next ^= 1;
        // The buffer's previous write finished before the last write was started.
        buf.resize(static_cast<size_t>(n) * s.row_size);
        uint8_t* dst = buf.data();
        pool.parallel_for(
            n,
            [&](int64_t b, int64_t e, int) {
              std::vector<float> scratch(static_cast<size_t>(s.row_len));
              fill_rows(*t, encoding, s, r0 + b, r0 + e, dst + b * s.row_size, scratch.data());
            },
            grain);
        if (pending.valid()) pending.get();
        pending = std::async(std::launch::async, [&write, &buf] { write(buf.data(), buf.size()); });
      }
    }
    if (pending.valid()) pending.get();
  } catch (...) {
    // The writer and buffers must not go away under an in-flight write.
    if (pending.valid()) pending.wait();
    throw;
  }
}

}  // namespace ug
