// The f32 row operations and activations (kernels/row_ops.h, kernels/activation.h) of every
// variant this CPU runs, against double-precision formulas (checks in float_ops_checks.h, shared
// with the NEON checker).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "float_ops_checks.h"
#include "isa_guard.h"
#include "kernels/isa.h"

namespace ug {
namespace {

std::vector<Isa> all_isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon})
    if (isa_supported(isa)) v.push_back(isa);
  return v;
}

// Runs one shared check under every variant.
void for_every_isa(std::string (*check)()) {
  test::IsaGuard guard;
  for (Isa isa : all_isas()) {
    set_active_isa(isa);
    EXPECT_EQ(check(), "") << isa_name(isa);
  }
}

TEST(RowOps, RmsNormMatchesDoublePrecision) { for_every_isa(test::check_rms_norm); }
TEST(RowOps, ResidualAddsAreExactlyTheScalarFormula) { for_every_isa(test::check_residual_adds); }
TEST(RowOps, RopeRotatesTheFirstPairsAndLeavesTheRest) { for_every_isa(test::check_rope); }
TEST(Activations, SoftcapAndGegluMatchTanhToAFewUlps) { for_every_isa(test::check_activations); }
TEST(Activations, ElementsDoNotDependOnTheSplit) { for_every_isa(test::check_elementwise_split); }

}  // namespace
}  // namespace ug
