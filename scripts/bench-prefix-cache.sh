#!/bin/bash
# Issue 13 measurement: a task (default MMLU card-a) on a Doge-20M-shaped random checkpoint with
# the real Doge tokenizer, prefix cache off (--prefix-cache-mb 0) vs on (default budget), 1 and
# 2 threads, interleaved, REPS repetitions; prints docs/s and hit rate per run and checks that
# the details are byte-identical.
#   usage: scripts/bench-prefix-cache.sh TOKENIZER_DIR DATA_DIR [OUT_DIR]
#   e.g.   scripts/bench-prefix-cache.sh ../shared/fixtures/tokenizer/doge tests/data/datasets-canonical
set -euo pipefail
DOGE=${DOGE:-build/ci/doge}
TOK=$1
DATA=$2
OUT=${3:-$(mktemp -d)}
TASK=${TASK:-mmlu}
PROTO=${PROTO:-card-a}
REPS=${REPS:-3}
M=$OUT/doge-20m
if [ ! -f "$M/model.safetensors" ]; then
  "$DOGE" dev random-checkpoint --shape doge-20m --out-dir "$M" >/dev/null
  cp "$TOK"/tokenizer.json "$TOK"/tokenizer_config.json "$TOK"/special_tokens_map.json "$M"/
fi
for rep in $(seq 1 "$REPS"); do for t in 1 2; do for mb in 0 default; do
  run=$OUT/${TASK}_${PROTO}_r${rep}_t${t}_${mb}
  flag=""
  [ "$mb" = 0 ] && flag="--prefix-cache-mb 0"
  "$DOGE" eval --model "$M" --tasks "$TASK" --protocol "$PROTO" --data-dir "$DATA" \
    --allow-count-mismatch --threads "$t" $flag --out-dir "$run" --overwrite >/dev/null 2>&1
  python3 - "$run/results.json" "$TASK" "rep=$rep threads=$t cache=$mb" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["tasks"][sys.argv[2]]
print("%s docs/s=%.2f tokens/s=%.0f hit_rate=%.3f" % (sys.argv[3], t["docs_per_s"],
      t["scored_tokens_per_s"], t["prefix_cache"]["hit_rate"]))
PY
done; done; done
for f in "$OUT"/${TASK}_${PROTO}_r*/details/*.jsonl; do
  cmp -s "$f" "$OUT/${TASK}_${PROTO}_r1_t1_0/details/$(basename "$f")" || { echo "DETAILS DIFFER: $f"; exit 1; }
done
echo "details identical across all runs ($OUT)"
