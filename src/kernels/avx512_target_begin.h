// Opens a region compiled for AVX-512 (F/BW/VL/DQ + VNNI + VBMI: Ice Lake, Zen 4 and later)
// whatever the build flags; close it with avx512_target_end.h. Only code that is called after
// checking the CPU (kernels/isa.h) may live inside. No include guard: each kernel file opens one
// region.
#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 reduction intrinsics start from _mm512_undefined_*(), which -Wuninitialized
// reports inside the system header; the pragma must precede the include to cover it.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi")
#define UG_AVX512_REGION 1
#endif
