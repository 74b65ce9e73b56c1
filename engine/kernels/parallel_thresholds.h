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
// Measured 2026-12-07 with doge_threshold_probe on the project's 2-vCPU AMD EPYC (Zen 4) VM,
// avx512 kernels, median of 301 calls, four runs; the table is in engine/README.md ("Parallel
// thresholds"). Other processes held the load average at 11-15, so the runs were at nice -15
// with libgomp's default spinning, where an empty 2-thread fork/join cost 1.2-1.35 us (a split
// pays once one thread needs more than ~2.5 us); with OMP_WAIT_POLICY=passive under that load a
// fork/join cost 8-10 us. "2T/1T" below is the 2-thread time over the 1-thread time (< 1: the
// split pays), as the range over the four runs. The values are unchanged from before they were
// named: the measurements were too noisy on the shared machine to retune them.

// GEMV over a packed matrix (decode): rows x cols MACs. At the threshold one thread takes 1.8 us
// and 2T/1T is 0.82-1.40; at twice it 0.89-1.08: break-even on this VM, within the noise.
// Kept: Doge-20M decode, whose projections are 2-4x this size, runs faster on two threads than
// on one end to end (README "Measured", tg128), where the team is already awake.
constexpr int64_t kParallelGemvMacs = int64_t{1} << 15;
// GEMM over a packed matrix, avx2/avx512 micro-kernel (prefill, scoring): n x rows x cols MACs.
// n = 4: one thread takes 1.6 us at the threshold, 2T/1T 0.85-1.52; at twice it 1.04-1.11, so
// a split here is break-even at best; prefill and scoring calls are 100x larger.
constexpr int64_t kParallelGemmMacs = int64_t{1} << 16;
// The portable build's packed GEMM (plain loops) and the row-major matrices without a packed
// copy (the CDMoE router): n x rows x cols MACs. Row-major GEMV: one thread 2.2 us at the
// threshold, 2T/1T 0.72-1.23; at twice it 0.84-0.95.
constexpr int64_t kParallelPlainGemmMacs = int64_t{1} << 15;
// SwiGLU over [T, I]: blocks of kSwiGluBlock elements, split from kParallelSwiGluBlocks blocks
// (32768 elements): one thread 15.4 us, 2T/1T 0.60-0.83; at twice it 0.55-0.77. Half of it takes
// 7.4 us on one thread, so a lower threshold would pay on an idle machine, not under load.
constexpr int64_t kSwiGluBlock = 4096;
constexpr int64_t kParallelSwiGluBlocks = 8;
// Fused vocabulary log-softmax: n rows x V x H MACs. n = 1, H = 256: one thread 20 us at the
// threshold, 2T/1T 0.46-0.63. Half of it takes 9.1 us: conservative, as SwiGLU.
constexpr int64_t kParallelVocabMacs = int64_t{1} << 18;
// Forward pass, attention of one layer (heads x query blocks across threads): nh x T x S x D,
// the MACs of QK^T (T queries over S keys). 2 heads x 1 decode query, D = 128: one thread 34 us
// at the threshold, 2T/1T 0.55-0.62; at half it already 0.65-0.78 (conservative).
constexpr int64_t kParallelAttentionMacs = int64_t{1} << 18;
// Forward pass, per-token steps (RMSNorm, q/k norm, RoPE, residuals): tokens in the call.
// RMSNorm rows over H = 256: 64 rows take 3.8 us on one thread, 2T/1T 0.87-1.02; 32 rows
// 0.85-1.35 (loses); 128 rows 0.57-0.71.
constexpr int64_t kParallelRowsTokens = 64;

}  // namespace doge

#endif  // DOGE_ENGINE_KERNELS_PARALLEL_THRESHOLDS_H_
