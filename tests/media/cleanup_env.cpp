// Registers the scratch-folder cleanup once for the whole test program.
#include "media_test_util.h"

namespace {
[[maybe_unused]] testing::Environment* const kCleanup =
    testing::AddGlobalTestEnvironment(new ug::test::MediaTmpCleanup);
}  // namespace
