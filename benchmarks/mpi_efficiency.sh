#!/usr/bin/env bash
# MPI efficiency of `doge eval` (issue #14): one evaluation as `mpirun -np 2 ... --threads 1`
# against one process with `--threads 2`, on the same machine, interleaved A/B/A/B so that load
# from elsewhere hits both alike. Prints each run's wall time, the medians and the ratio
# (single / mpi: >= 0.95 is the target) and checks that both runs wrote the same details.
#
# usage: benchmarks/mpi_efficiency.sh DOGE MODEL_DIR DATA_DIR [REPEATS=5] [TASKS] [LIMIT]
#   e.g. benchmarks/mpi_efficiency.sh build/release/doge /models/Doge-20M ~/.cache/doge/datasets 5
# Extra mpirun flags go in MPIRUN_FLAGS (e.g. --allow-run-as-root when run as root).
set -euo pipefail
doge=$1 model=$2 data=$3 reps=${4:-5}
tasks=${5:-arc_easy,piqa,hellaswag,winogrande,openbookqa} limit=${6:-25}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(eval --model "$model" --data-dir "$data" --tasks "$tasks" --limit "$limit" --allow-count-mismatch)
a=() b=()
for ((i = 0; i < reps; i++)); do
  rm -rf "$work/a" "$work/b"
  t0=$(date +%s.%N)
  "$doge" "${common[@]}" --threads 2 --out-dir "$work/a" > /dev/null 2>&1
  t1=$(date +%s.%N)
  # shellcheck disable=SC2086
  mpirun ${MPIRUN_FLAGS:-} -np 2 "$doge" "${common[@]}" --threads 1 --out-dir "$work/b" > /dev/null 2>&1
  t2=$(date +%s.%N)
  a+=("$(awk "BEGIN {print $t1 - $t0}")") b+=("$(awk "BEGIN {print $t2 - $t1}")")
  echo "rep $i: single --threads 2: ${a[-1]} s   mpirun -np 2 --threads 1: ${b[-1]} s"
  for f in "$work"/a/details/*.jsonl; do cmp -s "$f" "$work/b/details/$(basename "$f")" || { echo "details differ: $f"; exit 1; }; done
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ma=$(median "${a[@]}") mb=$(median "${b[@]}")
echo "median single --threads 2: $ma s; median mpirun -np 2 --threads 1: $mb s; efficiency (single/mpi): $(awk "BEGIN {printf \"%.3f\", $ma / $mb}")"
