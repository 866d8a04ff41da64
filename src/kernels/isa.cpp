#include "kernels/isa.h"

#include <atomic>
#include <cstdlib>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include "base/error.h"

namespace ug {

namespace {
// -1 until first use; then an Isa value.
std::atomic<int> g_isa{-1};

Isa detect_best() {
  if (isa_supported(Isa::Avx512)) return Isa::Avx512;
  if (isa_supported(Isa::Avx2)) return Isa::Avx2;
  if (isa_supported(Isa::Neon)) return Isa::Neon;
  return Isa::Scalar;
}
}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
    case Isa::Neon:
      return "neon";
  }
  return "?";
}

std::optional<Isa> isa_from_name(const std::string& name) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon})
    if (name == isa_name(isa)) return isa;
  return std::nullopt;
}

bool isa_supported(Isa isa) {
  if (isa == Isa::Scalar) return true;
  if (isa == Isa::Neon) {
#if defined(__aarch64__) && defined(__linux__)
    // The NEON kernels use the Armv8.2 dot-product instructions (sdot/udot).
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
    return false;
#endif
  }
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c");
  if (isa == Isa::Avx2) return avx2;
  // The AVX-512 kernels use VNNI dot products and VBMI byte permutes (Ice Lake, Zen 4 and later).
  return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx512vbmi");
#else
  return false;
#endif
}

bool isa_has_avx512_bf16() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return isa_supported(Isa::Avx512) && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

Isa active_isa() {
  int v = g_isa.load(std::memory_order_relaxed);
  if (v >= 0) return static_cast<Isa>(v);
  Isa isa = detect_best();
  if (const char* env = std::getenv("UG_KERNELS"); env != nullptr && *env != '\0') {
    const std::optional<Isa> want = isa_from_name(env);
    if (!want) fail("UG_KERNELS=", env, ": expected one of scalar, avx2, avx512, neon");
    if (!isa_supported(*want))
      fail("UG_KERNELS=", env, ": this CPU cannot run the ", env, " kernels");
    isa = *want;
  }
  g_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
  return isa;
}

void set_active_isa(Isa isa) {
  if (!isa_supported(isa)) fail("kernels: this CPU cannot run the ", isa_name(isa), " kernels");
  g_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
}

}  // namespace ug
