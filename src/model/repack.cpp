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
  return active_isa() == Isa::Avx512;
}

void repack_matrices(const std::vector<TensorView*>& ms,
                     std::vector<std::shared_ptr<const void>>& keep_alive, int threads) {
  ThreadPool pool(threads);
  for (TensorView* m : ms) {
    if (!m->data || !has_lanes(m->type) || m->ne.size() != 2) continue;
    const LanesShape s = lanes_shape(m->type, m->dim(0), m->dim(1));
    std::shared_ptr<uint8_t> buf = allocate_large(s.bytes, m->name.c_str());
    const TensorView src = *m;
    pool.parallel_for(
        s.pairs, [&](int64_t p0, int64_t p1, int) { repack_lanes(src, buf.get(), p0, p1); }, 64);
    m->type = lanes_of(src.type);
    m->data = buf.get();
    m->nbytes = s.bytes;
    keep_alive.push_back(std::shared_ptr<const void>(buf, buf.get()));
    // The source: an owned buffer (quantized on load) is freed, file pages are dropped.
    auto owned = std::find_if(keep_alive.begin(), keep_alive.end(),
                              [&](const auto& k) { return k.get() == src.data; });
    if (owned != keep_alive.end())
      keep_alive.erase(owned);
    else
      release_mapped_pages(src.data, src.nbytes);
  }
}

}  // namespace ug
