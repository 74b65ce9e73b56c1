// Optimized kernels, one translation unit compiled once per instruction set (engine/CMakeLists.txt
// sets DOGE_KERNEL_NS to portable, avx2 or avx512 and the matching -march level; kernel_isa.h
// chooses between them at run time):
//   avx512  GEMV with one 16-lane FMA chain per packed block; GEMM micro-kernel of 2 blocks (32
//           weight rows) x 12 inputs in 24 zmm accumulators; 16-lane exp for the vocabulary step.
//   avx2    GEMV with two 8-lane chains per block; GEMM micro-kernel of 1 block x 6 inputs.
//           Attention, softmax and SwiGLU are the AVX2 code in both x86 builds.
//   portable  plain loops (GCC vectorises them with the baseline SSE2), Eigen for large
//           row-major products.
// Every projection output element is ONE sequential FMA chain over k from 0, in GEMV and GEMM and
// in the avx2 and avx512 builds alike: decode, prefill and scoring rows are bit-identical whatever
// the batch, the blocking, the thread count or the x86 ISA. Work is split across output rows only
// (kernel_set.h determinism contract).
//
// This file must not emit weak definitions that other translation units share (see
// kernel_internal.h): no std:: templates or <cmath> inline overloads; Min/Max/Exp below, C math.
//
// Eigen's own OpenMP parallelisation is disabled: its blocking sizes depend on the thread count,
// which would make results depend on it. We parallelise over fixed chunks ourselves instead.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cstddef>

#if !defined(DOGE_KERNEL_PORTABLE) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define DOGE_OPT_AVX2 1
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#define DOGE_OPT_AVX512 1
#endif
#endif
#ifndef DOGE_OPT_AVX2
#define EIGEN_DONT_PARALLELIZE
#include <Eigen/Core>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/kernels/kernel_internal.h"
#include "engine/kernels/parallel_thresholds.h"
#include "engine/kernels/kernel_set.h"
#include "engine/kernels/q8.h"

#ifndef DOGE_KERNEL_NS
#error "DOGE_KERNEL_NS must name the ISA namespace (engine/CMakeLists.txt)"
#endif

namespace doge {
namespace DOGE_KERNEL_NS {
namespace {

template <typename T>
inline T Min(T a, T b) {
  return b < a ? b : a;
}
template <typename T>
inline T Max(T a, T b) {
  return a < b ? b : a;
}

// Whether a region opened here would split work over more than one thread: not inside another
// region (nesting is off) and more than one thread configured. Every split below also checks it
// before opening a region at all: libgomp 12 spends ~0.3 µs entering one even under if(false) or
// for a team of one, and a one-thread decode step of Doge-20M went through ~60 of them.
bool Splittable() {
#ifdef _OPENMP
  return omp_in_parallel() == 0 && omp_get_max_threads() > 1;
#else
  return false;
#endif
}

int TeamSize(bool par) {
#ifdef _OPENMP
  return par ? omp_get_max_threads() : 1;
#else
  return 1;
#endif
}

constexpr float kNegInf = -__builtin_inff();

#ifdef DOGE_OPT_AVX2
// Horizontal sum of 8 lanes in a fixed order.
inline float Hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);                         // 4 lanes
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));      // 2 lanes
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));  // 1 lane
  return _mm_cvtss_f32(lo);
}

// The per-element summation order of row-major products (callers without a packed copy: the
// CDMoE router, the kernel tests) and of attention scores: two 8-lane FMA accumulators over
// 16-float steps, one more 8-float step into the first, a scalar tail, then (acc0 + acc1) summed
// across lanes in a fixed order, plus the tail. DotBlock computes R x C such dot products at once
// (R weight rows, C input rows) with exactly this order per element, so a row's result is
// bit-identical whether it is computed alone, in a small batch or by any thread; blocking only
// adds independent FMA chains (2·R·C of them) to cover FMA latency and share loads.
template <int R, int C>
inline void DotBlock(const float* const* w, const float* const* x, int64_t n, float* out,
                     int64_t out_stride) {
  __m256 acc0[R][C], acc1[R][C];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc0[r][c] = acc1[r][c] = _mm256_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 xa[C], xb[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      xa[c] = _mm256_loadu_ps(x[c] + i);
      xb[c] = _mm256_loadu_ps(x[c] + i + 8);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 wa = _mm256_loadu_ps(w[r] + i), wb = _mm256_loadu_ps(w[r] + i + 8);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        acc0[r][c] = _mm256_fmadd_ps(wa, xa[c], acc0[r][c]);
        acc1[r][c] = _mm256_fmadd_ps(wb, xb[c], acc1[r][c]);
      }
    }
  }
  if (i + 8 <= n) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 wa = _mm256_loadu_ps(w[r] + i);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        acc0[r][c] = _mm256_fmadd_ps(wa, _mm256_loadu_ps(x[c] + i), acc0[r][c]);
      }
    }
    i += 8;
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      float tail = 0.0f;
      for (int64_t j = i; j < n; ++j) tail += w[r][j] * x[c][j];
      out[c * out_stride + r] = Hsum(_mm256_add_ps(acc0[r][c], acc1[r][c])) + tail;
    }
  }
}

// out[t, r] for weight rows [r0, r1) and input rows [0, n): blocks of 2 weight rows x 3 inputs
// (12 FMA chains), edges with smaller blocks. out: [n, out_stride].
void RowsTimesInputs(const float* w, const float* x, int64_t n, int64_t r0, int64_t r1,
                     int64_t cols, float* out, int64_t out_stride) {
  for (int64_t r = r0; r < r1; r += 2) {
    const float* wr[2] = {w + r * cols, w + (r + 1 < r1 ? r + 1 : r) * cols};
    const bool pair = r + 1 < r1;
    int64_t t = 0;
    for (; t + 3 <= n; t += 3) {
      const float* xs[3] = {x + t * cols, x + (t + 1) * cols, x + (t + 2) * cols};
      if (pair) {
        DotBlock<2, 3>(wr, xs, cols, out + t * out_stride + r, out_stride);
      } else {
        DotBlock<1, 3>(wr, xs, cols, out + t * out_stride + r, out_stride);
      }
    }
    for (; t < n; ++t) {
      const float* xs[1] = {x + t * cols};
      if (pair) {
        DotBlock<2, 1>(wr, xs, cols, out + t * out_stride + r, out_stride);
      } else {
        DotBlock<1, 1>(wr, xs, cols, out + t * out_stride + r, out_stride);
      }
    }
  }
}

// exp(x) for 8 lanes, Cephes-style: x = k·ln2 + r with |r| <= ln2/2, degree-5 polynomial for
// e^r, 2^k from the exponent bits. Max relative error ~2 ulp; inputs below -87.3 (where expf
// would be denormal) and -inf return exactly 0.
inline __m256 Exp8(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365478515625f);
  const __m256 keep = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);
  x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  // r = x - fx·ln2, with ln2 split in two parts so the product is exact enough.
  __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i k = _mm256_cvttps_epi32(fx);
  k = _mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23);
  // Below the clamp (including -inf: masked attention keys) the result is exactly 0.
  return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(k)), keep);
}

