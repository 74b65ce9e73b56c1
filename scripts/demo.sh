#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, and runs the main job on the bundled
# default: the tiny Doge checkpoint in tests/data/tiny-model (random weights, b-dense layout, the
# synthetic-512 tokenizer) scored five-shot on the bundled dataset samples, ending with a
# model-card-style table. Output goes to out/demo/ (results.json, details/, bench.json, card.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset ci >/dev/null
cmake --build --preset ci -j"$jobs" --target doge
doge=build/ci/doge
out=out/demo
rm -rf "$out"
mkdir -p "$out"
echo
echo "== doge info: the bundled tiny model"
"$doge" info --model tests/data/tiny-model
echo
echo "== doge eval: model-card tasks, 5-shot, on the bundled samples"
"$doge" eval --model tests/data/tiny-model --tasks card --data-dir tests/data/datasets-canonical \
  --out-dir "$out" --allow-count-mismatch
echo
echo "== doge bench e2e: CPU tokens/s of the same model (prefill 64, decode 32 tokens)"
"$doge" bench e2e --model tests/data/tiny-model -p 64 -n 32 -t "$jobs" -r 3 --format json > "$out/bench.json"
echo "wrote $out/bench.json"
echo
echo "== doge report card: the model-card table (random weights: expect chance-level numbers)"
"$doge" report card "$out/results.json" --bench "$out/bench.json" -o "$out/card.md"
cat "$out/card.md"
