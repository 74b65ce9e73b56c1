// End-to-end prefill/decode benchmark in llama-bench's shape (`doge bench e2e`): every
// combination of prompt length, generation length and thread count, repeated, reported as
// mean ± sd tokens/s next to the in-run bound (bandwidth for decode, FMA peak for prefill).
// The JSON rows (schema doge.bench.e2e/1) are an outside-checked contract: field names follow
// llama-bench's and must stay stable.
#ifndef DOGE_BENCHMARKS_E2E_H_
#define DOGE_BENCHMARKS_E2E_H_

#include <cstdint>
#include <functional>
#include <utility>
#include <string>

#include "engine/base/json_writer.h"
#include "engine/base/machine_load.h"
#include <vector>

#include "benchmarks/model_cost.h"
#include "benchmarks/peak_probe.h"

namespace doge {

// What is being benchmarked. The engine adapter (e2e_engine.h) implements it; tests use fakes.
class E2eTarget {
 public:
  virtual ~E2eTarget() = default;
  // Thread count for the following calls (OpenMP team size of the kernels).
  virtual void SetThreads(int n_threads) = 0;
  // Empties the KV cache: the next call starts at position 0.
  virtual void Reset() = 0;
  // One forward call over `tokens` at the next positions, computing only the last token's logits
  // (llama-bench's prompt test).
  virtual void Prefill(const std::vector<int32_t>& tokens) = 0;
  // One single-token forward call at the next position, with full-vocabulary logits.
  virtual void Decode(int32_t token) = 0;
};

// Static facts about the model, printed in every row.
struct E2eModelInfo {
  std::string model;       // checkpoint path, or the shape name for --shape
  std::string model_type;  // "doge-20m" ... or "doge-custom"
  int64_t n_params = 0;
  int64_t model_size = 0;  // bytes of weights as the kernels read them
  int64_t vocab_size = 0;
  int32_t bos_id = 0;      // first token of every prompt (llama-bench starts with BOS)
  DogeCost cost;
};

// One row: one test (pp N, tg N or pp N+tg M) at one thread count and batch size.
struct E2eRow {
  E2eModelInfo info;
  std::string test;       // "pp512" | "tg128" | "pp512+tg128"
  int n_prompt = 0;
  int n_gen = 0;
  int n_batch = 0;        // tokens per prefill call (llama-bench's n_batch)
  int n_threads = 0;
  int n_reps = 0;
  std::vector<double> samples_ns;  // wall time of each repetition
  std::vector<double> samples_ts;  // tokens/s of each repetition
  double avg_ns = 0, stddev_ns = 0, avg_ts = 0, stddev_ts = 0;
  double peak = 0;            // the in-run peak used: GB/s (tg) or GFLOP/s (pp and pp+tg)
  double peak_read = 0;       // pp+tg rows only: the read bandwidth (GB/s) for their tg part
  double bound_ts = 0;        // tokens/s the peak allows
  double bound_fraction = 0;  // avg_ts / bound_ts
  std::string test_time;      // ISO-8601 UTC, when the row's first repetition started
  MachineLoad load;           // other processes' CPU use over the timed repetitions
};

struct E2eOptions {
  std::vector<int> n_prompt = {512};  // 0 entries are skipped, like llama-bench -p 0
  std::vector<int> n_gen = {128};
  // llama-bench's -pg: a prompt of .first tokens, then .second generated tokens in the same
  // context, timed together; tokens/s = (first + second) / time.
  std::vector<std::pair<int, int>> n_pg;
  // Tokens per prefill call (llama-bench -b): a prompt longer than this is fed in consecutive
  // calls on the same cache. Each entry repeats every test.
  std::vector<int> n_batch = {2048};
  std::vector<int> threads = {1, 2};
  int reps = 5;
  uint64_t seed = 1234;      // prompt/decode token ids (fixed, so runs are comparable)
  ProbeOptions probe;
  // Called after each row is measured (row index from 1, of n_rows), e.g. for a progress line.
  std::function<void(const E2eRow& row, size_t index, size_t n_rows)> on_row;
};

// "pp512", "tg128" or "pp512+tg128", as llama-bench names its tests.
std::string E2eTestName(int n_prompt, int n_gen);

// Runs every (threads x n_batch x test) combination: for each thread count the peaks are
// measured first, then per batch size the pp rows, the tg rows and the pp+tg rows
// (llama-bench's order). Each test runs once untimed as
// warm-up (page faults of the mapped weights, caches, OpenMP start-up), then `reps` timed times,
// each right after one short probe of its peak; a row's peak is the median of the first probes
// and its adjacent ones (so the bound follows a machine whose speed drifts during the run).
std::vector<E2eRow> RunE2e(E2eTarget& target, const E2eModelInfo& info,
                           const E2eOptions& options);

// Output formats. Markdown is a llama-bench-style table; JSON is an array of rows (see the
// contract in the header comment); JSONL the same objects, one per line; CSV one header line and
// one line per row with the JSON's columns (nested objects flattened as "fingerprint.cpu_model",
// arrays as space-separated numbers), derived from the JSON so the two cannot drift apart.
std::string FormatE2eMarkdown(const std::vector<E2eRow>& rows);
std::string FormatE2eJson(const std::vector<E2eRow>& rows);
std::string FormatE2eJsonl(const std::vector<E2eRow>& rows);
std::string FormatE2eCsv(const std::vector<E2eRow>& rows);

// The CPU's full name for `cpu_info` (llama-bench's field): the CPUID brand string on x86, else
// /proc/cpuinfo "model name"; when that is only a vendor and family (virtual machines report
// "AMD EPYC"), the CPUID family, model and stepping are appended so two CPU generations differ.
std::string CpuInfo();

// A row's machine load as a JSON object {busy, other_cores, steal_fraction, loadavg_1m, n_cpus,
// omp_wait, known}, and the line printed under a table when any row ran on a busy machine.
void WriteMachineLoadJson(JsonWriter& w, const MachineLoad& load);
std::string LoadFootnote(const std::vector<MachineLoad>& loads);

// "2026-12-01T21:00:00Z" for now.
std::string UtcNowIso8601();

}  // namespace doge

#endif  // DOGE_BENCHMARKS_E2E_H_
