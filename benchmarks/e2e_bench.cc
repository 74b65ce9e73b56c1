// doge_e2e_bench: prefill (e2e/pp512) and decode (e2e/tg128) tokens/s as Google Benchmarks, on a
// checkpoint folder or a generated random checkpoint of a Doge shape. `doge bench e2e` is the
// llama-bench-shaped front end with bounds, lists and md/json/csv; this binary exists so the
// end-to-end path is timed (and smoke-tested in ctest) by the same harness as the kernels.
//
// Flags of ours (removed before Google Benchmark parses the rest):
//   --doge_model=DIR      checkpoint folder, or
//   --doge_shape=NAME     random checkpoint of doge-20m (default) | doge-60m | doge-160m | doge-320m
//   --doge_pp=N           prompt length of the prefill benchmark (default 512)
//   --doge_tg=N           decode steps of the generation benchmark (default 128)
// Threads: OMP_NUM_THREADS.
//
// Timed region: pp N is one forward call over N pre-drawn token ids from an empty KV cache with
// last-token logits; tg N is N single-token calls from an empty cache (BOS, then pre-drawn random
// ids), full logits each step. Token ids are drawn, and the cache emptied, outside the timed
// region (PauseTiming); no tokenizer, no sampling. One untimed warm-up run happens first.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/bench_model.h"
#include "benchmarks/peak_probe.h"
#include "engine/base/error.h"
#include "engine/base/fingerprint.h"
#include "engine/base/json_writer.h"

namespace {

std::vector<int32_t> Tokens(int n, const doge::E2eModelInfo& info, uint64_t seed) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;  // PCG step (LCG part)
    t[static_cast<size_t>(i)] =
        i == 0 ? info.bos_id : static_cast<int32_t>(3 + (seed >> 33) % (info.vocab_size - 3));
  }
  return t;
}

void BenchPrefill(benchmark::State& state, doge::BenchModel* bm, int n) {
  doge::EngineE2eTarget target(bm->model(), n);
  const auto tokens = Tokens(n, bm->info(), 1);
  target.Prefill(tokens);  // warm-up
  for (auto _ : state) {
    state.PauseTiming();
    target.Reset();
    state.ResumeTiming();
    target.Prefill(tokens);
  }
  state.SetItemsProcessed(state.iterations() * n);
  const double flops = bm->info().cost.PrefillFlopsPerToken(n) * n;
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * flops / 1e9, benchmark::Counter::kIsRate);
}

void BenchDecode(benchmark::State& state, doge::BenchModel* bm, int n) {
  doge::EngineE2eTarget target(bm->model(), n);
  const auto tokens = Tokens(n, bm->info(), 2);
  for (int32_t t : tokens) target.Decode(t);  // warm-up
  for (auto _ : state) {
    state.PauseTiming();
    target.Reset();
    state.ResumeTiming();
    for (int32_t t : tokens) target.Decode(t);
  }
  state.SetItemsProcessed(state.iterations() * n);
  const double bytes = bm->info().cost.DecodeBytesPerToken() * n;
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * bytes / 1e9, benchmark::Counter::kIsRate);
}

const char* Flag(const char* arg, const char* prefix) {
  size_t n = std::strlen(prefix);
  return std::strncmp(arg, prefix, n) == 0 ? arg + n : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, shape, error;
  int pp = 512, tg = 128;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (const char* v = Flag(argv[i], "--doge_model=")) {
      model = v;
    } else if (const char* v = Flag(argv[i], "--doge_shape=")) {
      shape = v;
    } else if (const char* v = Flag(argv[i], "--doge_pp=")) {
      pp = std::atoi(v);
    } else if (const char* v = Flag(argv[i], "--doge_tg=")) {
      tg = std::atoi(v);
    } else {
      args.push_back(argv[i]);
    }
  }
  if (model.empty() && shape.empty()) shape = "doge-20m";
  if (pp < 1 || tg < 1) {
    std::fprintf(stderr, "doge_e2e_bench: error: --doge_pp and --doge_tg must be >= 1\n");
    return 2;
  }
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;

  std::unique_ptr<doge::BenchModel> bm;
  try {
    bm = doge::BenchModel::Open(model, shape, 1);
  } catch (const doge::Error& e) {
    error = e.what();  // the benchmarks report it through SkipWithError
  }
  doge::BenchModel* p = bm.get();
  auto reg = [&](const std::string& name, void (*fn)(benchmark::State&, doge::BenchModel*, int),
                 int len) {
    benchmark::RegisterBenchmark(name.c_str(),
                                 [p, fn, len, error](benchmark::State& s) {
                                   if (!p) {
                                     s.SkipWithError(error.c_str());
                                     for (auto _ : s) {
                                     }
                                     return;
                                   }
                                   fn(s, p, len);
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  };
  reg("e2e/pp" + std::to_string(pp), BenchPrefill, pp);
  reg("e2e/tg" + std::to_string(tg), BenchDecode, tg);

  doge::JsonWriter fw;
  doge::WriteFingerprintJson(fw, doge::GetMachineFingerprint());
  benchmark::AddCustomContext("doge_schema", "doge.bench.e2e_gbench/1");
  benchmark::AddCustomContext("doge_fingerprint", fw.str());
  benchmark::AddCustomContext("doge_model", model.empty() ? shape : model);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
