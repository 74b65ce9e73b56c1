// The one table of kernel cases (house-style §3): tests/engine/kernels_test.cc compares the
// optimized set with the reference set on every row, and benchmarks/kernel_benchmarks.cc times
// every row under both sets. Shapes: Doge-20M/320M sizes plus awkward sizes (1, 7, 33, 1023); inputs start
// one float past an aligned address so misaligned views are exercised.
#ifndef DOGE_ENGINE_KERNELS_KERNEL_CASES_H_
#define DOGE_ENGINE_KERNELS_KERNEL_CASES_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "engine/kernels/kernel_set.h"

namespace doge {

struct KernelCase {
  std::string kernel;          // KernelSet member name: "matvec", "rms_norm", ...
  std::string vars;            // "rows=1024,cols=256" (readable, like ggml's vars())
  std::vector<int64_t> dims;   // kernel-specific, see kernel_cases.cc
  double max_nmse = 1e-7;      // ggml's default; overridden per kernel with a reason
  double (*flops)(const std::vector<int64_t>&) = nullptr;
  double (*bytes)(const std::vector<int64_t>&) = nullptr;
};

std::vector<KernelCase> AllKernelCases();

// "matvec rows=7,cols=33,bf16" (GoogleTest prints parameters with it).
void PrintTo(const KernelCase& c, std::ostream* os);

// Names of the KernelSet members (for the "every member has a case" check).
std::vector<std::string> KernelSetMemberNames();

struct KernelRun {
  std::vector<float> output;  // the kernel's output (or in-place buffer) after the call
  bool sentinels_intact = true;  // guard words before/after the output unchanged
};

// Prepared inputs for one case, so benchmarks can time Run() without the setup.
class KernelCaseRunner {
 public:
  KernelCaseRunner(const KernelCase& c, uint64_t seed);
  // Runs `set.<kernel>` once on a fresh copy of the inputs.
  void Run(const KernelSet& set);
  // For a bf16/f16 case: packs the same (widened) weight values as f32 instead, so a test can
  // check that the 16-bit storage gives the same bits as float32 storage of the same values.
  // (Not for q8 cases: their product quantizes the activations too.)
  void UseF32Packing();
  KernelRun Result() const;

 private:
  KernelCase c_;
  std::vector<std::vector<float>> inputs_;  // each starts at index 1 (misaligned view)
  std::vector<float> out_;                  // [kGuard + n_out + kGuard]
  std::vector<float> inplace_init_;         // initial contents for in-place kernels
  std::vector<float> scratch_;
  std::vector<int64_t> n_keys_;             // attention: keys seen by each query
  PackedWeights Packed() const;             // the packed copy handed to the kernel (or none)
  std::vector<float> packed_;               // matvec/matmul/vocab_logprob: PackWeights layout
  std::vector<uint16_t> packed16_;          // ... or PackWeights16 layout (bf16/f16 cases)
  std::vector<uint8_t> packed8_;            // ... or PackQ8 layout (q8 cases)
  PackedType packed_type_ = PackedType::kF32;
  int64_t packed_rows_ = 0, packed_cols_ = 0;
  std::vector<int64_t> offsets_;            // vocab_logprob: per row its targets' range
  std::vector<int32_t> targets_;            // vocab_logprob: target ids
  int64_t n_out_ = 0;
};

// The targets of vocab_logprob's cases: row i of n gets 1 + i % 4 pseudo-random ids in [0, vocab);
// off: [n + 1] offsets into tok.
void VocabTargets(int64_t n, int64_t vocab, std::vector<int64_t>* off, std::vector<int32_t>* tok);

// Runs `set.<kernel>` on inputs made from `seed`, guarded by sentinel words; returns the output.
KernelRun RunKernelCase(const KernelSet& set, const KernelCase& c, uint64_t seed);

}  // namespace doge

#endif  // DOGE_ENGINE_KERNELS_KERNEL_CASES_H_
