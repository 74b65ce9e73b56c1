// Multiple-choice scoring throughput (`doge bench eval`): a fixed-seed synthetic workload shaped
// like HellaSwag (48-token context, 4 endings of 21 tokens by default) scored through
// LanguageModel::Score in batches, the call `doge eval` makes. Reports tasks/s, processed
// tokens/s and naive-equivalent tokens/s. Rows use schema doge.bench.eval/1.
#ifndef DOGE_BENCHMARKS_EVAL_BENCH_H_
#define DOGE_BENCHMARKS_EVAL_BENCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "benchmarks/e2e.h"
#include "engine/lm.h"

namespace doge {

struct McWorkload {
  int n_tasks = 64;    // tasks (= ScoreRequests) per timed repetition
  int n_ctx = 48;      // context tokens per task, BOS included
  int n_choices = 4;   // endings per task
  int n_cont = 21;     // tokens per ending
  int batch = 16;      // tasks per Score() call
  uint64_t seed = 1;   // token ids
  std::string test = "mc-hellaswag";  // row label; "card-a/piqa" ... for a card task's shape

  // Tokens a shared-prefix scorer runs through the model per task: the context once, then each
  // ending minus its last token (the last token is only predicted, never fed).
  int64_t ProcessedTokensPerTask() const {
    return n_ctx + static_cast<int64_t>(n_choices) * (n_cont - 1);
  }
  // Tokens a naive scorer runs per task: (context + ending)[:-1] for every ending separately.
  int64_t NaiveTokensPerTask() const {
    return static_cast<int64_t>(n_choices) * (n_ctx + n_cont - 1);
  }
};

// The requests: task t has context [BOS, ids...] and n_choices endings, every id drawn from a
// splitmix64 stream seeded by (seed, t) in [3, vocab_size), so task t is the same whatever
// n_tasks is.
std::vector<ScoreRequest> MakeMcRequests(const McWorkload& w, int32_t vocab_size,
                                         int32_t bos_id);

struct EvalRow {
  E2eModelInfo info;
  McWorkload workload;
  int n_threads = 0;
  int n_reps = 0;
  std::vector<double> samples;  // tasks/s of each repetition
  double tasks_per_s = 0, stddev = 0;
  double processed_tokens_per_s = 0, naive_tokens_per_s = 0;
  double logprob_sum = 0;  // sum of every continuation logprob: a checksum of what was scored
  std::string test_time;
  MachineLoad load;        // other processes' CPU use over the timed passes
};

// For each thread count n: `model_for_threads(n)` gives the model to score with (the engine's
// LanguageModel takes its thread count at construction), one untimed warm-up pass over the
// workload, then `reps` timed passes; each pass scores all tasks in Score() calls of `batch`
// tasks.
std::vector<EvalRow> RunEvalBench(
    const std::function<const LanguageModel&(int n_threads)>& model_for_threads,
    const E2eModelInfo& info, const McWorkload& w, const std::vector<int>& threads, int reps);

std::string FormatEvalMarkdown(const std::vector<EvalRow>& rows);
std::string FormatEvalJson(const std::vector<EvalRow>& rows);
std::string FormatEvalCsv(const std::vector<EvalRow>& rows);

}  // namespace doge

#endif  // DOGE_BENCHMARKS_EVAL_BENCH_H_
