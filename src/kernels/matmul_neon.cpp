// ARM NEON kernels (Armv8.2-A with the dot-product extension). Not built on other
// architectures, where isa_supported(Isa::Neon) is false and these are never called.
#include "base/error.h"
#include "kernels/matmul_impl.h"

namespace ug::kern {

#if !defined(__aarch64__)
bool neon_uses_q8(DType) { return false; }
bool neon_q4_order(DType) { return false; }
void neon_rows(const MatmulJob&, int64_t, int64_t) { fail("NEON kernels are not built"); }
#endif

}  // namespace ug::kern
