// Readers for the benchmark JSON the report commands consume:
//   * `doge bench e2e` / `doge bench eval`: a JSON array of rows (schemas doge.bench.e2e/1 and
//     doge.bench.eval/1), llama-bench field names;
//   * the kernel benchmarks: Google Benchmark's own JSON (v1.7), whose "context" carries
//     doge_schema = doge.bench.kernels/1 and doge_fingerprint (the fingerprint as a JSON string).
#ifndef DOGE_REPORTS_SRC_BENCH_ROWS_H_
#define DOGE_REPORTS_SRC_BENCH_ROWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/fingerprint.h"

namespace doge::reports {

inline constexpr char kBenchE2eSchema[] = "doge.bench.e2e/1";
inline constexpr char kBenchEvalSchema[] = "doge.bench.eval/1";
inline constexpr char kBenchKernelsSchema[] = "doge.bench.kernels/1";

// One row of a doge bench e2e/eval array. For e2e rows the throughput is tokens/s (avg_ts,
// stddev_ts, samples_ts); for eval rows it is tasks/s (tasks_per_s, stddev, samples), stored in
// the same fields so that compare can treat both alike.
struct BenchRow {
  std::string file;
  size_t index = 0;       // position in the array (for error messages)
  std::string schema;     // doge.bench.e2e/1 | doge.bench.eval/1
  MachineFingerprint fingerprint;
  std::string build_commit;
  std::string model;       // path or name
  std::string model_type;  // "doge-20m"
  int64_t n_params = 0;
  int64_t model_size = 0;  // bytes of weights (e2e only)
  std::string test;        // "pp512" | "tg128" | "mc-hellaswag"
  int64_t n_prompt = 0, n_gen = 0;
  int64_t n_threads = 0;
  int64_t batch = 0;             // eval rows: requests per Score() call (0 when absent)
  double avg = 0;                // avg_ts (e2e) or tasks_per_s (eval)
  double stddev = 0;             // stddev_ts or stddev
  std::vector<double> samples;   // samples_ts or samples
  int64_t rank = -1;             // MPI rank that measured it (`mpirun doge bench`); -1: absent
  std::string cpu_info;          // e2e rows: the CPU's full name (llama-bench's field); "" when absent
};

// Reads a doge bench array; every row must carry `expected_schema` (or, when it is empty, either
// bench schema, the same in every row). Throws doge::Error(kFormat) naming file and row field.
std::vector<BenchRow> LoadBenchRows(const std::string& path, const std::string& expected_schema);

// One Google Benchmark run name with its per-repetition times.
struct KernelBenchmark {
  std::string name;             // run_name ("kernel/rms_norm/n=1024/optimized/real_time")
  std::vector<double> real_ns;  // one per repetition ("run_type": "iteration"), in ns
  std::vector<double> cpu_ns;
  bool error = false;           // error_occurred / skipped in any repetition
  std::string error_message;
};

struct KernelBenchFile {
  std::string file;
  MachineFingerprint fingerprint;
  std::vector<KernelBenchmark> benchmarks;  // in file order
};

KernelBenchFile LoadKernelBench(const std::string& path);

// "doge.bench.e2e/1", "doge.bench.eval/1", "doge.bench.kernels/1": sniffs the file (array of rows
// vs Google Benchmark object) without validating the rest.
std::string DetectBenchSchema(const std::string& path);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_BENCH_ROWS_H_