// Maximum of x[0..n) (-inf for n = 0): 8-lane vector max, then the lanes and the tail.
inline float MaxAvx2(const float* x, int64_t n) {
  float mx = kNegInf;
  int64_t i = 0;
  if (n >= 8) {
    __m256 m = _mm256_loadu_ps(x);
    for (i = 8; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m);
    for (float f : lanes) mx = f > mx ? f : mx;
  }
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

// First index of x[0..n) equal to v (n if none).
inline int64_t FirstEqual(const float* x, int64_t n, float v) {
  const __m256 vv = _mm256_set1_ps(v);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    if (_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + j), vv, _CMP_EQ_OQ))) break;
  }
  for (; j < n && x[j] != v; ++j) {
  }
  return j;
}

#ifdef DOGE_OPT_AVX512
// Exp8 on 16 lanes: the same operations lane by lane, so the same bits.
inline __m512 Exp16(__m512 x) {
  const __m512 hi = _mm512_set1_ps(88.3762626647949f), lo = _mm512_set1_ps(-87.3365478515625f);
  const __mmask16 keep = _mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ);
  x = _mm512_max_ps(_mm512_min_ps(x, hi), lo);
  __m512 fx = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f));
  fx = _mm512_roundscale_ps(fx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  __m512i k = _mm512_cvttps_epi32(fx);
  k = _mm512_slli_epi32(_mm512_add_epi32(k, _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mov_ps(keep, _mm512_mul_ps(y, _mm512_castsi512_ps(k)));
}
#endif

// Σ exp(x[i] - mx) over x[0..n): float exps (Exp8, ~2 ulp) widened to float64 and summed in four
// double accumulators combined in a fixed order, then a float64 tail.
inline double SumExpAvx2(const float* x, int64_t n, float mx) {
  int64_t k = 0;
#ifdef DOGE_OPT_AVX512
  // The same four accumulators, two per zmm (lanes 0-3 = d0 or d2, 4-7 = d1 or d3), the same
  // sums lane by lane: the same bits as the AVX2 loop below.
  {
    const __m512 vmx = _mm512_set1_ps(mx);
    __m512d d01 = _mm512_setzero_pd(), d23 = _mm512_setzero_pd();
    for (; k + 16 <= n; k += 16) {
      const __m512 e = Exp16(_mm512_sub_ps(_mm512_loadu_ps(x + k), vmx));
      d01 = _mm512_add_pd(d01, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
      d23 = _mm512_add_pd(d23, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    alignas(64) double a[8], b[8];
    _mm512_store_pd(a, d01);
    _mm512_store_pd(b, d23);
    double dl[4];
    for (int i = 0; i < 4; ++i) dl[i] = (a[i] + a[i + 4]) + (b[i] + b[i + 4]);
    double sum = (dl[0] + dl[1]) + (dl[2] + dl[3]);
    for (; k < n; ++k) sum += exp(static_cast<double>(x[k]) - static_cast<double>(mx));
    return sum;
  }
#endif
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256d d0 = _mm256_setzero_pd(), d1 = d0, d2 = d0, d3 = d0;
  for (; k + 16 <= n; k += 16) {
    const __m256 e0 = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + k), vmx));
    const __m256 e1 = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + k + 8), vmx));
    d0 = _mm256_add_pd(d0, _mm256_cvtps_pd(_mm256_castps256_ps128(e0)));
    d1 = _mm256_add_pd(d1, _mm256_cvtps_pd(_mm256_extractf128_ps(e0, 1)));
    d2 = _mm256_add_pd(d2, _mm256_cvtps_pd(_mm256_castps256_ps128(e1)));
    d3 = _mm256_add_pd(d3, _mm256_cvtps_pd(_mm256_extractf128_ps(e1, 1)));
  }
  alignas(32) double dl[4];
  _mm256_store_pd(dl, _mm256_add_pd(_mm256_add_pd(d0, d1), _mm256_add_pd(d2, d3)));
  double sum = (dl[0] + dl[1]) + (dl[2] + dl[3]);
  for (; k < n; ++k) sum += exp(static_cast<double>(x[k]) - static_cast<double>(mx));
  return sum;
}
#else
// Dot product with 8 independent partial sums (vectorisable without -ffast-math), combined in a
// fixed order.
inline float Dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) + tail;
}

void RowsTimesInputs(const float* w, const float* x, int64_t n, int64_t r0, int64_t r1,
                     int64_t cols, float* out, int64_t out_stride) {
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t t = 0; t < n; ++t) out[t * out_stride + r] = Dot(w + r * cols, x + t * cols, cols);
  }
}
#endif

// ---- Row-major matrices (callers without a packed copy) -------------------------------------

// Row chunk of the thread split (a multiple of 2 so weight-row pairs never straddle threads;
// numerics do not depend on it either way).
constexpr int64_t kRowChunk = 64;

// n input rows against weight rows in fixed chunks: RowsTimesInputs (the DotBlock order).
void SmallBatch(const float* w, const float* x, int64_t n, int64_t rows, int64_t cols, float* out) {
  const int64_t n_chunks = (rows + kRowChunk - 1) / kRowChunk;
  if (!Splittable() || n * rows * cols < kParallelPlainGemmMacs) {
    RowsTimesInputs(w, x, n, 0, rows, cols, out, rows);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < n_chunks; ++ch) {
    const int64_t r0 = ch * kRowChunk, r1 = Min(rows, r0 + kRowChunk);
    RowsTimesInputs(w, x, n, r0, r1, cols, out, rows);
  }
}

#ifndef DOGE_OPT_AVX2
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Up to this many input rows the portable product uses the dot order above; larger n goes to
// Eigen's blocked GEMM.
constexpr int64_t kSmallN = 32;
#endif

void RowMajorMatMul(const float* w, const float* x, int64_t n, int64_t rows, int64_t cols,
                    float* out) {
#ifndef DOGE_OPT_AVX2
  if (n > kSmallN) {
    // Fixed 64-row chunks of W: each chunk is one single-threaded Eigen GEMM whose shape (and so
    // blocking and summation order) never depends on the number of threads.
    const int64_t n_chunks = (rows + kRowChunk - 1) / kRowChunk;
    [[maybe_unused]] const bool par = Splittable();
    Eigen::Map<const RowMat> xm(x, n, cols);
#pragma omp parallel for schedule(static) if (par)
    for (int64_t ch = 0; ch < n_chunks; ++ch) {
      const int64_t r0 = ch * kRowChunk;
      const int64_t rc = Min(kRowChunk, rows - r0);
      Eigen::Map<const RowMat> wc(w + r0 * cols, rc, cols);
      Eigen::Map<RowMat, 0, Eigen::OuterStride<>> oc(out + r0, n, rc, Eigen::OuterStride<>(rows));
      oc.noalias() = xm * wc.transpose();
    }
    return;
  }
#endif
  SmallBatch(w, x, n, rows, cols, out);
}

