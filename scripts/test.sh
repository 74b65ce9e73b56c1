#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs missing Debian packages, builds the
# portable Release preset `ci` and runs every test with ctest. Set DOGE_SANITIZE_RUN=1 to also
# build and run the ASan+UBSan preset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset ci
cmake --build --preset ci -j"$jobs"
ctest --preset ci -j"$jobs"
if [ "${DOGE_SANITIZE_RUN:-0}" = 1 ]; then
  cmake --preset asan
  cmake --build --preset asan -j"$jobs"
  ctest --preset asan -j"$jobs"
fi
