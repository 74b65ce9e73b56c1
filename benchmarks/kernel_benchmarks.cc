#include "benchmarks/kernel_benchmarks.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "benchmarks/peak_probe.h"
#include "engine/base/error.h"
#include "engine/base/fingerprint.h"
#include "engine/base/json_writer.h"
#include "engine/base/kernel_isa.h"
#include "engine/kernels/kernel_cases.h"
#include "engine/kernels/kernel_set.h"

namespace doge {

namespace {

int MaxThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// The thread count a kernel set runs with: reference kernels are plain single-threaded loops,
// optimized kernels open an OpenMP team of omp_get_max_threads() (kernel_set.h). Each case is
// compared with the peak at that thread count.
int ThreadsOf(const KernelSet& set) { return &set == &ReferenceKernels() ? 1 : MaxThreads(); }

void BenchKernel(benchmark::State& state, const KernelCase& c, const KernelSet* set,
                 PeakCache* peaks) {
  std::unique_ptr<KernelCaseRunner> runner;
  try {
    runner = std::make_unique<KernelCaseRunner>(c, /*seed=*/42);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const int threads = ThreadsOf(*set);
  const double bytes = c.bytes ? c.bytes(c.dims) : 0;
  const double flops = c.flops ? c.flops(c.dims) : 0;
  // Probes are memoized per (threads, size bucket): only the first benchmark of a bucket pays,
  // and it pays here, outside the timed loop.
  const double peak_gbs = peaks->ReadGBs(static_cast<int64_t>(bytes), threads);
  const double peak_gflops = peaks->FmaGflops(threads);
  runner->Run(*set);  // warm-up: caches hold the inputs as they will in the timed loop
  for (auto _ : state) {
    runner->Run(*set);
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  using benchmark::Counter;
  // kIsRate counters are divided by the measured time; values in 1e9 units give GB/s, GFLOP/s.
  // The percentages use the same trick: (work / peak-per-second) / seconds * 100.
  state.counters["GB/s"] = Counter(iters * bytes / 1e9, Counter::kIsRate);
  state.counters["GFLOP/s"] = Counter(iters * flops / 1e9, Counter::kIsRate);
  state.counters["%peak_GB/s"] =
      Counter(peak_gbs > 0 ? iters * bytes / (peak_gbs * 1e9) * 100 : 0, Counter::kIsRate);
  state.counters["%peak_GFLOP/s"] =
      Counter(peak_gflops > 0 ? iters * flops / (peak_gflops * 1e9) * 100 : 0, Counter::kIsRate);
  state.counters["peak_GB/s"] = Counter(peak_gbs);
  state.counters["threads"] = Counter(threads);
  state.SetBytesProcessed(static_cast<int64_t>(iters * bytes));
}

// Strips "--doge_probe_reps=" and "--doge_probe_ms=" from argv; throws on bad values.
ProbeOptions TakeProbeFlags(int* argc, char** argv) {
  ProbeOptions o;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    const char* a = argv[i];
    auto value = [&](const char* prefix) -> const char* {
      const size_t n = std::strlen(prefix);
      return std::strncmp(a, prefix, n) == 0 ? a + n : nullptr;
    };
    if (const char* v = value("--doge_probe_reps=")) {
      char* end = nullptr;
      long r = std::strtol(v, &end, 10);
      if (*end || r < 1 || r > 1000) {
        throw Error(ErrorKind::kUsage, "", "--doge_probe_reps",
                    std::string("expected an integer in [1, 1000], got '") + v + "'");
      }
      o.repetitions = static_cast<int>(r);
    } else if (const char* v = value("--doge_probe_ms=")) {
      char* end = nullptr;
      double ms = std::strtod(v, &end);
      if (*end || !(ms > 0) || ms > 10000) {
        throw Error(ErrorKind::kUsage, "", "--doge_probe_ms",
                    std::string("expected milliseconds in (0, 10000], got '") + v + "'");
      }
      o.seconds_per_run = ms / 1000.0;
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
  return o;
}

}  // namespace

int RunKernelBenchmarks(int argc, char** argv) {
  // argv must stay valid for Google Benchmark; copy it so that we may drop our own flags.
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  int n = argc;
  ProbeOptions probe = TakeProbeFlags(&n, args.data());
  // One cache and one case list for the whole run, owned here until the process exits: the
  // registered benchmarks keep pointers to them (function-local statics rather than a
  // deliberate leak, which LeakSanitizer reports in the asan preset).
  static std::unique_ptr<PeakCache> peak_cache;
  peak_cache = std::make_unique<PeakCache>(probe);
  PeakCache* peaks = peak_cache.get();
  static std::unique_ptr<std::vector<KernelCase>> case_list;
  case_list = std::make_unique<std::vector<KernelCase>>(AllKernelCases());
  const std::vector<KernelCase>* cases = case_list.get();
  for (const KernelSet* set : {&ReferenceKernels(), &OptimizedKernels()}) {
    for (const KernelCase& c : *cases) {
      benchmark::RegisterBenchmark(
          ("kernel/" + c.kernel + "/" + c.vars + "/" + set->name).c_str(),
          [&c, set, peaks](benchmark::State& s) { BenchKernel(s, c, set, peaks); })
          ->UseRealTime();
    }
  }

  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;

  // Context: what machine and build produced the numbers, and the FMA peaks (measured now, at
  // start-up; bandwidth peaks depend on each case's size and are per-row counters).
  JsonWriter fw;
  WriteFingerprintJson(fw, GetMachineFingerprint());
  benchmark::AddCustomContext("doge_schema", "doge.bench.kernels/1");
  benchmark::AddCustomContext("doge_fingerprint", fw.str());
  benchmark::AddCustomContext("doge_threads", std::to_string(MaxThreads()));
  benchmark::AddCustomContext("doge_fma_isa", FmaProbeIsa());
  benchmark::AddCustomContext("doge_kernel_isa", KernelIsaName(ActiveKernelIsa()));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", peaks->FmaGflops(1));
  benchmark::AddCustomContext("doge_peak_fma_gflops_1t", buf);
  if (MaxThreads() > 1) {
    std::snprintf(buf, sizeof buf, "%.2f", peaks->FmaGflops(MaxThreads()));
    benchmark::AddCustomContext("doge_peak_fma_gflops_" + std::to_string(MaxThreads()) + "t",
                                buf);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace doge