// ---- Packed weights (what DogeModel uses) ---------------------------------------------------
// Layout (kernel_set.h): blocks of 32 weight rows, each block k-major, so one k step of a block
// is 128 bytes (two lines); a block is two 16-row panels side by side.

#if defined(DOGE_OPT_AVX512)
// Input rows per micro-kernel call (a group, broadcast from their own rows) and 16-row panels
// per micro-kernel call: a whole block (2 panels) x 12 inputs = 24 zmm accumulators; per k two
// loads, twelve broadcasts, twenty-four FMAs.
constexpr int64_t kGroup = 12;
constexpr int kMicroPanels = 2;
#elif defined(DOGE_OPT_AVX2)
// One panel (16 rows) x 6 inputs = 12 ymm accumulators; per k two loads, six broadcasts, twelve
// FMAs.
constexpr int64_t kGroup = 6;
constexpr int kMicroPanels = 1;
#endif

// Element i of a packed matrix of type kT, widened to float32 (exact for all three types).
// [[maybe_unused]]: the AVX-512 set widens whole vectors and instantiates no F16 WidenOne, which
// clang reports.
[[maybe_unused]] inline float HalfToFloat(uint16_t h) {
#ifdef DOGE_OPT_AVX2
  return _cvtsh_ss(h);
#else
  // IEEE binary16 -> binary32 by hand (normal, subnormal, inf/NaN).
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {
    exp = 113;
    while ((man & 0x400u) == 0) {
      man <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((man & 0x3FFu) << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
#endif
}

template <PackedType kT>
inline float WidenOne(const void* base, int64_t i) {
  if (kT == PackedType::kF32) return static_cast<const float*>(base)[i];
  const uint16_t v = static_cast<const uint16_t*>(base)[i];
  if (kT == PackedType::kF16) return HalfToFloat(v);
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

#ifdef DOGE_OPT_AVX2
// 8 elements from element i, widened to float32.
template <PackedType kT>
inline __m256 Load8(const void* base, int64_t i) {
  if (kT == PackedType::kF32) return _mm256_loadu_ps(static_cast<const float*>(base) + i);
  const __m128i h =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + i));
  if (kT == PackedType::kF16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
#endif
#ifdef DOGE_OPT_AVX512
// 16 elements from element i, widened to float32.
template <PackedType kT>
inline __m512 Load16(const void* base, int64_t i) {
  if (kT == PackedType::kF32) return _mm512_loadu_ps(static_cast<const float*>(base) + i);
  const __m256i h =
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(base) + i));
  // The maskz forms: GCC 12's unmasked ones take an "undefined" operand initialised from itself,
  // which -Wmaybe-uninitialized reports.
  const __mmask16 all = 0xFFFF;
  if (kT == PackedType::kF16) return _mm512_maskz_cvtph_ps(all, h);
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(all, _mm512_maskz_cvtepu16_epi32(all, h), 16));
}
#endif

#ifdef DOGE_OPT_AVX2
// Stores the first `valid` of 16 lanes held in two 8-lane halves. [[maybe_unused]]: the AVX-512
// set stores whole zmm registers instead, which clang reports.
[[maybe_unused]] inline void Store16(float* o, __m256 lo, __m256 hi, int64_t valid) {
  if (valid >= 16) {
    _mm256_storeu_ps(o, lo);
    _mm256_storeu_ps(o + 8, hi);
    return;
  }
  alignas(32) float tmp[16];
  _mm256_store_ps(tmp, lo);
  _mm256_store_ps(tmp + 8, hi);
  for (int64_t i = 0; i < valid; ++i) o[i] = tmp[i];
}

// GEMV over blocks [b0, b1): one block at a time (one sequential stream), its 32 rows in
// independent FMA chains (2 zmm or 4 ymm), each one element's chain over k. Two chains per line
// pair rather than one per 16-row line: from L3 (a 2-thread decode whose weights fit the cache)
// the single chain's 4-cycle FMA latency was the limit. No software prefetch: the packed copy
// sits in 2 MiB pages, where the hardware prefetcher runs ahead by itself (an in-loop prefetch
// 1 KiB ahead measured 15% slower streaming 52 MB on a Zen 4; it had paid off on 4 KiB pages).
// BF16/F16 blocks are widened in the loop, as they stream in (half the bytes of float32).
// BF16 GEMV without a widening shuffle: a k step of a block is one 64-byte line of 32 BF16
// values; as 32-bit lanes, `lane << 16` is the even row's float32 and `lane & 0xFFFF0000` the odd
// row's (two cheap ALU ops instead of vpmovzxwd, a cross-lane shuffle, per 16 rows). The
// accumulators then hold the even and the odd rows; they are put back in row order once per block.
// Each row is still one FMA chain over k with the same values, so the bits equal the f32 path's.
// One block at a time, one sequential stream: two blocks in flight (four zmm or eight ymm chains,
// two streams 32·K·2 bytes apart) ran Doge-20M bf16 decode at 1 thread 30–40% slower end to end
// (AVX-512 930–990 t/s against 1,300–1,430 for one block; AVX2 705–830 against 1,220–1,330;
// idle Zen 4, 2026-12-07), though it won in an L1-resident microbenchmark.
void PackedGemvBf16Blocks(const void* wp, const float* x, int64_t b0, int64_t b1, int64_t rows,
                          int64_t K, float* out) {
  const auto* base = static_cast<const uint16_t*>(wp);
#ifdef DOGE_OPT_AVX512
  const __m512i odd_mask = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  // Even rows in e (lane i = row 2i), odd rows in o -> rows 0..15 and 16..31.
  const __m512i idx0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i idx1 =
      _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  auto store = [&](int64_t b, __m512 e, __m512 o) {
    const __m512 u = _mm512_unpacklo_ps(e, o), w = _mm512_unpackhi_ps(e, o);
    const __m512 r0 = _mm512_permutex2var_ps(u, idx0, w), r1 = _mm512_permutex2var_ps(u, idx1, w);
    const int64_t valid = rows - b * kPackRows, v1 = valid - 16;
    float* ob = out + b * kPackRows;
    _mm512_mask_storeu_ps(ob, valid >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1), r0);
    if (v1 > 0) {
      _mm512_mask_storeu_ps(ob + 16, v1 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << v1) - 1), r1);
    }
  };
  for (int64_t b = b0; b < b1; ++b) {
    const uint16_t* p0 = base + b * kPackRows * K;
    __m512 e0 = _mm512_setzero_ps(), o0 = e0;
    for (int64_t k = 0; k < K; ++k) {
      const __m512 xb = _mm512_set1_ps(x[k]);
      const __m512i v0 = _mm512_loadu_si512(p0 + k * kPackRows);
      e0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v0, 16)), xb, e0);
      o0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v0, odd_mask)), xb, o0);
    }
    store(b, e0, o0);
  }
