// Per-kernel Google Benchmarks over the one case table (engine/kernels/kernel_cases.h) for both
// kernel sets: `kernel/<name>/<vars>/<set>`, with GB/s and GFLOP/s rate counters and their
// percentage of the in-run peak (peak_probe.h) for the case's working-set size. The main of
// doge_kernels_bench and `doge bench kernels` both call RunKernelBenchmarks.
#ifndef DOGE_BENCHMARKS_KERNEL_BENCHMARKS_H_
#define DOGE_BENCHMARKS_KERNEL_BENCHMARKS_H_

namespace doge {

// Registers every case x {reference, optimized}, probes the FMA peak, adds the fingerprint to the
// benchmark context ("doge_schema": "doge.bench.kernels/1", "doge_fingerprint": <JSON string>)
// and runs Google Benchmark with the remaining flags. Extra flags of ours, removed before Google
// Benchmark parses the rest:
//   --doge_probe_reps=N   repetitions of each peak probe (median; default 5)
//   --doge_probe_ms=X     minimum duration of one probe run in ms (default 20)
// Returns the process exit code (2 for unrecognized flags).
int RunKernelBenchmarks(int argc, char** argv);

}  // namespace doge

#endif  // DOGE_BENCHMARKS_KERNEL_BENCHMARKS_H_
