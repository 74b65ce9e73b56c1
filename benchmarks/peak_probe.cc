#include "benchmarks/peak_probe.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif
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

// Runs `iters` iterations of kFmaChains independent FMA chains; returns flops done.
// Why 12 chains: FMA latency is 4-5 cycles with two FMA pipes on current x86 cores, so at least
// 10 independent accumulators are needed to keep both pipes busy; 12 still fits the 16 ymm
// registers of AVX2 (AVX-512 has 32 zmm, we use 16 there). The multiplier/addend keep every
// accumulator near 1.0 (fixed point add / (1 - mul)), so no denormals or overflow slow it down.
double FmaChains(int64_t iters) {
#if defined(__AVX512F__)
  constexpr int kChains = 16;
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(g_fma_init + 0.001f * c);
  const __m512 mul = _mm512_set1_ps(g_fma_mul), add = _mm512_set1_ps(g_fma_add);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], mul, add);
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  g_sink = _mm512_reduce_add_ps(s);
  return 2.0 * 16 * kChains * static_cast<double>(iters);
#elif defined(__AVX2__) && defined(__FMA__)
  constexpr int kChains = 12;
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(g_fma_init + 0.001f * c);
  const __m256 mul = _mm256_set1_ps(g_fma_mul), add = _mm256_set1_ps(g_fma_add);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
  }
  __m256 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  g_sink = lanes[0] + lanes[7];
  return 2.0 * 8 * kChains * static_cast<double>(iters);
#elif defined(__SSE2__)
  // x86-64 baseline (the portable CI build): no FMA instruction, so each step is a separate
  // multiply and add, counted as 2 flops per lane like an FMA. 12 chains cover the 3+3 cycle
  // latency at two multiplies and two adds per cycle.
  constexpr int kChains = 12;
  __m128 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm_set1_ps(g_fma_init + 0.001f * c);
  const __m128 mul = _mm_set1_ps(g_fma_mul), add = _mm_set1_ps(g_fma_add);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], mul), add);
  }
  __m128 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm_add_ps(s, acc[c]);
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, s);
  g_sink = lanes[0] + lanes[3];
  return 2.0 * 4 * kChains * static_cast<double>(iters);
#else
  // Portable fallback: separate multiply and add (the build uses -ffp-contract=off), 32 lanes in
  // independent accumulators that the compiler vectorizes with whatever SIMD it has. Counted as 2
  // flops per lane-step, like an FMA, so the number is comparable (and honestly lower).
  constexpr int kLanes = 32;
  float acc[kLanes];
  for (int c = 0; c < kLanes; ++c) acc[c] = g_fma_init + 0.001f * c;
  const float mul = g_fma_mul, add = g_fma_add;
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 32
    for (int c = 0; c < kLanes; ++c) acc[c] = acc[c] * mul + add;
  }
  g_sink = std::accumulate(acc, acc + kLanes, 0.0f);
  return 2.0 * kLanes * static_cast<double>(iters);
#endif
}

// Sums `n` floats (n a multiple of 64) with several independent accumulators, so the loop is
// limited by loads, not by add latency.
float ReadSum(const float* p, int64_t n) {
#if defined(__AVX512F__)
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i < n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
#elif defined(__AVX2__)
  __m256 a[8];
  for (auto& v : a) v = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 64) {
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) a[k] = _mm256_add_ps(a[k], _mm256_load_ps(p + i + 8 * k));
  }
  for (int k = 1; k < 8; ++k) a[0] = _mm256_add_ps(a[0], a[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, a[0]);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
#else
  float acc[64] = {0};
  for (int64_t i = 0; i < n; i += 64) {
    for (int k = 0; k < 64; ++k) acc[k] += p[i + k];
  }
  return std::accumulate(acc, acc + 64, 0.0f);
#endif
}

// A compiler barrier between passes: without it the compiler may see that ReadSum of an
// unchanged buffer is loop-invariant and read the buffer once instead of `passes` times.
inline void ClobberMemory() { asm volatile("" : : : "memory"); }

int ClampThreads(int n_threads) { return std::max(1, n_threads); }

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

}  // namespace

const char* FmaProbeIsa() {
#if defined(__AVX512F__)
  return "avx512f";
#elif defined(__AVX2__) && defined(__FMA__)
  return "avx2+fma";
#elif defined(__SSE2__)
  return "sse2 (mul+add)";
#else
  return "scalar";
#endif
}

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
