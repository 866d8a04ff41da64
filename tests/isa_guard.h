// Restores the kernel variant a test changed (set_active_isa is process-wide), however the test
// ends.
#pragma once

#include "kernels/isa.h"

namespace ug::test {

struct IsaGuard {
  Isa saved = active_isa();
  ~IsaGuard() { set_active_isa(saved); }
};

}  // namespace ug::test
