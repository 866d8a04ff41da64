// Load-time repacking of weight matrices into the layouts the active kernels read fastest
// (tensor/lanes.h). Each repacked matrix replaces its source: file pages are dropped from the
// process, owned buffers freed, so there is never a second copy of the weights.
#pragma once

#include <memory>
#include <vector>

#include "tensor/tensor_view.h"

namespace ug {

// Whether load repacks: the AVX-512 or AVX2 kernels are active and UG_REPACK is not "0" (for
// comparing with the file layout: the same bits under AVX-512; under AVX2 the repacked kernels
// give the AVX-512 variant's bits, which differ from the AVX2 file-layout kernels' in rounding).
bool repack_on_load();

// Repacks every matrix in `ms` that has a faster layout (null data skipped), in place; new
// buffers go to keep_alive, owned sources found there are released.
void repack_matrices(const std::vector<TensorView*>& ms,
                     std::vector<std::shared_ptr<const void>>& keep_alive, int threads);

}  // namespace ug
