// Closes the region opened by avx512_target_begin.h.
#if defined(UG_AVX512_REGION)
#pragma GCC pop_options
#undef UG_AVX512_REGION
#endif
