#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ (fuzz/README.md).
#
#   scripts/fuzz.sh TARGET SECONDS    one target, e.g. scripts/fuzz.sh config 600
#   scripts/fuzz.sh all SECONDS       every target in turn, SECONDS each (CI: scripts/test.sh, 3 s)
#   scripts/fuzz.sh list              the target names
#
# Builds the `fuzz` preset first when needed (clang, ASan + UBSan, build/fuzz), rebuilds the seed
# corpora from the repository's fixtures (fuzz/make_seeds.sh, into a temporary folder) and keeps
# what the fuzzer learns in build/fuzz/corpus/TARGET between runs. A crash, sanitizer report,
# leak, timeout (-timeout, 10 s per input) or out-of-memory stops that target, leaves the input
# in build/fuzz/artifacts/TARGET/ and makes this script exit 1 (after the remaining targets, for
# `all`). Each target's log is build/fuzz/logs/TARGET.log; its last line (cov/ft) is printed.
# Reproduce a finding with: build/fuzz/fuzz/fuzz_TARGET build/fuzz/artifacts/TARGET/crash-...
# Environment: DOGE_FUZZ_ARGS adds libFuzzer flags (e.g. "-max_len=4096"); DOGE_FUZZ_NO_BUILD=1
# skips the build step.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/fuzz
targets=$(sed -n 's/^ *\([a-z0-9_]*\):[a-z_]*$/\1/p' fuzz/targets.cmake)

usage() {
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS   (scripts/fuzz.sh list names the targets)" >&2
  exit 2
}
[ $# -ge 1 ] || usage
if [ "$1" = list ]; then
  echo "$targets"
  exit 0
fi
[ $# -eq 2 ] || usage
case "$2" in '' | *[!0-9]* | 0) echo "scripts/fuzz.sh: SECONDS must be a positive integer, got '$2'" >&2; exit 2 ;; esac
if [ "$1" = all ]; then
  run=$targets
elif grep -qx "$1" <<< "$targets"; then
  run=$1
else
  echo "scripts/fuzz.sh: unknown target '$1'; targets: $(echo $targets)" >&2
  exit 2
fi

if [ "${DOGE_FUZZ_NO_BUILD:-0}" != 1 ]; then
  [ -f "$build/CMakeCache.txt" ] || cmake --preset fuzz
  cmake --build --preset fuzz -j"$(nproc 2>/dev/null || echo 2)"
fi
# Seeds in a private folder, so that runs of different targets can go on side by side.
mkdir -p "$build/logs"
seeds=$(mktemp -d "$build/seeds.XXXXXX")
trap 'rm -rf "$seeds"' EXIT
bash fuzz/make_seeds.sh "$seeds" > /dev/null
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
for t in $run; do
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t" "$seeds/$t"
  log="$build/logs/$t.log"
  # shellcheck disable=SC2086
  if "$build/fuzz/fuzz_$t" -max_total_time="$2" -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$build/artifacts/$t/" ${DOGE_FUZZ_ARGS:-} \
       "$build/corpus/$t" "$seeds/$t" > "$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
  fi
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  printf '%-18s %-6s %4ss  %s\n' "$t" "$status" "$2" "$last"
  if [ "$status" = FAILED ]; then
    grep -E 'ERROR|runtime error|terminate|SUMMARY|Test unit written' "$log" | head -n 8 | sed 's/^/    /' >&2 || true
    echo "    full log: $log" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "scripts/fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
