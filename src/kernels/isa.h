// Which instruction-set variant of the kernels runs: chosen once from the CPU (and the
// UG_KERNELS environment variable), overridable by tests and benchmarks.
#pragma once

#include <optional>
#include <string>

namespace ug {

enum class Isa { Scalar, Avx2, Avx512, Neon };

const char* isa_name(Isa isa);
std::optional<Isa> isa_from_name(const std::string& name);  // "scalar", "avx2", "avx512", "neon"

// Whether this CPU (and this build's architecture) can run the variant.
bool isa_supported(Isa isa);

// Whether the AVX-512 variant may also use AVX512_BF16 dot products (attention over f16 rows):
// the CPU has them and this build targets x86-64.
bool isa_has_avx512_bf16();

// The variant in use: UG_KERNELS if set (an unknown or unsupported value is an ug::Error at first
// use), otherwise the best supported one.
Isa active_isa();

// Forces a variant for the rest of the process (tests, benchmarks); throws ug::Error when the CPU
// lacks it. Not meant to be changed while a matmul runs.
void set_active_isa(Isa isa);

}  // namespace ug