#else
  const __m256i odd_mask = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  // e/o: even/odd rows of one 16-row half (lane i = row 2i / 2i + 1) -> rows 0..7 and 8..15.
  auto unshuffle = [](__m256 e, __m256 o, __m256* r0, __m256* r1) {
    const __m256 u = _mm256_unpacklo_ps(e, o), w = _mm256_unpackhi_ps(e, o);
    *r0 = _mm256_permute2f128_ps(u, w, 0x20);
    *r1 = _mm256_permute2f128_ps(u, w, 0x31);
  };
  for (int64_t b = b0; b < b1; ++b) {
    const uint16_t* p0 = base + b * kPackRows * K;
    __m256 e0 = _mm256_setzero_ps(), o0 = e0, e1 = e0, o1 = e0;
    for (int64_t k = 0; k < K; ++k) {
      const __m256 xb = _mm256_broadcast_ss(x + k);
      const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0 + k * kPackRows));
      const __m256i v1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0 + k * kPackRows + 16));
      e0 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v0, 16)), xb, e0);
      o0 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(v0, odd_mask)), xb, o0);
      e1 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v1, 16)), xb, e1);
      o1 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(v1, odd_mask)), xb, o1);
    }
    __m256 r0, r1, r2, r3;
    unshuffle(e0, o0, &r0, &r1);
    unshuffle(e1, o1, &r2, &r3);
    const int64_t valid = rows - b * kPackRows;
    float* ob = out + b * kPackRows;
    Store16(ob, r0, r1, valid);
    if (valid > 16) Store16(ob + 16, r2, r3, valid - 16);
  }
#endif
}

template <PackedType kT>
void PackedGemvBlocks(const void* wp, const float* x, int64_t b0, int64_t b1, int64_t rows,
                      int64_t K, float* out) {
  if (kT == PackedType::kBF16) {
    PackedGemvBf16Blocks(wp, x, b0, b1, rows, K, out);
    return;
  }
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t pb = b * kPackRows * K;  // element index of the block
    const int64_t valid = rows - b * kPackRows;
    float* o = out + b * kPackRows;
#ifdef DOGE_OPT_AVX512
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; ++k) {
      const __m512 xb = _mm512_set1_ps(x[k]);
      a0 = _mm512_fmadd_ps(Load16<kT>(wp, pb + k * kPackRows), xb, a0);
      a1 = _mm512_fmadd_ps(Load16<kT>(wp, pb + k * kPackRows + 16), xb, a1);
    }
    const int64_t v1 = valid - 16;
    _mm512_mask_storeu_ps(o, valid >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1), a0);
    if (v1 > 0) {
      _mm512_mask_storeu_ps(o + 16, v1 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << v1) - 1), a1);
    }
#else
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < K; ++k) {
      const __m256 xb = _mm256_broadcast_ss(x + k);
      const int64_t pk = pb + k * kPackRows;
      a0 = _mm256_fmadd_ps(Load8<kT>(wp, pk), xb, a0);
      a1 = _mm256_fmadd_ps(Load8<kT>(wp, pk + 8), xb, a1);
      a2 = _mm256_fmadd_ps(Load8<kT>(wp, pk + 16), xb, a2);
      a3 = _mm256_fmadd_ps(Load8<kT>(wp, pk + 24), xb, a3);
    }
    Store16(o, a0, a1, valid);
    if (valid > 16) Store16(o + 16, a2, a3, valid - 16);
#endif
  }
}

// Micro-kernel: NP adjacent 16-row panels of one block (pp points at the first panel's lane 0;
// lines kPackRows floats apart) times NT inputs of one group, every output element one FMA chain
// over k. out[i·ldo + j] for input i and row j of the panels; rows past `valid` are not written.
// kStream: also prefetch the next block's lines (the first group of a pass, while the weights
// stream in).
template <int NP, int NT, bool kStream>
void Micro(const float* pp, int64_t K, const float* x, float* out, int64_t ldo, int64_t valid) {
  const int64_t bs = kPackRows * K;  // floats between consecutive blocks
#ifdef DOGE_OPT_AVX512
  __m512 acc[NT][NP];
#pragma GCC unroll 12
  for (int i = 0; i < NT; ++i) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < K; ++k) {
    __m512 w[NP];
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) {
      if (kStream) {
        _mm_prefetch(reinterpret_cast<const char*>(pp + bs + k * kPackRows + 16 * p), _MM_HINT_T0);
      }
      w[p] = _mm512_loadu_ps(pp + k * kPackRows + 16 * p);
    }
#pragma GCC unroll 12
    for (int i = 0; i < NT; ++i) {
      const __m512 xb = _mm512_set1_ps(x[i * K + k]);
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_fmadd_ps(w[p], xb, acc[i][p]);
    }
  }
#pragma GCC unroll 2
  for (int p = 0; p < NP; ++p) {
    const int64_t v = valid - 16 * p;
    if (v <= 0) break;
    const __mmask16 m = v >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << v) - 1);
#pragma GCC unroll 12
    for (int i = 0; i < NT; ++i) _mm512_mask_storeu_ps(out + i * ldo + 16 * p, m, acc[i][p]);
  }
#else
  static_assert(NP == 1, "the AVX2 micro-kernel takes one panel");
  __m256 acc[NT][2];
