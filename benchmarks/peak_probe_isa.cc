// The probes' inner loops (peak_probe.h), compiled once per instruction set like the kernels
// (doge_isa_objects, top-level CMakeLists.txt), so the probe measures the widest FMA and load this
// machine has, whatever the binary's baseline flags. No shared inline or template code here (see
// engine/kernels/kernel_internal.h).
#include <stdint.h>

#if !defined(DOGE_KERNEL_PORTABLE) && (defined(__AVX512F__) || defined(__AVX2__))
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "benchmarks/peak_probe_isa.h"

#ifndef DOGE_KERNEL_NS
#error "DOGE_KERNEL_NS must name the ISA namespace"
#endif

namespace doge {
namespace DOGE_KERNEL_NS {
namespace {

[[maybe_unused]] float SumOf(const float* a, int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += a[i];
  return s;
}

#if !defined(DOGE_KERNEL_PORTABLE) && defined(__AVX512F__)
// Through memory rather than _mm512_reduce_add_ps, whose GCC 12 expansion trips
// -Wuninitialized (its "undefined" operand is initialised from itself).
float Lanes16Sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  return SumOf(lanes, 16);
}
#endif

}  // namespace

const char* ProbeIsaName() {
#if !defined(DOGE_KERNEL_PORTABLE) && defined(__AVX512F__)
  return "avx512f";
#elif !defined(DOGE_KERNEL_PORTABLE) && defined(__AVX2__) && defined(__FMA__)
  return "avx2+fma";
#elif defined(__SSE2__)
  return "sse2 (mul+add)";
#else
  return "scalar";
#endif
}

// Runs `iters` iterations of kFmaChains independent FMA chains; returns flops done.
// Why 12 chains: FMA latency is 4-5 cycles with two FMA pipes on current x86 cores, so at least
// 10 independent accumulators are needed to keep both pipes busy; 12 still fits the 16 ymm
// registers of AVX2 (AVX-512 has 32 zmm, we use 16 there). The multiplier/addend keep every
// accumulator near 1.0 (fixed point add / (1 - mul)), so no denormals or overflow slow it down.
double FmaChains(int64_t iters, float fma_init, float fma_mul, float fma_add,
                 volatile float& sink) {
#if !defined(DOGE_KERNEL_PORTABLE) && defined(__AVX512F__)
  constexpr int kChains = 16;
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(fma_init + 0.001f * c);
  const __m512 mul = _mm512_set1_ps(fma_mul), add = _mm512_set1_ps(fma_add);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], mul, add);
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  sink = Lanes16Sum(s);
  return 2.0 * 16 * kChains * static_cast<double>(iters);
#elif !defined(DOGE_KERNEL_PORTABLE) && defined(__AVX2__) && defined(__FMA__)
  constexpr int kChains = 12;
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(fma_init + 0.001f * c);
  const __m256 mul = _mm256_set1_ps(fma_mul), add = _mm256_set1_ps(fma_add);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
  }
  __m256 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  sink = lanes[0] + lanes[7];
  return 2.0 * 8 * kChains * static_cast<double>(iters);
#elif defined(__SSE2__)
  // x86-64 baseline (the portable CI build): no FMA instruction, so each step is a separate
  // multiply and add, counted as 2 flops per lane like an FMA. 12 chains cover the 3+3 cycle
  // latency at two multiplies and two adds per cycle.
  constexpr int kChains = 12;
  __m128 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm_set1_ps(fma_init + 0.001f * c);
  const __m128 mul = _mm_set1_ps(fma_mul), add = _mm_set1_ps(fma_add);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], mul), add);
  }
  __m128 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm_add_ps(s, acc[c]);
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, s);
  sink = lanes[0] + lanes[3];
  return 2.0 * 4 * kChains * static_cast<double>(iters);
#else
  // Portable fallback: separate multiply and add (the build uses -ffp-contract=off), 32 lanes in
  // independent accumulators that the compiler vectorizes with whatever SIMD it has. Counted as 2
  // flops per lane-step, like an FMA, so the number is comparable (and honestly lower).
  constexpr int kLanes = 32;
  float acc[kLanes];
  for (int c = 0; c < kLanes; ++c) acc[c] = fma_init + 0.001f * c;
  const float mul = fma_mul, add = fma_add;
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 32
    for (int c = 0; c < kLanes; ++c) acc[c] = acc[c] * mul + add;
  }
  sink = SumOf(acc, kLanes);
  return 2.0 * kLanes * static_cast<double>(iters);
#endif
}

// Sums `n` floats (n a multiple of 64) with several independent accumulators, so the loop is
// limited by loads, not by add latency.
float ReadSum(const float* p, int64_t n) {
#if !defined(DOGE_KERNEL_PORTABLE) && defined(__AVX512F__)
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i < n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
  }
  return Lanes16Sum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
#elif !defined(DOGE_KERNEL_PORTABLE) && defined(__AVX2__)
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
  return SumOf(acc, 64);
#endif
}

}  // namespace DOGE_KERNEL_NS
}  // namespace doge
