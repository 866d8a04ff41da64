#!/usr/bin/env bash
# Sets up (packages, build) and runs every test: C++ unit tests, parity against the numpy
# reference, tokenizer parity against the npm tokenizer. Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/setup.sh "$BUILD_DIR"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
