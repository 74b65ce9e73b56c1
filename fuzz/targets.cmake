# The fuzz targets and the library each one links: NAME:LIBRARY, one per target (fuzz/fuzz_NAME.cc).
# Read by fuzz/CMakeLists.txt (the libFuzzer builds) and scripts/fuzz.sh (the names).
set(DOGE_FUZZ_TARGETS
  safetensors:doge_engine
  safetensors_index:doge_engine
  config:doge_engine
  tokenizer_json:doge_tokenizer
  tokenizer_config:doge_tokenizer
  sentencepiece:doge_tokenizer
  dataset_source:doge_data
  canonical_jsonl:doge_data
  canonical_roundtrip:doge_data
  dataset_manifest:doge_data
  dataset_lock:doge_data
  results:doge_reports
  bench_json:doge_reports
  task_spec:doge_tasks
  ids:doge_fuzz_cli
  eval_compare:doge_reports
  generation_config:doge_engine
  hub_responses:doge_data
  kld_base:doge_engine
)
