#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with AddressSanitizer + UndefinedBehaviorSanitizer)
# in build-fuzz/ and runs each for a bounded time, starting from its seed corpus in fuzz/corpus/
# plus what earlier runs found (build-fuzz/corpus/). Prints executions and exec/s per target.
# Exits non-zero when a target crashes, leaks, hangs or runs out of memory; the input that did it
# is kept in build-fuzz/artifacts/<target>/ (replay: build-fuzz/fuzz/fuzz_<target> <file>).
#
#   scripts/fuzz.sh [target...]   default: every target in fuzz/CMakeLists.txt
#   FUZZ_SECONDS=N                seconds per target (default 25)
#   FUZZ_RUNS=N                   also stop a target after N executions (default: no limit)
#   BUILD_DIR=dir                 default build-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-25}
RUNS=${FUZZ_RUNS:--1}

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/setup.sh installs clang)"; exit 1; }
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DUG_FUZZ=ON -DUG_BUILD_TESTS=OFF -DUG_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" --target fuzzers -j "$(nproc)"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^ug_fuzzer(\([a-z_0-9]*\).*/\1/p' fuzz/CMakeLists.txt)
fi

failed=0
summary=()
for t in "${targets[@]}"; do
  bin="$BUILD_DIR/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz.sh: no target '$t' ($bin)"; exit 1; }
  corpus="$BUILD_DIR/corpus/$t" artifacts="$BUILD_DIR/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$BUILD_DIR/fuzz_$t.log"
  echo "== fuzz_$t: ${SECONDS_EACH} s"
  # -timeout: one input running this long is a hang; -rss_limit_mb: the decoders' own limits keep
  # real inputs far below it.
  status=0
  "$bin" -max_total_time="$SECONDS_EACH" -runs="$RUNS" -timeout=60 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "fuzz/corpus/$t" >"$log" 2>&1 ||
    status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ "$status" -ne 0 ]; then
    failed=1
    grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -20 || true
    summary+=("$(printf '%-16s %12s %8s  FAILED (exit %d, log %s)' "$t" "${execs:-?}" "${rate:-?}" "$status" "$log")")
  else
    summary+=("$(printf '%-16s %12s %8s  ok' "$t" "${execs:-?}" "${rate:-?}")")
  fi
done
printf '%-16s %12s %8s\n' target executions exec/s
printf '%s\n' "${summary[@]}"
exit $failed
