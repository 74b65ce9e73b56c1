#!/usr/bin/env bash
# The accuracy cost of q8 (and bf16) weights, measured by the harness's own numeric-regression
# tools (issue #20): KL divergence vs the f32 model (`doge perplexity --save-logits` /
# `--kl-divergence-base`) and the change of each card metric (`doge eval` twice, then
# `doge report compare`).
#   (a) the bundled tiny model (tests/data/tiny-model) and the bundled data;
#   (b) a random Doge-20M (seed 1) with the real Doge tokenizer.
# Usage: scripts/q8-accuracy.sh TOKENIZER_DIR [TEXT] [LIMIT]
#   TOKENIZER_DIR: a folder with Doge's tokenizer.json (e.g. ../shared/fixtures/tokenizer/doge)
#   TEXT: the text scored for perplexity (default: this repository's README.md)
#   LIMIT: documents per card task for doge eval (default 16)
#   DOGE=build/ci/doge  WORK=/tmp/doge-q8-accuracy
set -euo pipefail
tok=${1:?tokenizer folder}
text=${2:-README.md}
limit=${3:-16}
doge=${DOGE:-build/ci/doge}
work=${WORK:-/tmp/doge-q8-accuracy}
data=tests/data/datasets-canonical
rm -rf "$work"
mkdir -p "$work"
"$doge" quantize --model tests/data/tiny-model --out-dir "$work/tiny-q8" 2>/dev/null
for d in f32 bf16 q8; do
  "$doge" dev random-checkpoint --shape doge-20m --seed 1 --dtype "$d" --out "$work/d20m-$d" >/dev/null 2>&1
  cp "$tok"/tokenizer*.json "$tok"/special_tokens_map.json "$work/d20m-$d/" 2>/dev/null || cp "$tok"/tokenizer.json "$work/d20m-$d/"
done
kld() {  # base-model new-model ctx label
  "$doge" perplexity --model "$1" --file "$text" --ctx "$3" --save-logits "$work/base.bin" >/dev/null 2>&1
  echo "### $4"
  "$doge" perplexity --model "$2" --file "$text" --ctx "$3" --kl-divergence-base "$work/base.bin" 2>/dev/null
}
kld tests/data/tiny-model "$work/tiny-q8" 32 "tiny-model: q8 vs f32"
kld "$work/d20m-f32" "$work/d20m-bf16" 512 "doge-20m (random, Doge tokenizer): bf16 vs f32"
kld "$work/d20m-f32" "$work/d20m-q8" 512 "doge-20m (random, Doge tokenizer): q8 vs f32"
evalrun() {  # model out
  "$doge" eval --model "$1" --tasks card --data-dir "$data" --allow-count-mismatch --limit "$limit" \
    --threads 2 --out "$2" >/dev/null 2>&1
}
evalrun tests/data/tiny-model "$work/eval-tiny-f32"
evalrun "$work/tiny-q8" "$work/eval-tiny-q8"
echo "### tiny-model card metrics: q8 vs f32 (--limit $limit)"
"$doge" report compare "$work/eval-tiny-f32" "$work/eval-tiny-q8" --force 2>&1 || true
evalrun "$work/d20m-f32" "$work/eval-d20m-f32"
evalrun "$work/d20m-q8" "$work/eval-d20m-q8"
echo "### doge-20m (random) card metrics: q8 vs f32 (--limit $limit)"
"$doge" report compare "$work/eval-d20m-f32" "$work/eval-d20m-q8" --force 2>&1 || true