#pragma GCC unroll 6
  for (int i = 0; i < NT; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    if (kStream) _mm_prefetch(reinterpret_cast<const char*>(pp + bs + k * kPackRows), _MM_HINT_T0);
    const __m256 w0 = _mm256_loadu_ps(pp + k * kPackRows);
    const __m256 w1 = _mm256_loadu_ps(pp + k * kPackRows + 8);
#pragma GCC unroll 6
    for (int i = 0; i < NT; ++i) {
      const __m256 xb = _mm256_broadcast_ss(x + i * K + k);
      acc[i][0] = _mm256_fmadd_ps(w0, xb, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(w1, xb, acc[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < NT; ++i) Store16(out + i * ldo, acc[i][0], acc[i][1], valid);
#endif
}

using MicroFn = void (*)(const float*, int64_t, const float*, float*, int64_t, int64_t);

template <int NP, bool kStream>
MicroFn PickMicro(int64_t nt) {
  switch (nt) {
    case 1:
      return &Micro<NP, 1, kStream>;
    case 2:
      return &Micro<NP, 2, kStream>;
    case 3:
      return &Micro<NP, 3, kStream>;
    case 4:
      return &Micro<NP, 4, kStream>;
    case 5:
      return &Micro<NP, 5, kStream>;
#ifdef DOGE_OPT_AVX512
    case 6:
      return &Micro<NP, 6, kStream>;
    case 7:
      return &Micro<NP, 7, kStream>;
    case 8:
      return &Micro<NP, 8, kStream>;
    case 9:
      return &Micro<NP, 9, kStream>;
    case 10:
      return &Micro<NP, 10, kStream>;
    case 11:
      return &Micro<NP, 11, kStream>;
    default:
      return &Micro<NP, 12, kStream>;
#else
    default:
      return &Micro<NP, 6, kStream>;
#endif
  }
}

MicroFn PickMicro(int np, int64_t nt, bool stream) {
#ifdef DOGE_OPT_AVX512
  if (np == 2) return stream ? PickMicro<2, true>(nt) : PickMicro<2, false>(nt);
#endif
  return stream ? PickMicro<1, true>(nt) : PickMicro<1, false>(nt);
}

// Block b of a 16-bit packed matrix widened to float32 in the same layout (32·K floats): the
// GEMM reads each weight 2·n times, so one conversion per weight into L1/L2 is a small cost and
// the micro-kernels stay float32 only.
template <PackedType kT>
void WidenBlock(const void* wp, int64_t b, int64_t K, float* dst) {
  const int64_t base = b * kPackRows * K, n = kPackRows * K;
#ifdef DOGE_OPT_AVX512
  for (int64_t i = 0; i < n; i += 16) _mm512_storeu_ps(dst + i, Load16<kT>(wp, base + i));
#else
  for (int64_t i = 0; i < n; i += 8) _mm256_storeu_ps(dst + i, Load8<kT>(wp, base + i));
#endif
}

// out[t·ldo + (b - b0)·32 + j] = row 32b + j of W times input t, for blocks [b0, b1) and all n
// inputs x [n, K] (row-major: the micro-kernel broadcasts each input from its own row, so the
// inputs need no repacking). Groups go in passes of at most ~256 KiB, so a pass's inputs stay
// in L2 while each block of weights (L1/L2) is used against all of them.
void GemmBlocks(PackedWeights wp, const float* x, int64_t n, int64_t rows, int64_t K, int64_t b0,
                int64_t b1, float* out, int64_t ldo) {
  const int64_t n_groups = (n + kGroup - 1) / kGroup;
  const int64_t per_pass = Max<int64_t>(1, (256 << 10) / (kGroup * K * 4));
  const bool f32 = wp.type == PackedType::kF32;
  float* widened = f32 ? nullptr : KernelScratch(4, static_cast<size_t>(kPackRows * K));
  for (int64_t g0 = 0; g0 < n_groups; g0 += per_pass) {
    const int64_t g1 = Min(n_groups, g0 + per_pass);
    for (int64_t b = b0; b < b1; ++b) {
      const float* pb;
      if (f32) {
        pb = static_cast<const float*>(wp.data) + b * kPackRows * K;
      } else {
        if (wp.type == PackedType::kBF16) {
          WidenBlock<PackedType::kBF16>(wp.data, b, K, widened);
        } else {
          WidenBlock<PackedType::kF16>(wp.data, b, K, widened);
        }
        pb = widened;
      }
      // The block's 16-row panels kMicroPanels at a time; panels holding no valid row skipped.
      for (int64_t p0 = 0; p0 < kPackRows / 16; p0 += kMicroPanels) {
        const int64_t valid = rows - b * kPackRows - 16 * p0;
        if (valid <= 0) break;
        const int np = valid <= 16 ? 1 : kMicroPanels;
        for (int64_t g = g0; g < g1; ++g) {
          const int64_t nt = Min(kGroup, n - g * kGroup);
          // Prefetching the next block only makes sense in the packed copy itself.
          PickMicro(np, nt, f32 && g == g0)(pb + 16 * p0, K, x + g * kGroup * K,
                                            out + g * kGroup * ldo + (b - b0) * kPackRows + 16 * p0,
                                            ldo, valid);
        }
      }
    }
  }
}

void PackedGemm(PackedWeights wp, const float* x, int64_t n, int64_t rows, int64_t K, float* out) {
  const int64_t n_blocks = (rows + kPackRows - 1) / kPackRows;
  const bool par = Splittable() && n * rows * K >= kParallelGemmMacs;
  const int team = TeamSize(par);
  // Block chunks: a multiple of the team size and equal, so no thread idles at the end.
  const int64_t n_chunks =
      Min<int64_t>(n_blocks, int64_t{team} * ((n_blocks + 4 * team - 1) / (4 * team)));
  const int64_t per_chunk = (n_blocks + n_chunks - 1) / n_chunks;
#pragma omp parallel for num_threads(team) schedule(static) if (par)
  for (int64_t ch = 0; ch < n_chunks; ++ch) {
    const int64_t b0 = ch * per_chunk, b1 = Min(n_blocks, b0 + per_chunk);
    if (b0 < b1) GemmBlocks(wp, x, n, rows, K, b0, b1, out + b0 * kPackRows, rows);
  }
}

template <PackedType kT>
void PackedGemv(const void* wp, const float* x, int64_t rows, int64_t K, float* out) {
  const int64_t n_blocks = (rows + kPackRows - 1) / kPackRows;
  const bool par = Splittable() && rows * K >= kParallelGemvMacs;
  if (!par) {
    PackedGemvBlocks<kT>(wp, x, 0, n_blocks, rows, K, out);
    return;
  }
  // Fixed 2-block (64-row) chunks split statically: each thread streams one contiguous slice.
  const int64_t n_chunks = (n_blocks + 1) / 2;
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < n_chunks; ++ch) {
    PackedGemvBlocks<kT>(wp, x, ch * 2, Min(n_blocks, ch * 2 + 2), rows, K, out);
  }
}

void PackedMatMul(PackedWeights wp, const float* x, int64_t n, int64_t rows, int64_t K,
                  float* out) {
  if (n > 1) {
    PackedGemm(wp, x, n, rows, K, out);
    return;
  }
  switch (wp.type) {
    case PackedType::kF32:
      PackedGemv<PackedType::kF32>(wp.data, x, rows, K, out);
      break;
    case PackedType::kBF16:
      PackedGemv<PackedType::kBF16>(wp.data, x, rows, K, out);
      break;
    case PackedType::kF16:
      PackedGemv<PackedType::kF16>(wp.data, x, rows, K, out);
      break;    case PackedType::kQ8:  // MatVec/MatMul route q8 to Q8MatMul
      break;
  }
}
#else
// Without AVX2: the packed layout read back element by element in the same per-element order
// (one sequential chain per output; separate multiply and add, as -ffp-contract=off builds it).
// out[t·ldo + (b - b0)·32 + j] for blocks [b0, b1).
// 16-bit blocks are widened one k line at a time.
template <PackedType kT>
void PortableBlocksT(const void* wp, const float* x, int64_t n, int64_t rows, int64_t K,
                     int64_t b0, int64_t b1, float* out, int64_t ldo) {
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t pb = b * kPackRows * K;
    const int64_t valid = Min(kPackRows, rows - b * kPackRows);
    for (int64_t t = 0; t < n; ++t) {
      float acc[kPackRows] = {};
      const float* xt = x + t * K;
      for (int64_t k = 0; k < K; ++k) {
        float line[kPackRows];
        for (int64_t i = 0; i < kPackRows; ++i) line[i] = WidenOne<kT>(wp, pb + k * kPackRows + i);
        for (int64_t i = 0; i < kPackRows; ++i) acc[i] += line[i] * xt[k];
      }
      for (int64_t i = 0; i < valid; ++i) out[t * ldo + (b - b0) * kPackRows + i] = acc[i];
    }
  }
}

void PortableBlocks(PackedWeights wp, const float* x, int64_t n, int64_t rows, int64_t K,
                    int64_t b0, int64_t b1, float* out, int64_t ldo) {
  switch (wp.type) {
    case PackedType::kF32:
      PortableBlocksT<PackedType::kF32>(wp.data, x, n, rows, K, b0, b1, out, ldo);
      break;
    case PackedType::kBF16:
      PortableBlocksT<PackedType::kBF16>(wp.data, x, n, rows, K, b0, b1, out, ldo);
      break;
    case PackedType::kF16:
      PortableBlocksT<PackedType::kF16>(wp.data, x, n, rows, K, b0, b1, out, ldo);
      break;    case PackedType::kQ8:  // MatVec/MatMul route q8 to Q8MatMul
      break;
  }
}

void PackedMatMul(PackedWeights wp, const float* x, int64_t n, int64_t rows, int64_t K,
                  float* out) {
  const int64_t n_blocks = (rows + kPackRows - 1) / kPackRows;
  if (!Splittable() || n * rows * K < kParallelPlainGemmMacs) {
    PortableBlocks(wp, x, n, rows, K, 0, n_blocks, out, rows);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < n_blocks; ++b) {
    PortableBlocks(wp, x, n, rows, K, b, b + 1, out + b * kPackRows, rows);
  }
}
#endif

#include "engine/kernels/optimized_q8.inc"

void MatVec(const float* w, PackedWeights packed, const float* x, int64_t rows, int64_t cols,
            float* out) {
  if (packed.data != nullptr && packed.type == PackedType::kQ8) {
    Q8MatMul(packed.data, x, 1, rows, cols, out);
  } else if (packed.data == nullptr) {
    RowMajorMatMul(w, x, 1, rows, cols, out);
  } else {
    PackedMatMul(packed, x, 1, rows, cols, out);
  }
}

void MatMul(const float* w, PackedWeights packed, const float* x, int64_t n, int64_t rows,
            int64_t cols, float* out) {
  if (packed.data != nullptr && packed.type == PackedType::kQ8) {
    Q8MatMul(packed.data, x, n, rows, cols, out);
  } else if (packed.data == nullptr) {
    RowMajorMatMul(w, x, n, rows, cols, out);
  } else {
    PackedMatMul(packed, x, n, rows, cols, out);
  }
}

// mean(x²) in float64 (squares of floats are exact there) over eight partial sums, lane j taking
// the elements i ≡ j (mod 8) in order, combined pairwise, then the tail; the avx2 and avx512
// builds add in exactly this order.
void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double ss = 0.0;
  int64_t i0 = 0;
#if defined(DOGE_OPT_AVX512)
  {
    __m512d acc = _mm512_setzero_pd();
    for (; i0 + 8 <= n; i0 += 8) {
      const __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(x + i0));
      acc = _mm512_add_pd(acc, _mm512_mul_pd(v, v));
    }
    alignas(64) double l[8];
    _mm512_store_pd(l, acc);
    ss = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  }
