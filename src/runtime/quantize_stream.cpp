#include "runtime/quantize_stream.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/error.h"
#include "tensor/quant.h"

namespace ug {

namespace {

constexpr uint64_t kChunkBytes = 32ull << 20;  // output (or f32 input) bytes per chunk
constexpr uint64_t kCopyBytes = 64ull << 20;   // piece of a tensor copied unchanged

// Drops the pages of [p, p + n) from this process; they are re-read from the file if touched
// again. Pages shared with a neighbouring tensor are dropped too, which only costs a re-read.
void drop_pages(const void* p, uint64_t n) {
  if (!p || n == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t b = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n + page - 1) & ~(page - 1);
  madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);  // advisory: failure is harmless
}

int64_t elements(const std::vector<int64_t>& ne) {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

void check_source(const StreamTensor& t) {
  const int64_t n = elements(t.ne);
  if (!t.src) {
    if (static_cast<int64_t>(t.values.size()) != n)
      fail("internal: generated tensor '", t.name, "' has ", t.values.size(), " values, expected ",
           n);
    return;
  }
  if (t.src->n_elements() != n)
    fail(t.src->name, ": has ", t.src->n_elements(), " elements ", shape_string(t.src->ne),
         ", but '", t.name, "' needs ", n, " ", shape_string(t.ne));
  const int64_t ne0 = t.ne[0];
  const bool block_rows = t.src->dim(0) == ne0;
  if (!block_rows && dtype_info(t.src->type).block != 1)
    fail(t.src->name, ": rows of ", t.src->dim(0), " ", dtype_name(t.src->type),
         " values cannot be regrouped into rows of ", ne0);
  if (t.layout == SourceLayout::PatchColumns || t.layout == SourceLayout::PatchVector) {
    if (t.patch <= 0 || ne0 != 3ll * t.patch * t.patch || !block_rows)
      fail(t.src->name, ": a patch tensor needs rows of 3·", t.patch, "² values, found ",
           shape_string(t.src->ne));
  }
  if (t.layout == SourceLayout::PosTable) {
    if (t.ne.size() != 3 || t.ne[2] != 2 || t.src->ne.size() != 3 || t.src->ne[0] != t.ne[0] ||
        t.src->ne[1] != 2 || t.src->ne[2] != t.ne[1])
      fail(t.src->name, ": position table of shape ", shape_string(t.src->ne),
           " (ggml order) does not match [", t.ne[0], ", 2, rows]");
  }
}

// Output row r of t as f32 (ne0 values). `scratch` holds ne0 floats.
void read_row(const StreamTensor& t, int64_t r, float* out, float* scratch) {
  const int64_t ne0 = t.ne[0];
  if (!t.src) {
    std::copy_n(t.values.data() + r * ne0, ne0, out);
    return;
  }
  const TensorView& s = *t.src;
  auto src_row = [&](int64_t row, float* dst) {
    if (s.dim(0) == ne0) {
      dequantize_row(s.type, s.row(row), dst, ne0);
    } else {  // a float type (checked): linear element offset
      const uint64_t es = row_bytes(s.type, 1);
      dequantize_row(s.type, static_cast<const uint8_t*>(s.data) + es * ne0 * row, dst, ne0);
    }
  };
  switch (t.layout) {
    case SourceLayout::Same:
      src_row(r, out);
      return;
    case SourceLayout::PatchColumns:
    case SourceLayout::PatchVector:
      src_row(r, scratch);
      for (int64_t c = 0; c < ne0; ++c) out[c] = scratch[chw_to_hwc(c, t.patch)];
      return;
    case SourceLayout::PosTable: {
      const int64_t rows = t.ne[1], axis = r / rows, p = r % rows;
      src_row(p * 2 + axis, out);
      return;
    }
  }
}

std::string mib(uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / (1 << 20));
  return buf;
}

}  // namespace

StreamStats write_gguf_streamed(GgufWriter& w, const std::vector<StreamTensor>& tensors,
                                const std::string& path, ThreadPool& pool,
                                const std::function<void(const std::string&)>& progress) {
  for (const auto& t : tensors) {
    if (t.ne.empty()) fail("internal: tensor '", t.name, "' has no shape");
    check_source(t);
    if (t.type != DType::F32 && !can_quantize(t.type))
      fail("cannot write tensor '", t.name, "' as ", dtype_name(t.type), " (no quantizer)");
    row_bytes(t.type, t.ne[0]);  // throws when rows do not split into blocks
    w.add_tensor_info(t.name, t.type, t.ne);
  }
  w.begin(path);
  StreamStats stats;
  std::vector<uint8_t> buf;
  std::vector<std::vector<float>> scratch(static_cast<size_t>(pool.size()) * 2);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const StreamTensor& t = tensors[i];
    const int64_t ne0 = t.ne[0], rows = elements(t.ne) / ne0;
    const uint64_t out_row = row_bytes(t.type, ne0), total = out_row * rows;
    const bool copy =
        t.src && t.layout == SourceLayout::Same && t.src->type == t.type && t.src->nbytes == total;
    if (copy) {
      const auto* p = static_cast<const uint8_t*>(t.src->data);
      for (uint64_t done = 0; done < total;) {
        uint64_t n = std::min(kCopyBytes, total - done);
        w.write_tensor_data(p + done, n);
        drop_pages(p + done, n);
        done += n;
      }
    } else {
      const uint64_t per_row = std::max<uint64_t>(out_row, uint64_t(ne0) * 4);
      const int64_t chunk = std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / per_row));
      for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
        const int64_t n = std::min(chunk, rows - r0);
        buf.resize(out_row * n);
        pool.parallel_for(n, [&](int64_t a, int64_t b, int th) {
          auto& x = scratch[2 * th];
          auto& y = scratch[2 * th + 1];
          x.resize(ne0);
          y.resize(ne0);
          for (int64_t r = a; r < b; ++r) {
            read_row(t, r0 + r, x.data(), y.data());
            quantize_row(t.type, x.data(), buf.data() + out_row * r, ne0);
          }
        });
        w.write_tensor_data(buf.data(), out_row * n);
        // Rows read in place (no reordering): their pages are done with.
        if (t.src && t.layout == SourceLayout::Same && t.src->dim(0) == ne0)
          drop_pages(t.src->row(r0), t.src->row_size() * n);
      }
      if (t.src) drop_pages(t.src->data, t.src->nbytes);
    }
    stats.bytes_out += total;
    stats.largest_tensor_bytes = std::max(stats.largest_tensor_bytes, total);
    if (progress) {
      char head[32];
      std::snprintf(head, sizeof head, "[%4zu/%4zu] ", i + 1, tensors.size());
      std::string from = t.src ? dtype_name(t.src->type) : "generated";
      progress(head + t.name + " " + shape_string(t.ne) + " " + from + " -> " + dtype_name(t.type) +
               (copy ? " (copied)" : "") + ", " + mib(total));
    }
  }
  w.finish();
  buf = {};
  return stats;
}

}  // namespace ug
