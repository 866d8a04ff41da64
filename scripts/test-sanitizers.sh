#!/usr/bin/env bash
# The whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer (GCC,
# -fsanitize=address,undefined -fno-sanitize-recover=undefined) in build-asan/. -O1 keeps the
# build and the slow tests affordable; the micro-benchmarks are not built and the NEON
# cross-build (label neon, no sanitizers there) is skipped. Any sanitizer report fails its test.
# Run by .ci/run after scripts/test.sh (which installs the packages).
#
#   scripts/test-sanitizers.sh [ctest args...]   e.g. -R Hostile
#   BUILD_DIR=dir                                default build-asan
#   UG_SAN_FOLDERS="formats text ..."            only these test folders (binaries test_NAME,
#                                                ctest label NAME); default: the whole suite
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DUG_SANITIZE=ON -DUG_BUILD_BENCH=OFF >/dev/null
FILTER=(-LE neon)
if [ -n "${UG_SAN_FOLDERS:-}" ]; then
  read -r -a folders <<<"$UG_SAN_FOLDERS"
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${folders[@]/#/test_}"
  # The folders' gtest cases only (the corpus scripts need the CLI binary).
  FILTER=(-L "^($(IFS='|'; echo "${folders[*]}"))\$" -E "grammar_schema_")
else
  cmake --build "$BUILD_DIR" -j "$(nproc)"
fi

# abort_on_error: a report ends the process with SIGABRT, which ctest shows as a failure even
# where a test runs the binary as a child; halt_on_error/print_stacktrace: UBSan likewise.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "${FILTER[@]}" "$@"