#elif defined(DOGE_OPT_AVX2)
  {
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (; i0 + 8 <= n; i0 += 8) {
      const __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + i0));
      const __m256d b = _mm256_cvtps_pd(_mm_loadu_ps(x + i0 + 4));
      lo = _mm256_add_pd(lo, _mm256_mul_pd(a, a));
      hi = _mm256_add_pd(hi, _mm256_mul_pd(b, b));
    }
    alignas(32) double l[8];
    _mm256_store_pd(l, lo);
    _mm256_store_pd(l + 4, hi);
    ss = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  }
#endif
  for (int64_t i = i0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float var = static_cast<float>(ss / static_cast<double>(n));
  const float inv = 1.0f / sqrtf(var + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = weight[i] * (x[i] * inv);
}

void Rope(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* z = x + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      const float a = z[j], b = z[j + half];
      z[j] = a * cos[j] - b * sin[j];
      z[j + half] = b * cos[j + half] + a * sin[j + half];
    }
  }
}

void Softmax(float* x, int64_t n) {
#ifdef DOGE_OPT_AVX2
  // Vector max, Exp8 and an 8-lane sum (order fixed by n only); the reference sums sequentially,
  // which differs by float rounding only (kernels_test NMSE).
  const float mx = MaxAvx2(x, n);
  int64_t i;
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256 vs = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmx));
    _mm256_storeu_ps(x + i, e);
    vs = _mm256_add_ps(vs, e);
  }
  float tail = 0.0f;
  for (; i < n; ++i) {
    x[i] = expf(x[i] - mx);
    tail += x[i];
  }
  const float inv = 1.0f / (Hsum(vs) + tail);
  const __m256 vinv = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv));
  for (; i < n; ++i) x[i] *= inv;
#else
  float mx = kNegInf;
  for (int64_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = expf(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
#endif
}

// silu(gate) ⊙ up with the vector Exp8 (~2 ulp) and an exact division; the reference calls expf
// per element. Large negative gates saturate Exp8 at e^88.4 (finite), giving -0-sized values
// where the reference divides by inf.
void SwiGluRange(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
#ifdef DOGE_OPT_AVX2
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = Exp8(_mm256_sub_ps(zero, g));
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, e));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
#endif
  for (; i < n; ++i) out[i] = (gate[i] / (1.0f + expf(-gate[i]))) * up[i];
}

// Prefill-sized inputs ([T, I] at once) are split across threads in fixed blocks.
void SwiGlu(const float* gate, const float* up, int64_t n, float* out) {
  constexpr int64_t kBlock = kSwiGluBlock;
  const int64_t n_blocks = (n + kBlock - 1) / kBlock;
  const bool par = Splittable() && n_blocks >= kParallelSwiGluBlocks;
  if (!par) {
    SwiGluRange(gate, up, n, out);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t i0 = b * kBlock, len = Min(kBlock, n - i0);
    SwiGluRange(gate + i0, up + i0, len, out + i0);
  }
}

#ifdef DOGE_OPT_AVX2
// Scores of C queries against keys [j0, j1): blocks of 2 keys x C queries (DotBlock: the same
// per-element order as one query alone, so a query's scores do not depend on its block).
template <int C>
void ScoresBlock(const float* const* q, const float* k, int64_t kv_stride, int64_t j0, int64_t j1,
                 int64_t head_dim, float* const* s) {
  float tmp[C * 2];
  int64_t j = j0;
  for (; j + 2 <= j1; j += 2) {
    const float* kr[2] = {k + j * kv_stride, k + (j + 1) * kv_stride};
    DotBlock<2, C>(kr, q, head_dim, tmp, 2);
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      s[c][j] = tmp[c * 2];
      s[c][j + 1] = tmp[c * 2 + 1];
    }
  }
  for (; j < j1; ++j) {
    const float* kr = k + j * kv_stride;
    DotBlock<1, C>(&kr, q, head_dim, tmp, 1);
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) s[c][j] = tmp[c];
  }
}

