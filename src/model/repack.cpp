#include "model/repack.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "base/large_buffer.h"
#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "kernels/isa.h"
#include "tensor/lanes.h"

namespace ug {

bool repack_on_load() {
  const char* env = std::getenv("UG_REPACK");
  if (env && std::string(env) == "0") return false;
  return active_isa() == Isa::Avx512 || active_isa() == Isa::Avx2;
}

void repack_matrices(const std::vector<TensorView*>& ms,
                     std::vector<std::shared_ptr<const void>>& keep_alive, int threads) {
  ThreadPool pool(threads);
  for (TensorView* m : ms) {
    if (!m->data || !has_lanes(m->type) || m->ne.size() != 2) continue;
    const LanesShape s = lanes_shape(m->type, m->dim(0), m->dim(1));
    std::shared_ptr<uint8_t> buf = allocate_large(s.bytes, m->name.c_str());
    const TensorView src = *m;
    // The pairs go in slices of about 16 MB of source, whose file pages are dropped as soon as
    // they are copied: peak memory stays one slice above the weights, not one tensor (the tied
    // embedding is 566 MB at 12B Q4_0).
    const int64_t slice =
        std::max<int64_t>(64, (16 << 20) / std::max<uint64_t>(1, 2 * src.row_size()));
    for (int64_t q0 = 0; q0 < s.pairs; q0 += slice) {
      const int64_t q1 = std::min(s.pairs, q0 + slice);
      pool.parallel_for(
          q1 - q0, [&](int64_t a, int64_t b, int) { repack_lanes(src, buf.get(), q0 + a, q0 + b); },
          16);
      const int64_t r1 = std::min(src.dim(1), 2 * q1);
      release_mapped_pages(src.row(2 * q0), (r1 - 2 * q0) * src.row_size());
    }
    m->type = lanes_of(src.type);
    m->data = buf.get();
    m->nbytes = s.bytes;
    keep_alive.push_back(std::shared_ptr<const void>(buf, buf.get()));
    // An owned source (quantized on load) is freed.
    auto owned = std::find_if(keep_alive.begin(), keep_alive.end(),
                              [&](const auto& k) { return k.get() == src.data; });
    if (owned != keep_alive.end()) keep_alive.erase(owned);
  }
}

}  // namespace ug
