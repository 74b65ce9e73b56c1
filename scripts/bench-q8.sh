#!/usr/bin/env bash
# Interleaved A/B of weight storages on one machine (issue #20): f32, bf16 and q8 copies of one
# random checkpoint, `doge bench e2e` rounds alternating between them, per-row medians over rounds.
# The machine this was written on is shared: only ratios within one run compare.
# Usage: scripts/bench-q8.sh SHAPE [ROUNDS] [EXTRA bench e2e args, e.g. "-p 512 -n 128 -t 1,2 -r 3"]
#   DOGE=build/ci/doge  WORK=/tmp/doge-bench-q8  DTYPES="f32 bf16 q8"
#   KERNEL_ISAS="avx512 avx2"     (each dtype also run with DOGE_KERNEL_ISA pinned to each ISA)
#   BINARIES="old=/path/doge new=/path/doge"   (before/after: each binary in every round)
set -euo pipefail
shape=${1:?shape, e.g. doge-20m}
rounds=${2:-5}
args=${3:--p 512 -n 128 -t 1,2 -r 3}
doge=${DOGE:-build/ci/doge}
work=${WORK:-/tmp/doge-bench-q8}/$shape
dtypes=${DTYPES:-f32 bf16 q8}
isas=${KERNEL_ISAS:-}
bins=${BINARIES:-this=$doge}
mkdir -p "$work"
for d in $dtypes; do
  [ -d "$work/$d" ] || "$doge" dev random-checkpoint --shape "$shape" --seed 1 --dtype "$d" --out "$work/$d" >/dev/null 2>&1
done
for r in $(seq 1 "$rounds"); do
  for d in $dtypes; do
    for isa in ${isas:-default}; do
      for bin in $bins; do
        env_isa=()
        [ "$isa" = default ] || env_isa=(DOGE_KERNEL_ISA="$isa")
        env "${env_isa[@]}" "${bin#*=}" bench e2e --model "$work/$d" $args -o csv \
          --out "$work/r${r}__${d}__${isa}__${bin%%=*}.csv" >/dev/null 2>&1
      done
    done
  done
done
python3 - "$work" "$rounds" <<'PY'
import csv, glob, os, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
rows = {}
for f in sorted(glob.glob(os.path.join(work, "r*__*.csv"))):
    _, d, isa, binary = os.path.basename(f)[:-4].split("__")
    for row in csv.DictReader(open(f)):
        key = (d, isa, binary, row["n_threads"], row["test"])
        rows.setdefault(key, []).append((float(row["avg_ts"]), float(row["bound_fraction"])))
print("| dtype | kernels | binary | threads | test | median t/s | median % of in-run bound | rounds |")
print("|---|---|---|---:|---|---:|---:|---:|")
for k in sorted(rows):
    v = rows[k]
    print(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | {k[4]} | {statistics.median(x for x, _ in v):.1f} | "
          f"{100 * statistics.median(b for _, b in v):.1f}% | {len(v)} |")
PY
