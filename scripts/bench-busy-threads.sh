#!/bin/bash
# Issue 13 measurement: 1 vs 2 threads with doge's start-up OpenMP wait policy ("new") against
# libgomp's default ("legacy": DOGE_OMP_WAIT set, so doge leaves the environment alone), without
# and with an extra busy loop pinned to CPU 0; interleaved, REPS repetitions.
#   usage: scripts/bench-busy-threads.sh MODEL_DIR
set -euo pipefail
DOGE=${DOGE:-build/ci/doge}
M=$1
REPS=${REPS:-2}
for busy in 0 1; do
  BUSY_PID=""
  if [ "$busy" = 1 ]; then taskset -c 0 sh -c 'while :; do :; done' & BUSY_PID=$!; sleep 1; fi
  for rep in $(seq 1 "$REPS"); do for mode in new legacy; do
    if [ "$mode" = legacy ]; then E="DOGE_OMP_WAIT=legacy"; else E="DOGE_UNUSED=1"; fi
    row=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT $E "$DOGE" bench e2e --model "$M" -p 64 -n 32 \
          -t 1,2 -r 3 --format json 2>/dev/null | python3 -c "
import json, sys
rows = json.load(sys.stdin)
print(' '.join('%s/t%d=%.0f' % (r['test'], r['n_threads'], r['avg_ts']) for r in rows),
      'others=%.2f' % max(r['machine_load']['other_cores'] for r in rows))")
    echo "busyloop=$busy rep=$rep $mode: $row load=$(cut -d' ' -f1 /proc/loadavg)"
  done; done
  [ -n "$BUSY_PID" ] && kill "$BUSY_PID"
done
