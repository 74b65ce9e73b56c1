#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs missing Debian packages, builds the
# portable Release preset `ci` (GCC) and runs every test with ctest, then the same suite built
# with clang (preset `clang`), so code that only one compiler accepts cannot land. Set
# DOGE_SKIP_CLANG=1 to skip the clang pass locally; DOGE_SANITIZE_RUN=1 to also build and run the
# ASan+UBSan preset. Last, the fuzz smoke: the `fuzz` preset (libFuzzer + ASan + UBSan) is built and
# every fuzz target runs for DOGE_FUZZ_SMOKE_SECONDS (default 3) so none of them can rot;
# DOGE_SKIP_FUZZ=1 skips it locally.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset ci
cmake --build --preset ci -j"$jobs"
ctest --preset ci -j"$jobs"
if [ "${DOGE_SKIP_CLANG:-0}" != 1 ]; then
  cmake --preset clang
  cmake --build --preset clang -j"$jobs"
  ctest --preset clang -j"$jobs"
fi
if [ "${DOGE_SANITIZE_RUN:-0}" = 1 ]; then
  cmake --preset asan
  cmake --build --preset asan -j"$jobs"
  ctest --preset asan -j"$jobs"
fi
if [ "${DOGE_SKIP_FUZZ:-0}" != 1 ]; then
  cmake --preset fuzz
  cmake --build --preset fuzz -j"$jobs"
  DOGE_FUZZ_NO_BUILD=1 bash scripts/fuzz.sh all "${DOGE_FUZZ_SMOKE_SECONDS:-3}"
fi
