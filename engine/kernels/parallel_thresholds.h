// Where the optimized kernels and the forward pass start splitting one call's work across
// threads: below these sizes an OpenMP fork/join costs more than a second thread saves. Results
// never depend on them (kernel_set.h: work is split across output rows, each element computed in
// one fixed order by one thread); only speed does. Sizes are per call, in multiply-adds (MACs) or
// elements as each name says. The measurement behind each value is in the comment above it.
#ifndef DOGE_ENGINE_KERNELS_PARALLEL_THRESHOLDS_H_
#define DOGE_ENGINE_KERNELS_PARALLEL_THRESHOLDS_H_

#include <cstdint>

namespace doge {

// Plain constexpr (internal linkage): optimized.cc is compiled once per ISA and must not share
// weak symbols with other objects (kernel_internal.h).
//
// Measured 2026-12-07 on the project's 2-vCPU AMD EPYC (Zen 4) VM, avx512 kernels, median of 301
// calls, 1 vs 2 OpenMP threads, by a throwaway driver over OptimizedKernels() (the numbers and
// the method are in engine/README.md, "Parallel thresholds"). Other processes kept the load
// average at 11-12, so the "quiet" figures ran at nice -15 with libgomp's default spinning: a
// 2-thread fork/join then cost 0.64 us, so a split pays once one thread needs more than ~1.3 us.
// Under the load itself a fork/join cost 10 us (OMP_WAIT_POLICY=passive) to 60 us
// (GOMP_SPINCOUNT=1000), and no size below 4x these thresholds gained from a second thread: the
// values that are conservative for a quiet machine (attention, per-token steps, SwiGLU,
// vocabulary) are kept for that reason.

// GEMV over a packed matrix (decode): rows x cols MACs. Quiet: 2^14 takes 0.63 us on one thread
// (under the ~1.3 us break-even); at 2^15, 1.64 us on one thread and 1.30 us on two.
constexpr int64_t kParallelGemvMacs = int64_t{1} << 15;
// GEMM over a packed matrix, avx2/avx512 micro-kernel (prefill, scoring): n x rows x cols MACs.
// Quiet, n = 4: 2^15 takes 1.02 us on one thread; at 2^16, 1.61 us on one and 1.33 us on two.
constexpr int64_t kParallelGemmMacs = int64_t{1} << 16;
// The portable build's packed GEMM (plain loops) and the row-major matrices without a packed
// copy (the CDMoE router): n x rows x cols MACs. Quiet, row-major GEMV: 2^14 takes 1.37 us on
// one thread (break-even); at 2^15, 2.37 us on one and 1.72 us on two.
constexpr int64_t kParallelPlainGemmMacs = int64_t{1} << 15;
// SwiGLU over [T, I]: blocks of kSwiGluBlock elements, split from kParallelSwiGluBlocks blocks
// (32768 elements). Quiet: 32768 elements take 16.6 us on one thread and 12.0 us on two (16384
// take 7.2 us: a split would pay there too on a quiet machine, not under load).
constexpr int64_t kSwiGluBlock = 4096;
constexpr int64_t kParallelSwiGluBlocks = 8;
// Fused vocabulary log-softmax: n rows x V x H MACs. Quiet, n = 1, H = 256: at 2^18, 19.7 us on
// one thread and 10.6 us on two (2^17 takes 9.3 us on one: conservative, kept for the load).
constexpr int64_t kParallelVocabMacs = int64_t{1} << 18;
// Forward pass, attention of one layer (heads x query blocks across threads): nh x T x S x D,
// the MACs of QK^T (T queries over S keys). Quiet, 2 heads x 1 query, D = 128: 2^17 takes 13.2 us
// on one thread and 8.5 us on two; 2^18 28.9 us and 18.4 us. Under load (passive waiting) 2^17
// took 28 us on two threads, twice the one-thread time.
constexpr int64_t kParallelAttentionMacs = int64_t{1} << 18;
// Forward pass, per-token steps (RMSNorm, q/k norm, RoPE, residuals): tokens in the call. Quiet,
// RMSNorm over H = 256: 32 rows take 2.06 us on one thread and 1.67 us on two; 64 rows 3.89 us
// and 2.98 us. Under load (passive) 64 rows took 13 us on two threads against 3.7 us on one.
constexpr int64_t kParallelRowsTokens = 64;

}  // namespace doge

#endif  // DOGE_ENGINE_KERNELS_PARALLEL_THRESHOLDS_H_
