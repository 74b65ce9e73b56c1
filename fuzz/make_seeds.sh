#!/usr/bin/env bash
# Collects the seed corpora of the fuzz targets from the repository's own fixtures (tests/data,
# datasets-manifest, tasks/specs, reports/published) into OUT/<target>/ (default
# build/fuzz/seeds). Nothing here is committed: the seeds are rebuilt from the fixtures each time,
# so they follow the formats as the tests pin them. Large fixtures are cut to their first bytes
# (a header is what those targets parse) to keep every seed under 128 KiB.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/fuzz/seeds}"
rm -rf "$out"
mkdir -p "$out"
td="$root/tests/data"

seed() {  # seed TARGET NAME: copies stdin to OUT/TARGET/NAME
  mkdir -p "$out/$1"
  cat > "$out/$1/$2"
}
# A byte 0..255 as raw output.
byte() { printf "\\$(printf '%03o' "$1")"; }
# The 8-byte little-endian length prefix of a safetensors header of $1 bytes.
le64() {
  local n=$1 i
  for i in 0 1 2 3 4 5 6 7; do byte $(( (n >> (8 * i)) & 255 )); done
}
# safetensors FILE HEADER-JSON DATA-BYTES: header padded with spaces to 8 bytes, as Python does.
safetensors_seed() {
  local header=$2 pad
  pad=$(( (8 - ${#header} % 8) % 8 ))
  header="$header$(printf '%*s' "$pad" '')"
  { le64 ${#header}; printf '%s' "$header"; head -c "$3" /dev/zero; } | seed safetensors "$1"
}

# --- safetensors: small whole files, and the header part of the bundled checkpoints ---------------
safetensors_seed two-f32 '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}' 24
safetensors_seed bf16-i64 '{"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"i":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}' 16
safetensors_seed empty-tensor '{"e":{"dtype":"F16","shape":[0,4],"data_offsets":[0,0]}}' 0
for f in "$td"/doge-tiny/*/model.safetensors "$td"/tiny-model/model.safetensors; do
  name=$(basename "$(dirname "$f")")
  head -c 8192 "$f" | seed safetensors "head-$name"
done

# --- safetensors_index: index files over the target's own shard ------------------------------------
shard=model-00001-of-00001.safetensors
printf '{"metadata":{"total_size":24},"weight_map":{"model.embed_tokens.weight":"%s","model.norm.weight":"%s"}}' \
  "$shard" "$shard" | seed safetensors_index two-tensors
printf '{"weight_map":{"model.norm.weight":"%s"}}' "$shard" | seed safetensors_index one-tensor
printf '{"weight_map":{"model.norm.weight":"../%s"}}' "$shard" | seed safetensors_index escape

# --- config ----------------------------------------------------------------------------------------
for f in "$td"/doge-tiny/*/config.json "$td"/tiny-model/config.json; do
  seed config "$(basename "$(dirname "$f")").json" < "$f"
done

# --- tokenizers -------------------------------------------------------------------------------------
seed tokenizer_json synthetic-512.json < "$td/tiny-model/tokenizer.json"
seed tokenizer_json synthetic-768.json < "$td/tokenizer/synthetic-768/tokenizer.json"
for d in doge gpt2 synthetic-512 synthetic-768; do
  head -c 131072 "$td/tokenizer/$d/tokenizer_config.json" | seed tokenizer_config "$d.json"
done
printf '{"bos_token":{"content":"<|begin_of_text|>","__type":"AddedToken"},"eos_token":"<|end_of_text|>","model_max_length":1000000000000000019884624838656,"clean_up_tokenization_spaces":true}' \
  | seed tokenizer_config llama3-style.json
if command -v spm_train > /dev/null; then
  tmp=$(mktemp -d)
  grep -o '"text": *"[^"]*"' "$td/tokenizer/corpus_input.jsonl" | sed 's/^"text": *"//; s/"$//' > "$tmp/corpus.txt" || true
  for type in unigram bpe; do
    # identity normalization: no 240 KB precompiled NFKC map, so the seed stays ~2 KB.
    if spm_train --input="$tmp/corpus.txt" --model_prefix="$tmp/$type" --vocab_size=150 --model_type=$type \
         --character_coverage=0.98 --normalization_rule_name=identity --hard_vocab_limit=false \
         --minloglevel=2 > /dev/null 2>&1; then
      seed sentencepiece "$type.model" < "$tmp/$type.model"
    fi
  done
  rm -rf "$tmp"
fi
mkdir -p "$out/sentencepiece"

# --- dataset source formats: first byte = index in fuzz_dataset_source.cc's kFormats ---------------
src() {  # src INDEX NAME DATA [LABELS]
  { byte "$1"; cat "$3"; if [ -n "${4:-}" ]; then byte 0; cat "$4"; fi; } | seed dataset_source "$2"
}
ds="$td/datasets"
src 0 arc-easy-test "$ds/arc/ARC-Easy-Test.jsonl"
src 0 arc-challenge-train "$ds/arc/ARC-Challenge-Train.jsonl"
src 1 obqa-dev "$ds/openbookqa/dev.jsonl"
src 2 piqa-train "$ds/piqa/train.jsonl" "$ds/piqa/train-labels.lst"
src 2 piqa-valid "$ds/piqa/valid.jsonl" "$ds/piqa/valid-labels.lst"
src 3 winogrande-dev "$ds/winogrande/dev.jsonl" "$ds/winogrande/dev-labels.lst"
src 3 winogrande-train-nolabels "$ds/winogrande/train_l.jsonl"
src 4 hellaswag-val "$ds/hellaswag/hellaswag_val.jsonl"
src 5 mmlu-anatomy-test "$ds/mmlu/test/anatomy_test.csv"
src 5 mmlu-law-dev "$ds/mmlu/dev/professional_law_dev.csv"
src 6 triviaqa-dev "$ds/triviaqa/wikipedia-dev.json"

# --- canonical JSONL: first byte = index in data::DatasetNames() -----------------------------------
i=0
for d in arc_easy arc_challenge piqa hellaswag openbookqa winogrande mmlu triviaqa; do
  for f in $(find "$td/datasets-canonical/$d" -name '*.jsonl' | sort); do
    { byte $i; cat "$f"; } | seed canonical_jsonl "$d-$(basename "$(dirname "$f")")-$(basename "$f" .jsonl)"
  done
  i=$((i + 1))
done

# The round trip reads the same files with the same first byte.
cp -r "$out/canonical_jsonl" "$out/canonical_roundtrip"

# --- manifests and lock files -----------------------------------------------------------------------
for f in "$root"/datasets-manifest/*.json; do seed dataset_manifest "$(basename "$f")" < "$f"; done
sha=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
printf '{"comment":"x","version":1,"entries":{"arc_easy/test":{"sha256":"%s","count":5},"arc_easy:arc_zip":{"sha256":"%s","bytes":680841265,"url":"https://example.org/a.zip"}}}' \
  "$sha" "$sha" | seed dataset_lock two-entries

# --- reports ----------------------------------------------------------------------------------------
for f in "$td"/reports/card/doge-20m.json "$td"/reports/card/doge-160m.json "$td"/reports/card/tiny.json \
         "$root"/reports/published/doge-model-card.json; do
  seed results "$(basename "$f")" < "$f"
done
for f in "$td"/reports/card/bench-e2e.json "$td"/reports/compare/*.json "$td"/reports/machines/*.json; do
  seed bench_json "$(basename "$f")" < "$f"
done

# --- task specs and --ids ---------------------------------------------------------------------------
for f in "$root"/tasks/specs/*/*.json; do
  seed task_spec "$(basename "$(dirname "$f")")-$(basename "$f")" < "$f"
done
printf '0,5,7' | seed ids plain
printf ' 1 , -2 ,2147483647,-2147483648' | seed ids edges
printf '0,15916,1158,,3' | seed ids empty-item

# --- generation_config.json -------------------------------------------------------------------------
printf '{"_from_model_config":true,"bos_token_id":0,"eos_token_id":1,"transformers_version":"4.47.1"}' \
  | seed generation_config from-model-config
printf '{"repetition_penalty":1.3,"no_repeat_ngram_size":2,"min_new_tokens":2,"suppress_tokens":[5,7,99],"begin_suppress_tokens":[9,-1]}' \
  | seed generation_config all-applied
printf '{"do_sample":true,"temperature":0.7,"top_p":0.9,"top_k":1,"penalty_alpha":0.6,"num_beams":1,"bad_words_ids":null,"min_length":0}' \
  | seed generation_config sampling-and-off-values
printf '{"num_beams":4,"eos_token_id":[1,2],"pad_token_id":null}' | seed generation_config unsupported

# --- eval compare: results.json NUL base details NUL new details -------------------------------------
sha=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
results=$(printf '{"schema":"doge.results/1","model":{"sha256":{"model.safetensors":"%s"}},"tokenizer":{"sha256":"%s"},"protocol":"card-a","limit":2,"tasks":{"arc_easy":{"protocol":"card-a","version":1,"k":0,"split":"test","dataset_sha256":{"test.jsonl":"%s"},"metrics":{"acc":0.5,"acc_norm":1.0},"stderr":{"acc":0.5,"acc_norm":0.0}},"piqa":{"protocol":"card-a","version":1,"k":0,"split":"validation","dataset_sha256":{"validation.jsonl":"%s"},"metrics":{"acc":0.5}}}}' \
  "$sha" "$sha" "$sha" "$sha")
base='{"task":"arc_easy","doc_index":0,"logprobs":[-1.5,-2.25,-0.75,-3.0],"prediction":2,"metrics":{"acc":1,"acc_norm":1}}
{"task":"arc_easy","doc_index":1,"logprobs":[-0.5,-2.0],"prediction":0,"metrics":{"acc":0,"acc_norm":1}}'
new='{"task":"arc_easy","doc_index":0,"logprobs":[-1.5,-2.25,-0.7,-3.0],"prediction":2,"metrics":{"acc":1,"acc_norm":1}}
{"task":"arc_easy","doc_index":1,"logprobs":[-2.5,-2.0],"prediction":1,"metrics":{"acc":1,"acc_norm":0}}'
{ printf '%s' "$results"; byte 0; printf '%s\n' "$base"; byte 0; printf '%s\n' "$new"; } | seed eval_compare two-tasks
{ printf '%s' "$results"; byte 0; printf '%s\n' "$base"; } | seed eval_compare same-details
gen='{"task":"triviaqa","doc_index":0,"logprobs":[],"prediction":"Paris","metrics":{"qem":1}}'
{ printf '{"schema":"doge.results/1","model":{"sha256":"x"},"tokenizer":{"sha256":"y"},"protocol":"card-b","limit":null,"tasks":{"mmlu":{"protocol":"card-b","version":2,"k":5,"split":"test","dataset_sha256":{},"metrics":{"qem":0.0}}}}'
  byte 0; printf '%s\n' "$gen"; byte 0; printf '%s\n' "${gen/Paris/Rome}"; } | seed eval_compare generative

# --- hub responses: model info NUL HEAD headers NUL refs/main NUL snapshot config.json ----------------
commit=0123456789abcdef0123456789abcdef01234567
info=$(printf '{"id":"Org/name","sha":"%s","siblings":[{"rfilename":".gitattributes"},{"rfilename":"README.md"},{"rfilename":"config.json"},{"rfilename":"model.safetensors"},{"rfilename":"tokenizer.json"},{"rfilename":"onnx/model.safetensors"}]}' "$commit")
lfs=$(printf 'HTTP/1.1 302 Found\nX-Repo-Commit: %s\nX-Linked-Etag: "%s"\nX-Linked-Size: 1234\nETag: W/"abc"\nLocation: https://cdn.example/x\n' "$commit" "$sha")
small=$(printf 'HTTP/1.1 200 OK\nx-repo-commit: %s\netag: "0a1b2c3d"\ncontent-length: 42\n' "$commit")
{ printf '%s' "$info"; byte 0; printf '%s' "$lfs"; byte 0; printf '%s' "$commit"; byte 0; cat "$td/tiny-model/config.json"; } \
  | seed hub_responses lfs-file
{ printf '%s' "$info"; byte 0; printf '%s' "$small"; byte 0; printf '%s\n' "$commit"; byte 0; printf '{"model_type":"doge"}'; } \
  | seed hub_responses small-file
{ printf '{"sha":"%s","siblings":[{"rfilename":"../config.json"},{"rfilename":"model.safetensors"}]}' "$commit"; byte 0
  printf 'HTTP/1.1 100 Continue\nHTTP/1.1 200 OK\nETag: ../../x\n'; byte 0; printf 'main'; } | seed hub_responses unsafe-names

# --- the --kl-divergence-base file: magic, length, JSON header, records, end marker ---------------
kld() {  # kld NAME STORAGE VOCAB TOP_K N_POSITIONS: records of zero bytes (log-probabilities 0)
  local header record
  header=$(printf '{"schema":"doge.kld-base/1","convention":"llama","ctx":32,"vocab_size":%d,"n_positions":%d,"n_windows":1,"storage":"%s","top_k":%d,"model_shape":"512/64/128/2/2/1/0/B","weights_sha256":"%s","tokenizer_sha256":"%s","text_sha256":"%s","text_bytes":100,"tokens_sha256":"%s","model_path":"m","text_path":"t"}' \
    "$3" "$5" "$2" "$4" "$sha" "$sha" "$sha" "$sha")
  if [ "$2" = full ]; then record=$((16 + 8 * $3)); else record=$((16 + 12 * $4 + 8)); fi
  { printf 'DOGEKLD1'; le64 ${#header}; printf '%s' "$header"; head -c $((record * $5)) /dev/zero; printf 'DOGEKEND'; } \
    | seed kld_base "$1"
}
kld full-v8 full 8 0 3
kld topk-v16-k4 top-k 16 4 5
kld empty full 4 0 0
echo "$out"