// out_c[d0 .. d0 + 8·NV) = Σ_{j < n_c} p_c[j] v_j for C queries, keys in order, one FMA chain per
// element from 0 (so the same bits as one query alone); a query past its own n_keys adds
// nothing, and p == 0 (a masked key) adds exactly 0.
template <int C, int NV>
void PvBlock(const float* const* p, const int64_t* n, const float* v, int64_t kv_stride, int64_t d0,
             float* const* out) {
  __m256 acc[C][NV];
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) {
#pragma GCC unroll 4
    for (int a = 0; a < NV; ++a) acc[c][a] = _mm256_setzero_ps();
  }
  int64_t n_max = 0, n_min = n[0];
  for (int c = 0; c < C; ++c) {
    n_max = Max(n_max, n[c]);
    n_min = Min(n_min, n[c]);
  }
  int64_t j = 0;
  for (; j < n_min; ++j) {
    const float* vj = v + j * kv_stride + d0;
    __m256 vv[NV];
#pragma GCC unroll 4
    for (int a = 0; a < NV; ++a) vv[a] = _mm256_loadu_ps(vj + 8 * a);
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const __m256 pc = _mm256_set1_ps(p[c][j]);
#pragma GCC unroll 4
      for (int a = 0; a < NV; ++a) acc[c][a] = _mm256_fmadd_ps(pc, vv[a], acc[c][a]);
    }
  }
  for (; j < n_max; ++j) {  // the staircase of a causal block: later queries see more keys
    const float* vj = v + j * kv_stride + d0;
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      if (j >= n[c]) continue;
      const __m256 pc = _mm256_set1_ps(p[c][j]);
#pragma GCC unroll 4
      for (int a = 0; a < NV; ++a) {
        acc[c][a] = _mm256_fmadd_ps(pc, _mm256_loadu_ps(vj + 8 * a), acc[c][a]);
      }
    }
  }
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) {
#pragma GCC unroll 4
    for (int a = 0; a < NV; ++a) _mm256_storeu_ps(out[c] + d0 + 8 * a, acc[c][a]);
  }
}

// Up to 3 queries at a time (2 keys x 3 queries = 12 FMA chains for the scores; 3 queries x 32
// dims = 12 accumulators for P·V).
template <int C>
void AttentionGroup(const float* const* q, const float* k, const float* v, int64_t kv_stride,
                    const float* const* bias, const int64_t* n_keys, int64_t head_dim, float scale,
                    float* const* sc, float* const* out) {
  int64_t n_max = 0;
  for (int c = 0; c < C; ++c) n_max = Max(n_max, n_keys[c]);
  int64_t n_min = n_max;
  for (int c = 0; c < C; ++c) n_min = Min(n_min, n_keys[c]);
  ScoresBlock<C>(q, k, kv_stride, 0, n_min, head_dim, sc);
  for (int c = 0; c < C; ++c) {
    // Keys only some queries see: one query at a time.
    ScoresBlock<1>(q + c, k, kv_stride, n_min, n_keys[c], head_dim, sc + c);
    float* s = sc[c];
    for (int64_t j = 0; j < n_keys[c]; ++j) s[j] = s[j] * scale + bias[c][j];
    Softmax(s, n_keys[c]);
  }
  const float* const* p = sc;
  int64_t d0 = 0;
  for (; d0 + 32 <= head_dim; d0 += 32) PvBlock<C, 4>(p, n_keys, v, kv_stride, d0, out);
  for (; d0 + 8 <= head_dim; d0 += 8) PvBlock<C, 1>(p, n_keys, v, kv_stride, d0, out);
  for (int c = 0; c < C; ++c) {  // head_dim not a multiple of 8: scalar tail, same order
    for (int64_t d = d0; d < head_dim; ++d) {
      float acc = 0.0f;
      for (int64_t j = 0; j < n_keys[c]; ++j) acc = fmaf(p[c][j], v[j * kv_stride + d], acc);
      out[c][d] = acc;
    }
  }
}
#endif

void Attention(const float* q, int64_t q_stride, int64_t nq, const float* k, const float* v,
               int64_t kv_stride, const float* bias, int64_t bias_stride, const int64_t* n_keys,
               int64_t head_dim, float scale, float* scratch, float* out, int64_t out_stride) {
#ifdef DOGE_OPT_AVX2
  for (int64_t i = 0; i < nq; i += 3) {
    const int64_t c = Min<int64_t>(3, nq - i);
    const float* qs[3];
    const float* bs[3];
    float* ss[3];
    float* os[3];
    for (int64_t a = 0; a < c; ++a) {
      qs[a] = q + (i + a) * q_stride;
      bs[a] = bias + (i + a) * bias_stride;
      ss[a] = scratch + (i + a) * bias_stride;
      os[a] = out + (i + a) * out_stride;
    }
    if (c == 3) {
      AttentionGroup<3>(qs, k, v, kv_stride, bs, n_keys + i, head_dim, scale, ss, os);
    } else if (c == 2) {
      AttentionGroup<2>(qs, k, v, kv_stride, bs, n_keys + i, head_dim, scale, ss, os);
    } else {
      AttentionGroup<1>(qs, k, v, kv_stride, bs, n_keys + i, head_dim, scale, ss, os);
    }
  }
#else
  for (int64_t i = 0; i < nq; ++i) {
    const float* qi = q + i * q_stride;
    const float* bi = bias + i * bias_stride;
    float* si = scratch + i * bias_stride;
    float* oi = out + i * out_stride;
    const int64_t nk = n_keys[i];
    for (int64_t j = 0; j < nk; ++j) si[j] = Dot(qi, k + j * kv_stride, head_dim) * scale + bi[j];
    Softmax(si, nk);
    for (int64_t d = 0; d < head_dim; ++d) oi[d] = 0.0f;
    for (int64_t j = 0; j < nk; ++j) {
      const float p = si[j];
      if (p == 0.0f) continue;
      const float* vj = v + j * kv_stride;
      for (int64_t d = 0; d < head_dim; ++d) oi[d] += p * vj[d];
    }
  }
#endif
}

// Statistics of one row segment x[0..n) (n >= 1) for the log-sum-exp: its maximum, the first
// index holding it, and Σ exp(x - max) in float64.
struct SegmentStats {
  float max;
  int32_t argmax;
  double sum_exp;
};

