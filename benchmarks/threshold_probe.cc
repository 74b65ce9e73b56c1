// doge_threshold_probe: the measurement behind engine/kernels/parallel_thresholds.h. For each
// threshold it times the optimized kernel (or the forward pass's own parallel loop) at half, once
// and twice the threshold size, on one and on two OpenMP threads (median of --reps calls), and
// the cost of an empty 2-thread fork/join. Kernels split a call only from their threshold on, so
// below it their 2-thread column equals the 1-thread one; the break-even is where one thread needs
// about twice the fork/join. Run it on a quiet machine (or at high priority) and compare with the
// comments in parallel_thresholds.h.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/kernels/kernel_set.h"
#include "engine/kernels/parallel_thresholds.h"

namespace doge {
namespace {

double MedianMicros(const std::function<void()>& f, int reps) {
  std::vector<double> t;
  for (int i = 0; i < 20; ++i) f();  // warm caches and the thread pool
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<float> Values(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t s = 1;
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<float>((s >> 40) * (1.0 / 16777216.0) - 0.5);
  }
  return v;
}

void SetThreads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

int ThreadNum() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// One row per size: 1-thread and 2-thread medians.
void Row(const char* name, int64_t size, int64_t threshold, int reps,
         const std::function<void()>& f) {
  SetThreads(1);
  const double t1 = MedianMicros(f, reps);
  SetThreads(2);
  const double t2 = MedianMicros(f, reps);
  std::printf("| %s | %lld | %.2fx | %.2f | %.2f | %.2f |\n", name, static_cast<long long>(size),
              static_cast<double>(size) / static_cast<double>(threshold), t1, t2, t2 / t1);
}

struct Packed {
  std::vector<float> w, packed;
  PackedWeights view() const { return {packed.data(), PackedType::kF32}; }
};

Packed MakePacked(int64_t rows, int64_t cols) {
  Packed p{Values(rows * cols), std::vector<float>(static_cast<size_t>(PackedWeightFloats(rows, cols)))};
  PackWeights(p.w.data(), rows, cols, p.packed.data());
  return p;
}

int Run(int reps) {
  const KernelSet& ks = OptimizedKernels();
  volatile int sink = 0;
  const double fork = MedianMicros(
      [&] {
#pragma omp parallel num_threads(2)
        { sink = sink + ThreadNum(); }
      },
      reps);
  std::printf("kernels: %s; empty 2-thread fork/join: %.2f us\n\n", ks.name, fork);
  std::printf("| step | size | of threshold | 1 thread (us) | 2 threads (us) | 2T / 1T |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (int64_t scale : {1, 2, 4}) {  // half, once, twice the threshold
    {
      const int64_t rows = 64 * scale, cols = 256;
      const Packed p = MakePacked(rows, cols);
      std::vector<float> x = Values(cols), o(static_cast<size_t>(rows));
      Row("gemv, packed", rows * cols, kParallelGemvMacs, reps,
          [&] { ks.matvec(p.w.data(), p.view(), x.data(), rows, cols, o.data()); });
    }
    {
      const int64_t n = 4, rows = 32 * scale, cols = 256;
      const Packed p = MakePacked(rows, cols);
      std::vector<float> x = Values(n * cols), o(static_cast<size_t>(n * rows));
      Row("gemm n=4, packed", n * rows * cols, kParallelGemmMacs, reps,
          [&] { ks.matmul(p.w.data(), p.view(), x.data(), n, rows, cols, o.data()); });
    }
    {
      const int64_t rows = 64 * scale, cols = 256;
      std::vector<float> w = Values(rows * cols), x = Values(cols), o(static_cast<size_t>(rows));
      Row("gemv, row-major", rows * cols, kParallelPlainGemmMacs, reps,
          [&] { ks.matvec(w.data(), {}, x.data(), rows, cols, o.data()); });
    }
    {
      const int64_t n = kSwiGluBlock * kParallelSwiGluBlocks / 2 * scale;
      std::vector<float> g = Values(n), u = Values(n), o(static_cast<size_t>(n));
      Row("swiglu", n, kSwiGluBlock * kParallelSwiGluBlocks, reps,
          [&] { ks.swiglu(g.data(), u.data(), n, o.data()); });
    }
    {
      const int64_t n = 1, V = 512 * scale, H = 256;
      const Packed p = MakePacked(V, H);
      std::vector<float> x = Values(n * H);
      std::vector<int64_t> off(static_cast<size_t>(n + 1), 0);
      std::vector<int32_t> argmax(static_cast<size_t>(n));
      Row("vocab_logprob n=1", n * V * H, kParallelVocabMacs, reps, [&] {
        ks.vocab_logprob(p.w.data(), p.view(), x.data(), n, V, H, off.data(), nullptr, nullptr,
                         argmax.data());
      });
    }
    {
      // As DogeModel runs it: heads across threads, here 2 heads x 1 decode query, D = 128.
      const int64_t nh = 2, S = 512 * scale, D = 128;
      std::vector<float> q = Values(nh * D), k = Values(S * D), v = Values(S * D), b = Values(S);
      std::vector<float> scratch(static_cast<size_t>(2 * S)), o(static_cast<size_t>(nh * D));
      const int64_t n_keys = S;
      Row("attention (forward pass)", nh * S * D, kParallelAttentionMacs, reps, [&] {
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t h = 0; h < nh; ++h) {
          ks.attention(q.data() + h * D, D, 1, k.data(), v.data(), D, b.data(), S, &n_keys, D,
                       0.088f, scratch.data() + ThreadNum() * S, o.data() + h * D, D);
        }
      });
    }
    {
      // As DogeModel runs its per-token steps: rows across threads; RMSNorm over H = 256.
      const int64_t T = kParallelRowsTokens / 2 * scale, H = 256;
      std::vector<float> x = Values(T * H), w = Values(H), o(static_cast<size_t>(T * H));
      Row("rms_norm rows (forward pass)", T, kParallelRowsTokens, reps, [&] {
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < T; ++t) ks.rms_norm(x.data() + t * H, w.data(), H, 1e-6f, o.data() + t * H);
      });
    }
  }
  return 0;
}

}  // namespace
}  // namespace doge

int main(int argc, char** argv) {
  int reps = 301;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--reps=", 7) == 0 && std::atoi(argv[i] + 7) > 0) {
      reps = std::atoi(argv[i] + 7);
    } else {
      std::fprintf(stderr, "usage: doge_threshold_probe [--reps=N]\n");
      return 2;
    }
  }
  return doge::Run(reps);
}
