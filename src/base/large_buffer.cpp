#include "base/large_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace ug {

std::shared_ptr<uint8_t> allocate_large(uint64_t bytes, const char* what) {
  constexpr uint64_t kHuge = 2ull << 20;
  if (bytes == 0) bytes = 1;
  // Over-map by one huge page and trim, so the buffer starts on a 2 MiB boundary.
  const uint64_t span = bytes + kHuge;
  void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail(what, ": cannot allocate ", bytes, " bytes: ", std::strerror(errno));
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = (base + kHuge - 1) / kHuge * kHuge;
  if (start > base) ::munmap(p, start - base);
  const uintptr_t end = start + bytes, map_end = base + span;
  const uintptr_t tail = (end + 4095) / 4096 * 4096;
  if (map_end > tail) ::munmap(reinterpret_cast<void*>(tail), map_end - tail);
  ::madvise(reinterpret_cast<void*>(start), bytes, MADV_HUGEPAGE);  // advisory
  const uint64_t len = tail - start;
  return std::shared_ptr<uint8_t>(reinterpret_cast<uint8_t*>(start),
                                  [len](uint8_t* q) { ::munmap(q, len); });
}

}  // namespace ug
