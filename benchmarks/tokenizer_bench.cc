// doge_tokenizer_bench: tokenizer throughput on a mixed-text corpus built from texts
// in the repository: the 440 tokenizer corpus strings (English, code, CJK, emoji, long runs...)
// plus every string field of the canonical dataset samples under tests/data/datasets-canonical
// (MMLU, ARC, HellaSwag, PIQA, ... questions and choices: what evaluation actually tokenizes).
// Each string is one Encode call, as the task layer calls it. Reports MB/s (SetBytesProcessed)
// and tokens/s. Run: build-tok/benchmarks/doge_tokenizer_bench [--benchmark_min_time=1]
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/file_util.h"
#include "engine/tokenizer/hf_tokenizer.h"
#include "engine/tokenizer/tokenizer.h"

namespace doge {
namespace {

const std::string kData = DOGE_TOKENIZER_BENCH_DATA;  // <repo>/tests/data

void CollectStrings(simdjson::dom::element e, std::vector<std::string>* out) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING: {
      std::string_view s = e.get_string().value();
      if (!s.empty()) out->emplace_back(s);
      break;
    }
    case simdjson::dom::element_type::ARRAY: {
      const simdjson::dom::array arr = e.get_array().value();
      for (simdjson::dom::element x : arr) CollectStrings(x, out);
      break;
    }
    case simdjson::dom::element_type::OBJECT: {
      const simdjson::dom::object obj = e.get_object().value();
      for (auto field : obj) CollectStrings(field.value, out);
      break;
    }
    default:
      break;
  }
}

void CollectJsonl(const std::string& path, std::vector<std::string>* out) {
  simdjson::dom::parser parser;
  const std::string text = ReadFileToString(path);
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin) {
      simdjson::dom::element rec;
      if (parser.parse(text.substr(begin, end - begin)).get(rec) == simdjson::SUCCESS) {
        CollectStrings(rec, out);
      }
    }
    begin = end + 1;
  }
}

// The corpus, built once. Throws doge::Error when the data is missing.
const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> corpus = [] {
    std::vector<std::string> docs;
    CollectJsonl(kData + "/tokenizer/corpus_input.jsonl", &docs);
    const std::string canonical = kData + "/datasets-canonical";
    if (std::filesystem::is_directory(canonical)) {
      std::vector<std::string> files;
      for (const auto& f : std::filesystem::recursive_directory_iterator(canonical)) {
        if (f.path().extension() == ".jsonl") files.push_back(f.path().string());
      }
      std::sort(files.begin(), files.end());  // deterministic order
      for (const auto& f : files) CollectJsonl(f, &docs);
    }
    return docs;
  }();
  return corpus;
}

size_t CorpusBytes() {
  size_t n = 0;
  for (const auto& d : Corpus()) n += d.size();
  return n;
}

void BM_Encode(benchmark::State& state, const std::string& fixture, bool cache) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> tokenizers;  // shared by threads
  std::unique_ptr<Tokenizer>* tok = nullptr;
  try {
    if (state.thread_index() == 0) {
      auto& slot = tokenizers[fixture + (cache ? "/cache" : "/nocache")];
      if (!slot) {
        slot = LoadTokenizer(kData + "/tokenizer/" + fixture);
        if (auto* hf = dynamic_cast<HfTokenizer*>(slot.get())) hf->SetCacheEnabled(cache);
      }
    }
    Corpus();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  // Threads start together after thread 0's setup (Google Benchmark's barrier at the loop).
  const auto& docs = Corpus();
  int64_t tokens = 0;
  for (auto _ : state) {
    if (tok == nullptr) tok = &tokenizers[fixture + (cache ? "/cache" : "/nocache")];
    for (const auto& d : docs) {
      auto ids = (*tok)->Encode(d, true);
      tokens += static_cast<int64_t>(ids.size());
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(CorpusBytes()));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["docs"] = static_cast<double>(docs.size());
}

void BM_Decode(benchmark::State& state, const std::string& fixture) {
  std::unique_ptr<Tokenizer> tok;
  std::vector<std::vector<int32_t>> encoded;
  size_t bytes = 0;
  try {
    tok = LoadTokenizer(kData + "/tokenizer/" + fixture);
    for (const auto& d : Corpus()) encoded.push_back(tok->Encode(d, true));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  int64_t tokens = 0;
  for (auto _ : state) {
    for (const auto& ids : encoded) {
      std::string text = tok->Decode(ids, false, tok->clean_up_tokenization_spaces());
      bytes += text.size();
      tokens += static_cast<int64_t>(ids.size());
      benchmark::DoNotOptimize(text.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

// Warm cache is the steady state of an evaluation run (the same words recur); no_cache shows
// the cost of the regex + BPE merges alone. Single-thread rates are per CPU second (the default
// accounting): on the shared 2-core build machine wall time mostly measures other processes, and
// the target (>= 20 MB/s single-threaded) is a per-core figure. The 2-thread run, which checks
// that the shared cache scales, is timed on the wall clock (UseRealTime), as threads require.
BENCHMARK_CAPTURE(BM_Encode, doge_cache, std::string("doge"), true);
BENCHMARK_CAPTURE(BM_Encode, doge_cache, std::string("doge"), true)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Encode, doge_no_cache, std::string("doge"), false);
BENCHMARK_CAPTURE(BM_Encode, gpt2_cache, std::string("gpt2"), true);
BENCHMARK_CAPTURE(BM_Decode, doge, std::string("doge"));

}  // namespace
}  // namespace doge

BENCHMARK_MAIN();
