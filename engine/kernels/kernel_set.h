// KernelSet: the numeric kernels the forward pass calls, as a struct of typed function pointers
// with two instances (house-style §3): ReferenceKernels() (plain scalar loops, the oracle) and
// OptimizedKernels() (SIMD + OpenMP across output rows; compiled per instruction set and chosen at
// run time, engine/base/kernel_isa.h). tests/engine/kernels_test.cc and the benchmarks iterate
// engine/kernels/kernel_cases.h over both (the tests over every ISA this machine runs).
//
// Determinism contract (both sets): for fixed shapes the result never depends on the thread count
// or on whether the call happens inside an OpenMP parallel region. Work is split across output rows
// only; every output element is accumulated in one fixed order by one thread.
// Threading: optimized kernels open an OpenMP region (omp_get_max_threads() threads) unless called
// from inside one, in which case they run single-threaded.
#ifndef DOGE_ENGINE_KERNELS_KERNEL_SET_H_
#define DOGE_ENGINE_KERNELS_KERNEL_SET_H_

#include <cstdint>

#include "engine/base/kernel_isa.h"

namespace doge {

// Element type of a packed weight copy (the layout below): float32, or the checkpoint's own
// 16-bit values, which the optimized kernels widen to float32 exactly inside their loops (BF16:
// the upper half of the float32 bits; F16: IEEE half, F16C's conversion). kQ8: int8 weights with
// a float32 scale per 32 columns in q8.h's own layout (not the layout below); matvec, matmul and
// vocab_logprob of BOTH sets then compute q8.h's product (activations quantized per row), reading
// the packed copy, and w only holds the dequantized values for other readers.
enum class PackedType : int32_t { kF32 = 0, kBF16 = 1, kF16 = 2, kQ8 = 3 };
int64_t PackedTypeBytes(PackedType type);  // 4 or 2 (1 for kQ8: plus 4 bytes of scale per 32)
const char* PackedTypeName(PackedType type);  // "f32" | "bf16" | "f16" | "q8"

// A matrix in the packed layout (kPackRows below): data null when there is none.
struct PackedWeights {
  const void* data = nullptr;
  PackedType type = PackedType::kF32;
};

struct KernelSet {
  const char* name;  // "reference" | "optimized"
  // out[r] = sum_c w[r, c] * x[c].  w: [rows, cols] row-major, x: [cols], out: [rows].
  // packed: the same matrix in the PackWeights layout below (F32, or BF16/F16 holding exactly
  // the values of w), or none. The reference reads w; the optimized set reads packed when given
  // (what DogeModel passes), else w.
  void (*matvec)(const float* w, PackedWeights packed, const float* x, int64_t rows, int64_t cols,
                 float* out);
  // out[t, r] = sum_c w[r, c] * x[t, c].  w: [rows, cols], x: [n, cols], out: [n, rows] (x·Wᵀ).
  void (*matmul)(const float* w, PackedWeights packed, const float* x, int64_t n, int64_t rows,
                 int64_t cols, float* out);
  // out = weight ⊙ (x · rsqrt(mean(x²) + eps)).  x, weight, out: [n]. out may alias x.
  void (*rms_norm)(const float* x, const float* weight, int64_t n, float eps, float* out);
  // In place rotate-half RoPE of n_heads vectors of head_dim: z' = z⊙cos + rotate_half(z)⊙sin.
  // x: [n_heads, head_dim]; cos, sin: [head_dim] for this position.
  void (*rope)(float* x, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin);
  // In place softmax over x: [n] (max-subtracted, fp32).
  void (*softmax)(float* x, int64_t n);
  // out = silu(gate) ⊙ up, silu(g) = g / (1 + exp(-g)).  [n] each.
  void (*swiglu)(const float* gate, const float* up, int64_t n, float* out);
  // The Doge dynamic-mask bias: out = exp(a ⊙ softplus(u)) (softplus threshold 20).  [n] each.
  void (*dt_bias)(const float* u, const float* a, int64_t n, float* out);
  // nq queries of one head (consecutive positions of a prefill, or 1 when decoding) over one
  // key range: query i uses keys 0..n_keys[i]-1 (n_keys[i] >= 1),
  // s_ij = (q_i·k_j)·scale + bias_i[j] (bias_i[j] = -inf masks key j), p_i = softmax(s_i),
  // out_i = Σ_j p_ij v_j. q: nq rows of head_dim floats spaced q_stride apart; k, v: rows of
  // head_dim floats spaced kv_stride apart; bias: nq rows spaced bias_stride apart;
  // scratch: nq·bias_stride floats; out: nq rows spaced out_stride apart.
  void (*attention)(const float* q, int64_t q_stride, int64_t nq, const float* k, const float* v,
                    int64_t kv_stride, const float* bias, int64_t bias_stride,
                    const int64_t* n_keys, int64_t head_dim, float scale, float* scratch,
                    float* out, int64_t out_stride);
  // Fused log-softmax + gather over one logits row (the scoring path's vocabulary step):
  // logprob = logits[target] - (max + log Σ_i exp(logits[i] - max)), the sum accumulated in
  // float64; argmax = the first index of the row maximum.  logits: [n]; 0 <= target < n.
  void (*logprob_gather)(const float* logits, int64_t n, int32_t target, double* logprob,
                         int32_t* argmax);
  // The scoring path's vocabulary step, fused: the logits l[i, v] = Σ_c w[v, c]·x[i, c] of n rows
  // (w: [V, H] row-major, packed: its PackWeights copy or null, as for matmul; x: [n, H]) are
  // never stored whole. Per row i, argmax[i] = the first index of the row's maximum, and for each
  // of its targets j in [off[i], off[i+1]): logprob[j] = l[i, tok[j]] - log Σ_v exp(l[i, v]),
  // the log-sum-exp accumulated in float64. off: [n + 1] with off[0] = 0; 0 <= tok[j] < V.
  // Each l[i, v] equals what matmul gives for that row (the same per-element order).
  void (*vocab_logprob)(const float* w, PackedWeights packed, const float* x, int64_t n, int64_t V,
                        int64_t H, const int64_t* off, const int32_t* tok, double* logprob,
                        int32_t* argmax);
  // Doge's top-k key window over one query's mask row (torch.topk over the masked biases): keeps
  // the `keep` largest of mask[0, n) and sets every other to -inf; among equal values at the cut
  // the earliest survive (torch.topk's tie order is implementation-defined, this one is fixed).
  // 1 <= keep < n; mask: [n] biases or -inf (masked); scratch: [n] floats.
  void (*topk_mask)(float* mask, int64_t n, int64_t keep, float* scratch);
  // CDMoE product-key routing of one token. scores: [2K], the router's x-scores then y-scores.
  // Each half is ranked descending (ties by lower index: x_rank, y_rank); candidate (a, b) scores
  // x_rank[a] + y_rank[b] and names expert x_index[a]·K + y_index[b]; the `top` best candidates
  // (ties by lower a·K + b) come out best first: experts: [top], weights: [top] their scores
  // (before the softmax). 1 <= top <= K²; scratch: [K²] floats, iscratch: [2K² + 2K].
  void (*moe_route)(const float* scores, int64_t K, int64_t top, float* scratch,
                    int32_t* iscratch, int32_t* experts, float* weights);
};

// Number of kernel members in KernelSet (everything after `name`). kernels_test checks that every
// member has at least one row in AllKernelCases(); bump this when adding a kernel.
inline constexpr int kKernelSetMembers = 12;
static_assert(sizeof(KernelSet) == sizeof(void*) * (1 + kKernelSetMembers),
              "KernelSet changed: update kKernelSetMembers, reference.cc, optimized.cc and "
              "kernel_cases.cc");

// The optimized kernels' weight layout: rows in blocks of kPackRows, each block k-major (one k
// step of a block = 32 consecutive elements: two cache lines of float32, one of 16-bit), rows
// past the end zero:
//   packed[(r / 32) · 32 · cols + k · 32 + r % 32] = w[r, k].
inline constexpr int64_t kPackRows = 32;
int64_t PackedWeightFloats(int64_t rows, int64_t cols);  // elements of the packed copy
void PackWeights(const float* w, int64_t rows, int64_t cols, float* packed);
// The same layout for 16-bit elements (BF16 or F16 bits, moved, not converted); w: [rows, cols]
// 16-bit values at any byte alignment.
void PackWeights16(const void* w, int64_t rows, int64_t cols, uint16_t* packed);
// Rows [32·b0, rows) of a packed [rows, cols] matrix as a packed matrix of their own: blocks (and
// q8 panels) are 32 rows stored one after another, so a product can be split by rows (decode's
// one parallel region per step, model.cc) and give each row the bits of the whole call.
PackedWeights PackedFromBlock(PackedWeights packed, int64_t cols, int64_t b0);
// Row r of a packed matrix with `cols` columns, widened to float32: out[k] = w[r, k].
void UnpackRow(PackedWeights packed, int64_t cols, int64_t r, float* out);

const KernelSet& ReferenceKernels();
// What DogeModel uses by default: the optimized set of ActiveKernelIsa() (engine/base/kernel_isa.h).
const KernelSet& OptimizedKernels();
// The optimized set of one ISA; throws doge::Error when this binary or machine cannot run it.
const KernelSet& OptimizedKernelsFor(KernelIsa isa);

}  // namespace doge

#endif  // DOGE_ENGINE_KERNELS_KERNEL_SET_H_
