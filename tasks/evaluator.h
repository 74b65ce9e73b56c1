// The evaluator: turns a PreparedTask into model requests (lighteval's pair tokenisation, BOS,
// single-token MMLU, greedy generation with stops), scores them through a LanguageModel in
// batches of documents (the engine parallelises inside a batch), computes per-doc and aggregate
// metrics, and keeps per-doc results in an append-only partial file so a killed run resumes (the
// files themselves: tasks/eval_run.h).
#ifndef DOGE_TASKS_EVALUATOR_H_
#define DOGE_TASKS_EVALUATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/lm.h"
#include "engine/tokenizer/tokenizer.h"
#include "tasks/generation.h"
#include "tasks/metrics.h"
#include "tasks/requests.h"

namespace doge::tasks {

// lighteval tok_encode_pair (non-pairwise): trailing whitespace of the context moves to the front
// of the continuation; whole = Encode(context + continuation), ctx = Encode(context), both with
// special tokens; the continuation is whole[len(ctx):], and when the two have the same length the
// last token counts as continuation (ctx = whole[:-1]). An empty context (before the move) becomes
// [eos] and the continuation Encode(continuation) with special tokens, as lighteval's loglikelihood.
struct PairTokens {
  std::vector<int32_t> context;       // [n_ctx]
  std::vector<int32_t> continuation;  // [n_cont]
};
PairTokens EncodePair(const Tokenizer& tok, const std::string& context, const std::string& continuation);

// One evaluated document, as written to details/<task>.jsonl (and the partial file).
struct DocResult {
  std::string subtask;
  int64_t doc_index = 0;
  std::string query;                     // the full context string
  std::vector<std::string> choices;      // continuations (generate_until: the gold list)
  int gold_index = 0;
  std::vector<int64_t> fewshot_indices;
  std::vector<double> logprobs;          // [n_choices] summed continuation log-probs
  std::vector<int32_t> n_tokens;         // [n_choices] continuation tokens
  std::vector<bool> is_greedy;           // [n_choices]
  std::string generation;                // generate_until: decoded, cut at the stops
  int64_t context_tokens = 0;            // context tokens (after truncation to max_length)
  int64_t processed_tokens = 0;          // tokens through the model: context once + continuations
  int prediction = -1;                   // argmax choice by the task's first metric (-1: generative)
  std::map<std::string, double> metrics; // reported metric name -> 0/1
};

struct SubtaskSummary {
  int64_t n = 0;
  std::map<std::string, MetricSummary> metrics;
};

struct TaskResult {
  const TaskSpec* spec = nullptr;
  int k = 0;
  int64_t n = 0;
  std::map<std::string, MetricSummary> metrics;  // reported names (acc, acc_norm, qem)
  std::vector<std::pair<std::string, SubtaskSummary>> subtasks;  // mmlu only, subject order
  std::vector<std::pair<std::string, std::string>> dataset_sha256;  // relative file -> hex
  std::vector<std::string> skipped_subjects;
  double wall_time_s = 0;        // this run's time on the task
  int64_t docs_scored = 0;       // docs scored in this run (the rest came from --resume)
  int64_t tokens_processed = 0;  // in this run
  double docs_per_s = 0, scored_tokens_per_s = 0;
  GenerationBudget generation_budget;  // generate_until: lighteval's padded-length budget
};

// Spreads the scoring of a task's documents over several processes (tasks/distributed.h does it
// over MPI). EvaluateTask calls it on every process with the same task: the coordinator (rank 0)
// keeps the files (resume, partial file, details) and hands out `pending`; the others Serve().
// Positions index the task's documents in dataset order (units concatenated).
class DocDispatcher {
 public:
  virtual ~DocDispatcher() = default;
  // Scores positions in this process; returns their details lines (DetailLine), in order.
  using ScoreFn = std::function<std::vector<std::string>(const std::vector<size_t>& positions)>;
  // Coordinator only, on the calling thread: a batch is finished. `remote`: its results came from
  // another process as `lines` and are not yet in place; otherwise `score` already filled them.
  using FinishFn = std::function<void(const std::vector<size_t>& positions,
                                      const std::vector<std::string>& lines, bool remote)>;
  virtual bool coordinator() const = 0;
  // Coordinator: gets every position of `pending` scored (here or elsewhere, in batches of at
  // most `batch_docs`), calling `finished` once per batch as it arrives (any order).
  virtual void Run(const std::vector<size_t>& pending, size_t batch_docs, const ScoreFn& score,
                   const FinishFn& finished) = 0;
  // Other processes: scores the batches the coordinator sends until it says the task is done.
  virtual void Serve(const ScoreFn& score) = 0;
};

struct EvalOptions {
  std::string out_dir;          // details/<task>.jsonl (+ .run: the run identity, + .partial while
                                // running) go here ("" = keep nothing)
  std::string data_dir;         // for dataset hashes
  bool resume = false;          // reuse per-doc results of an interrupted run with the same setup
  int batch_docs = 64;          // documents per engine call (and per partial-file flush)
  bool show_progress = true;
  std::string run_identity;     // model sha + protocol + k ...: a partial file must match it
  // Called after each flushed batch with the number of docs scored so far in this run (tests use
  // it to kill the process at a known point).
  std::function<void(int64_t)> after_batch;
  // nullptr: score every document in this process (the single-process run). Otherwise see
  // DocDispatcher; on a non-coordinator EvaluateTask only serves and returns an empty TaskResult.
  DocDispatcher* dispatcher = nullptr;
};

TaskResult EvaluateTask(const PreparedTask& task, const LanguageModel& lm, const Tokenizer& tok,
                        const EvalOptions& options);

// Recomputes the per-doc metrics of `r` from its recorded log-probs / generation.
void ComputeDocMetrics(const TaskSpec& spec, DocResult& r);
// Aggregates per-doc results: mean per unit; macro = mean of unit means (and of unit stderrs, as
// lighteval's _average rows do); micro/mean = mean over all docs.
void AggregateTask(const PreparedTask& task, const std::vector<DocResult>& results, TaskResult& out);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_EVALUATOR_H_
