// Reference kernels: plain scalar loops in the order the PyTorch reference computes (separate
// multiply and add, fp32 values). The oracle every optimized kernel is tested against.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/kernels/kernel_set.h"
#include "engine/kernels/q8.h"

namespace doge {
namespace {

void MatVec(const float* w, PackedWeights packed, const float* x, int64_t rows, int64_t cols,
            float* out) {
  if (packed.data != nullptr && packed.type == PackedType::kQ8) {
    ReferenceQ8MatMul(packed.data, x, 1, rows, cols, out);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* wr = w + r * cols;
    float acc = 0.0f;
    for (int64_t c = 0; c < cols; ++c) acc += wr[c] * x[c];
    out[r] = acc;
  }
}

void MatMul(const float* w, PackedWeights packed, const float* x, int64_t n, int64_t rows,
            int64_t cols, float* out) {
  if (packed.type != PackedType::kQ8) packed = {};
  for (int64_t t = 0; t < n; ++t) MatVec(w, packed, x + t * cols, rows, cols, out + t * rows);
}

void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  // mean(x²) accumulated in double: the reference reduces in fp32 with several partial sums;
  // double is closer to the exact value both approximate.
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float var = static_cast<float>(ss / static_cast<double>(n));
  const float inv = 1.0f / std::sqrt(var + eps);  // torch.rsqrt on CPU is 1/sqrt
  for (int64_t i = 0; i < n; ++i) out[i] = weight[i] * (x[i] * inv);
}

void Rope(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* z = x + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      const float a = z[j], b = z[j + half];
      // rotate_half(z) = [-z[half:], z[:half]]
      z[j] = a * cos[j] + (-b) * sin[j];
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
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] / sum;
}

void SwiGlu(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = (gate[i] / (1.0f + std::exp(-gate[i]))) * up[i];
}

void DtBias(const float* u, const float* a, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    // F.softplus(beta=1, threshold=20): identity above the threshold.
    const float sp = u[i] > 20.0f ? u[i] : std::log1p(std::exp(u[i]));
    out[i] = std::exp(a[i] * sp);
  }
}

void AttentionOne(const float* q, const float* k, const float* v, int64_t kv_stride,
                  const float* bias, int64_t n_keys, int64_t head_dim, float scale, float* scratch,
                  float* out) {
  for (int64_t j = 0; j < n_keys; ++j) {
    const float* kj = k + j * kv_stride;
    float dot = 0.0f;
    for (int64_t d = 0; d < head_dim; ++d) dot += q[d] * kj[d];
    scratch[j] = dot * scale + bias[j];
  }
  Softmax(scratch, n_keys);
  for (int64_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int64_t j = 0; j < n_keys; ++j) {
    const float p = scratch[j];
    if (p == 0.0f) continue;  // masked keys contribute exactly 0 (and skip 0·inf)
    const float* vj = v + j * kv_stride;
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * vj[d];
  }
}

// Each query on its own (the block only shares keys).
void Attention(const float* q, int64_t q_stride, int64_t nq, const float* k, const float* v,
               int64_t kv_stride, const float* bias, int64_t bias_stride, const int64_t* n_keys,
               int64_t head_dim, float scale, float* scratch, float* out, int64_t out_stride) {
  for (int64_t i = 0; i < nq; ++i) {
    AttentionOne(q + i * q_stride, k, v, kv_stride, bias + i * bias_stride, n_keys[i], head_dim,
                 scale, scratch + i * bias_stride, out + i * out_stride);
  }
}

// Log-softmax at `target` with a float64 exp per entry: the plainest form, the oracle of the
// optimized kernel's float32 exp with float64 sums.
void LogprobGather(const float* logits, int64_t n, int32_t target, double* logprob,
                   int32_t* argmax) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  const double mx = logits[best];
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  *logprob = static_cast<double>(logits[target]) - (mx + std::log(sum));
  *argmax = static_cast<int32_t>(best);
}

// Row by row: the full logits row (MatVec; the q8 product for a q8 head), then LogprobGather
// per target.
void VocabLogprob(const float* w, PackedWeights packed, const float* x, int64_t n, int64_t V,
                  int64_t H, const int64_t* off, const int32_t* tok, double* logprob,
                  int32_t* argmax) {
  std::vector<float> logits(static_cast<size_t>(V));
  for (int64_t i = 0; i < n; ++i) {
    MatVec(w, packed.type == PackedType::kQ8 ? packed : PackedWeights{}, x + i * H, V, H,
           logits.data());
    double lp = 0;
    int32_t best = 0;
    LogprobGather(logits.data(), V, 0, &lp, &best);
    argmax[i] = best;
    for (int64_t j = off[i]; j < off[i + 1]; ++j) {
      LogprobGather(logits.data(), V, tok[j], &logprob[j], &best);
    }
  }
}

// Sorts all indices by value, descending, equal values in index order (stable), and keeps the
// first `keep`.
void TopkMask(float* mask, int64_t n, int64_t keep, float* /*scratch*/) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return mask[a] > mask[b]; });
  std::vector<bool> kept(static_cast<size_t>(n), false);
  for (int64_t i = 0; i < keep; ++i) kept[order[i]] = true;
  for (int64_t j = 0; j < n; ++j) {
    if (!kept[j]) mask[j] = -std::numeric_limits<float>::infinity();
  }
}

// Ranks both halves with a stable sort, scores all K² candidates, stable-sorts them.
void MoeRoute(const float* scores, int64_t K, int64_t top, float* /*scratch*/,
              int32_t* /*iscratch*/, int32_t* experts, float* weights) {
  auto rank = [K](const float* s) {
    std::vector<int32_t> idx(static_cast<size_t>(K));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [s](int32_t a, int32_t b) { return s[a] > s[b]; });
    return idx;
  };
  const std::vector<int32_t> ix = rank(scores), iy = rank(scores + K);
  std::vector<float> cand(static_cast<size_t>(K * K));
  for (int64_t a = 0; a < K; ++a) {
    for (int64_t b = 0; b < K; ++b) cand[a * K + b] = scores[ix[a]] + scores[K + iy[b]];
  }
  std::vector<int64_t> order(cand.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return cand[a] > cand[b]; });
  for (int64_t e = 0; e < top; ++e) {
    experts[e] = static_cast<int32_t>(ix[order[e] / K] * K + iy[order[e] % K]);
    weights[e] = cand[order[e]];
  }
}

}  // namespace

const KernelSet& ReferenceKernels() {
  static const KernelSet set = {"reference", MatVec,        MatMul,   RmsNorm,  Rope,
                                Softmax,     SwiGlu,        DtBias,   Attention, LogprobGather,
                                VocabLogprob, TopkMask,     MoeRoute};
  return set;
}

}  // namespace doge
