// Machine peaks measured inside the benchmarking process: FP32 FMA throughput and read bandwidth
// for a given working-set size. Every percent-of-peak and every bound the benchmarks print divides
// by these in-run numbers (not by a datasheet), so the ratio holds on a noisy, shared machine.
#ifndef DOGE_BENCHMARKS_PEAK_PROBE_H_
#define DOGE_BENCHMARKS_PEAK_PROBE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace doge {

struct ProbeOptions {
  int repetitions = 5;          // the reported number is the median over these runs
  double seconds_per_run = 0.02;  // each run is repeated until it lasts at least this long
};

// One probe result: the median and every sample (GFLOP/s or GB/s, 1e9 units).
struct ProbeResult {
  double median = 0;
  std::vector<double> samples;
};

// The FMA the probes run: the widest this machine and binary have (engine/base/kernel_isa.h):
// "avx512f", "avx2+fma", "sse2 (mul+add)" or "scalar".
const char* FmaProbeIsa();

// FP32 FMA throughput with `n_threads` OpenMP threads, each running independent chains of vector
// FMAs in registers (no memory traffic). One FMA counts as 2 flops.
ProbeResult MeasureFmaPeak(int n_threads, const ProbeOptions& options = {});

// Read bandwidth over a buffer of `working_set_bytes` (rounded up to 4 KiB), split into
// contiguous per-thread slices as the GEMV kernels split weight rows. Small sets measure the
// cache level they fit in (after one warm-up pass); sets larger than the last-level cache
// measure DRAM. Bytes counted are bytes loaded; the buffer is never written while timed.
ProbeResult MeasureReadBandwidth(int64_t working_set_bytes, int n_threads,
                                 const ProbeOptions& options = {});

// Memoizes probes per (threads, working-set bucket) so that many benchmark cases share one
// measurement. Buckets are powers of two: a case reading 40 MB uses the 64 MiB probe (one bucket
// up, so a set just above a cache size is not measured as cache-resident).
class PeakCache {
 public:
  explicit PeakCache(ProbeOptions options = {}) : options_(options) {}
  double FmaGflops(int n_threads);
  double ReadGBs(int64_t working_set_bytes, int n_threads);
  static int64_t Bucket(int64_t working_set_bytes);

 private:
  ProbeOptions options_;
  std::mutex mu_;
  std::map<int, double> fma_;
  std::map<std::pair<int, int64_t>, double> bw_;
};

// Median of a copy of `v` (mean of the middle two for even sizes); 0 for empty input.
double Median(std::vector<double> v);
// Mean and sample standard deviation (n - 1 in the denominator; 0 for fewer than 2 values).
double Mean(const std::vector<double>& v);
double StdDev(const std::vector<double>& v);

}  // namespace doge

#endif  // DOGE_BENCHMARKS_PEAK_PROBE_H_