SegmentStats RowSegmentStats(const float* x, int64_t n) {
  SegmentStats s;
#ifdef DOGE_OPT_AVX2
  s.max = MaxAvx2(x, n);
  s.argmax = static_cast<int32_t>(FirstEqual(x, n, s.max));
  s.sum_exp = SumExpAvx2(x, n, s.max);
#else
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (x[i] > x[best]) best = i;
  }
  s.max = x[best];
  s.argmax = static_cast<int32_t>(best);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    sum += exp(static_cast<double>(x[i]) - static_cast<double>(s.max));
  s.sum_exp = sum;
#endif
  return s;
}

// One pass for the max and its first index, one for Σ exp(l - max) (float exps widened to float64
// in the AVX2 builds). Versus the reference's float64 exp per entry the log-sum-exp differs by
// ~1e-7 relative, far inside the scoring goldens' 1e-3.
void LogprobGather(const float* logits, int64_t n, int32_t target, double* logprob,
                   int32_t* argmax) {
#ifdef DOGE_OPT_AVX2
  const SegmentStats s = RowSegmentStats(logits, n);
  *logprob = static_cast<double>(logits[target]) - (static_cast<double>(s.max) + log(s.sum_exp));
  *argmax = s.argmax;
#else
  // The portable build has no faster version: the reference's own loop.
  ReferenceKernels().logprob_gather(logits, n, target, logprob, argmax);
#endif
}

// The fused vocabulary step (kernel_set.h vocab_logprob). The vocabulary is cut into fixed
// chunks of kVocabChunk rows; per chunk the logits of up to kVocabRowBlock rows at a time go into
// a small tile (L2), each row's segment statistics and target logits are taken from it, and the
// tile is reused. Per row,
// the chunks' statistics are then combined in chunk order: M = max of the maxima, S = Σ_c s_c ·
// exp(m_c - M) in float64, lse = M + log S. Chunks are split across threads; everything a row's
// result depends on is fixed by the shapes, so it is the same for any thread count or batch.
constexpr int64_t kVocabChunk = 512;
// Rows per tile within a chunk (a multiple of the GEMM's input groups): the tile, 480 KiB, stays
// in L2 however many rows a call scores, and each block of weights is used against 20 groups.
constexpr int64_t kVocabRowBlock = 240;

void VocabLogprob(const float* w, PackedWeights packed, const float* x, int64_t n, int64_t V,
                  int64_t H, const int64_t* off, const int32_t* tok, double* logprob,
                  int32_t* argmax) {
  if (n <= 0) return;
  const int64_t n_chunks = (V + kVocabChunk - 1) / kVocabChunk;
  // Per (chunk, row) statistics and per target its logit: [n_chunks, n] each, [n_targets].
  const size_t cells = static_cast<size_t>(n_chunks * n);
  static_assert(sizeof(SegmentStats) % sizeof(float) == 0, "SegmentStats in float units");
  SegmentStats* stats = reinterpret_cast<SegmentStats*>(
      KernelScratch(1, cells * (sizeof(SegmentStats) / sizeof(float))));
  float* target_logit = KernelScratch(2, static_cast<size_t>(off[n]) + 1);
  const bool par = Splittable() && n_chunks > 1 && n * V * H >= kParallelVocabMacs;
  [[maybe_unused]] const int team = TeamSize(par);  // read only by the pragma (unused without OpenMP)
  // A q8 head: every row quantized once, here (the calling thread's buffer, read by the team).
  const bool q8 = packed.data != nullptr && packed.type == PackedType::kQ8;
  Q8Rows xq;
  if (q8) {
    xq = QuantizeRowsQ8(x, n, H, KernelScratch(5, static_cast<size_t>(Q8RowsBytes(n, H) / 4)));
  }
#pragma omp parallel num_threads(team) if (par)
  {
    // This thread's tile of logits: [kVocabRowBlock, kVocabChunk].
    float* tile = KernelScratch(3, static_cast<size_t>(Min(n, kVocabRowBlock) * kVocabChunk));
#pragma omp for schedule(static)
    for (int64_t c = 0; c < n_chunks; ++c) {
      const int64_t v0 = c * kVocabChunk, nv = Min(kVocabChunk, V - v0);
      // kVocabChunk is a multiple of the block height, so chunk c's rows are whole blocks.
      const int64_t b0 = v0 / kPackRows, b1 = (v0 + nv + kPackRows - 1) / kPackRows;
      for (int64_t r0 = 0; r0 < n; r0 += kVocabRowBlock) {
        const int64_t nr = Min(kVocabRowBlock, n - r0);
        const float* xr = x + r0 * H;
        if (q8) {
          Q8Panels(packed.data, Q8RowsAt(xq, r0), nr, V, b0, b1, tile, kVocabChunk);
        } else if (packed.data) {
#ifdef DOGE_OPT_AVX2
          GemmBlocks(packed, xr, nr, V, H, b0, b1, tile, kVocabChunk);
#else
          PortableBlocks(packed, xr, nr, V, H, b0, b1, tile, kVocabChunk);
#endif
        } else {
          // Row-major head: the DotBlock order, rows [v0, v0 + nv) into the tile.
          RowsTimesInputs(w + v0 * H, xr, nr, 0, nv, H, tile, kVocabChunk);
        }
        for (int64_t i = r0; i < r0 + nr; ++i) {
          const float* row = tile + (i - r0) * kVocabChunk;
          SegmentStats st = RowSegmentStats(row, nv);
          st.argmax += static_cast<int32_t>(v0);
          stats[c * n + i] = st;
          for (int64_t j = off[i]; j < off[i + 1]; ++j) {
            if (tok[j] >= v0 && tok[j] < v0 + nv) target_logit[j] = row[tok[j] - v0];
          }
        }
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    float mx = kNegInf;
    int32_t best = 0;
    for (int64_t c = 0; c < n_chunks; ++c) {
      const SegmentStats& s = stats[c * n + i];
      if (s.max > mx || c == 0) {
        mx = s.max;
        best = s.argmax;
      }
    }
    double sum = 0.0;
    for (int64_t c = 0; c < n_chunks; ++c) {
      const SegmentStats& s = stats[c * n + i];
      sum += s.sum_exp * exp(static_cast<double>(s.max) - static_cast<double>(mx));
    }
    const double lse = static_cast<double>(mx) + log(sum);
    argmax[i] = best;
    for (int64_t j = off[i]; j < off[i + 1]; ++j) {
      logprob[j] = static_cast<double>(target_logit[j]) - lse;
    }
  }
}

}  // namespace

const KernelSet& OptimizedKernelSet() {
  // dt_bias has no faster version (one value per key and bias head, a tiny share of the time):
  // the optimized set uses the reference function rather than a second copy of it. The two
  // selection kernels are not SIMD work and are compiled once (select.cc).
  const KernelSet& ref = ReferenceKernels();
  static const KernelSet set = {"optimized", MatVec,        MatMul,       RmsNorm,
                                Rope,        Softmax,       SwiGlu,       ref.dt_bias,
                                Attention,   LogprobGather, VocabLogprob, SelectTopkMask,
                                SelectMoeRoute};
  return set;
}

}  // namespace DOGE_KERNEL_NS
}  // namespace doge
