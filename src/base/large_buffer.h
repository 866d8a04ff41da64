// Large zero-filled buffers for data built at load (repacked weights): mapped directly, aligned
// to 2 MiB and marked for transparent huge pages, so that streaming them through the decode
// kernels costs fewer TLB misses and filling them fewer page faults.
#pragma once

#include <cstdint>
#include <memory>

namespace ug {

// Throws ug::Error when the memory cannot be had.
std::shared_ptr<uint8_t> allocate_large(uint64_t bytes, const char* what);

}  // namespace ug
