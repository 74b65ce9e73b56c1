#include "benchmarks/peak_probe.h"

#include "benchmarks/peak_probe_isa.h"
#include "engine/base/kernel_isa.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace doge {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Written once at the end of every probe so the compiler cannot drop the work.
volatile float g_sink = 0;
// Read at run time so the compiler cannot fold the FMA chains into constants.
volatile float g_fma_mul = 0.9999999f, g_fma_add = 1e-7f, g_fma_init = 1.0f;

// The probe loops of the widest ISA this machine runs (engine/base/kernel_isa.h): the machine's
// limits, whichever kernels the process was told to use.
struct ProbeLoops {
  const char* (*name)();
  double (*fma)(int64_t, float, float, float, volatile float&);
  float (*read)(const float*, int64_t);
};

const ProbeLoops& Loops() {
  static const ProbeLoops loops = [] {
    switch (AvailableKernelIsas().back()) {
#ifdef DOGE_KERNEL_ISA_AVX512
      case KernelIsa::kAvx512:
        return ProbeLoops{avx512::ProbeIsaName, avx512::FmaChains, avx512::ReadSum};
#endif
#ifdef DOGE_KERNEL_ISA_AVX2
      case KernelIsa::kAvx2:
        return ProbeLoops{avx2::ProbeIsaName, avx2::FmaChains, avx2::ReadSum};
#endif
      default:
        return ProbeLoops{portable::ProbeIsaName, portable::FmaChains, portable::ReadSum};
    }
  }();
  return loops;
}

double FmaChains(int64_t iters) {
  return Loops().fma(iters, g_fma_init, g_fma_mul, g_fma_add, g_sink);
}

float ReadSum(const float* p, int64_t n) { return Loops().read(p, n); }

// A compiler barrier between passes: without it the compiler may see that ReadSum of an
// unchanged buffer is loop-invariant and read the buffer once instead of `passes` times.
inline void ClobberMemory() { asm volatile("" : : : "memory"); }

int ClampThreads(int n_threads) { return std::max(1, n_threads); }

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

}  // namespace

const char* FmaProbeIsa() { return Loops().name(); }

ProbeResult MeasureFmaPeak(int n_threads, const ProbeOptions& options) {
  n_threads = ClampThreads(n_threads);
  // Calibrate on one thread: double the iteration count until one run lasts long enough.
  int64_t iters = 1024;
  for (;;) {
    auto t0 = Clock::now();
    FmaChains(iters);
    if (SecondsSince(t0) >= options.seconds_per_run || iters > (int64_t{1} << 40)) break;
    iters *= 2;
  }
  ProbeResult r;
  for (int rep = 0; rep < std::max(1, options.repetitions); ++rep) {
    double flops = 0;
    auto t0 = Clock::now();
#pragma omp parallel num_threads(n_threads) reduction(+ : flops)
    { flops += FmaChains(iters); }
    double s = SecondsSince(t0);
    r.samples.push_back(flops / s / 1e9);
  }
  r.median = Median(r.samples);
  return r;
}

ProbeResult MeasureReadBandwidth(int64_t working_set_bytes, int n_threads,
                                 const ProbeOptions& options) {
  n_threads = ClampThreads(n_threads);
  // Every slice is a multiple of 64 floats (256 B, the unroll of ReadSum) and the whole set a
  // multiple of 4 KiB.
  const int64_t granule = 64 * n_threads;
  int64_t n = std::max<int64_t>(working_set_bytes, 4096) / static_cast<int64_t>(sizeof(float));
  n = (n + 1023) / 1024 * 1024;
  n = (n + granule - 1) / granule * granule;
  const int64_t slice = n / n_threads;
  // 2 MiB-aligned and marked for transparent huge pages, as the engine's packed weights are
  // (engine/weights.h): scattered 4 KiB pages stream slower, and a bound measured on them would
  // be one the engine can beat.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + kHuge - 1) / kHuge * kHuge;
  std::unique_ptr<float, AlignedFree> buf(static_cast<float*>(std::aligned_alloc(kHuge, bytes)));
  if (!buf) return ProbeResult{};
  madvise(buf.get(), bytes, MADV_HUGEPAGE);  // best effort
  float* data = buf.get();
  // First touch by the thread that later reads the slice.
#pragma omp parallel for num_threads(n_threads) schedule(static, 1)
  for (int t = 0; t < n_threads; ++t) {
    float* p = data + t * slice;
    for (int64_t i = 0; i < slice; ++i) p[i] = 1e-6f * static_cast<float>(i & 1023);
  }
  const double bytes_per_pass = static_cast<double>(n) * sizeof(float);
  auto run = [&](int64_t passes) {
    float total = 0;
#pragma omp parallel num_threads(n_threads) reduction(+ : total)
    {
#ifdef _OPENMP
      const int t = omp_get_thread_num();
#else
      const int t = 0;
#endif
      float s = 0;
      for (int64_t p = 0; p < passes; ++p) {
        s += ReadSum(data + t * slice, slice);
        ClobberMemory();
      }
      total += s;
    }
    g_sink = total;
  };
  run(1);  // warm-up: caches (for small sets), TLB, the OpenMP team
  // Calibrate on the calling thread over one slice (each thread's share of a run): double the
  // pass count until the work alone lasts seconds_per_run. Calibrating the parallel run instead
  // would count the fork/join of the region, which on a loaded machine can take milliseconds,
  // and stop at far too few passes.
  int64_t passes = 1;
  for (;;) {
    auto t0 = Clock::now();
    float s = 0;
    for (int64_t p = 0; p < passes; ++p) {
      s += ReadSum(data, slice);
      ClobberMemory();
    }
    g_sink = s;
    if (SecondsSince(t0) >= options.seconds_per_run || passes >= (int64_t{1} << 40)) break;
    passes *= 2;
  }
  ProbeResult r;
  for (int rep = 0; rep < std::max(1, options.repetitions); ++rep) {
    auto t0 = Clock::now();
    run(passes);
    double s = SecondsSince(t0);
    r.samples.push_back(bytes_per_pass * static_cast<double>(passes) / s / 1e9);
  }
  r.median = Median(r.samples);
  return r;
}

int64_t PeakCache::Bucket(int64_t working_set_bytes) {
  int64_t b = 4096;
  while (b < working_set_bytes) b *= 2;
  return b;
}

double PeakCache::FmaGflops(int n_threads) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fma_.find(n_threads);
  if (it != fma_.end()) return it->second;
  double v = MeasureFmaPeak(n_threads, options_).median;
  fma_[n_threads] = v;
  return v;
}

double PeakCache::ReadGBs(int64_t working_set_bytes, int n_threads) {
  const int64_t bucket = Bucket(working_set_bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(n_threads, bucket);
  auto it = bw_.find(key);
  if (it != bw_.end()) return it->second;
  double v = MeasureReadBandwidth(bucket, n_threads, options_).median;
  bw_[key] = v;
  return v;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double StdDev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = Mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

}  // namespace doge
