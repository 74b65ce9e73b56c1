// Optimized kernels: Eigen GEMM for prefill (fixed row chunks, so each output element's summation
// order depends only on the shapes), OpenMP across output rows for GEMV, multi-accumulator dot
// products. Deterministic for any thread count (see kernel_set.h).
//
// Eigen's own OpenMP parallelisation is disabled: its blocking sizes depend on the thread count,
// which would make results depend on it. We parallelise over fixed chunks ourselves instead.
#define EIGEN_DONT_PARALLELIZE
#include <Eigen/Core>
#include <cmath>
#include <limits>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/kernels/kernel_set.h"

namespace doge {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

bool InParallel() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return true;
#endif
}

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

void MatVec(const float* w, const float* x, int64_t rows, int64_t cols, float* out) {
  // Rows are independent: split across threads only when the work pays for the fork.
  const bool par = !InParallel() && rows * cols >= (1 << 15);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; ++r) out[r] = Dot(w + r * cols, x, cols);
}

void MatMul(const float* w, const float* x, int64_t n, int64_t rows, int64_t cols, float* out) {
  if (n == 1) {
    MatVec(w, x, rows, cols, out);
    return;
  }
  // Fixed 64-row chunks of W: each chunk is one single-threaded Eigen GEMM whose shape (and so
  // blocking and summation order) never depends on the number of threads.
  constexpr int64_t kChunk = 64;
  const int64_t n_chunks = (rows + kChunk - 1) / kChunk;
  Eigen::Map<const RowMat> xm(x, n, cols);
  const bool par = !InParallel() && n * rows * cols >= (1 << 16);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t ch = 0; ch < n_chunks; ++ch) {
    const int64_t r0 = ch * kChunk;
    const int64_t rc = rows - r0 < kChunk ? rows - r0 : kChunk;
    Eigen::Map<const RowMat> wc(w + r0 * cols, rc, cols);
    Eigen::Map<RowMat, 0, Eigen::OuterStride<>> oc(out + r0, n, rc, Eigen::OuterStride<>(rows));
    oc.noalias() = xm * wc.transpose();
  }
}

void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float var = static_cast<float>(ss / static_cast<double>(n));
  const float inv = 1.0f / std::sqrt(var + eps);
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
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void SwiGlu(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = (gate[i] / (1.0f + std::exp(-gate[i]))) * up[i];
}

void DtBias(const float* u, const float* a, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float sp = u[i] > 20.0f ? u[i] : std::log1p(std::exp(u[i]));
    out[i] = std::exp(a[i] * sp);
  }
}

void Attention(const float* q, const float* k, const float* v, int64_t kv_stride, const float* bias,
               int64_t n_keys, int64_t head_dim, float scale, float* scratch, float* out) {
  for (int64_t j = 0; j < n_keys; ++j) {
    scratch[j] = Dot(q, k + j * kv_stride, head_dim) * scale + bias[j];
  }
  Softmax(scratch, n_keys);
  for (int64_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int64_t j = 0; j < n_keys; ++j) {
    const float p = scratch[j];
    if (p == 0.0f) continue;
    const float* vj = v + j * kv_stride;
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * vj[d];
  }
}

}  // namespace

const KernelSet& OptimizedKernels() {
  static const KernelSet set = {"optimized", MatVec, MatMul, RmsNorm, Rope,
                                Softmax,     SwiGlu, DtBias, Attention};
  return set;
}

}  // namespace doge
