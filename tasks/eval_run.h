// The files of one evaluation run folder (`doge eval --out-dir DIR`): DIR/results.json (the summary,
// schema kResultsSchema, written last: its presence marks a finished folder) and
// DIR/details/<task>.jsonl (one line per document: the request and what the model did), with the
// in-progress form the resume protocol reads back (<task>.jsonl.partial: a header line naming the
// run, then document lines appended batch by batch; <task>.jsonl.run: the finished file's run).
// The evaluator, `doge eval`, `doge eval merge` and `doge tasks render` all write through here, so
// each line format and schema name exists once; reports/ reads results.json with the same
// schema name (engine/base/run_schema.h).
#ifndef DOGE_TASKS_EVAL_RUN_H_
#define DOGE_TASKS_EVAL_RUN_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/json_writer.h"
#include "engine/base/run_schema.h"
#include "tasks/distributed.h"
#include "tasks/evaluator.h"

namespace doge::tasks {

// ---- Planning a run: which tasks, with which documents ----

// "mmlu:anatomy" -> {"mmlu", "anatomy"}; "arc_easy" -> {"arc_easy", ""}.
std::pair<std::string, std::string> SplitSubtask(const std::string& name);

// The tasks of a `--tasks` value, checked against the specs and the data before anything heavy
// loads, so typos and missing data fail fast.
struct EvalTaskPlan {
  std::vector<std::string> names;     // ours, in order: "arc_easy", "mmlu", "mmlu:anatomy"
  std::map<std::string, int> task_k;  // k from a lighteval string ("lighteval|arc:easy|5|0")
  // --num-fewshot for `name` (-1: the protocol's), as the task will run.
  int NumFewshot(const std::string& name, int num_fewshot) const;
};
// Resolves ours, lighteval's and lm-eval's spellings (task_names.h); `note` receives the remarks
// for stderr as they come. Usage errors: no task, a k that disagrees with --num-fewshot, an
// unknown protocol, a per-subject task (mmlu) given twice (results are keyed by task). A task
// whose split files are absent from `data_dir` is Error(kDataset) naming them all (what
// --allow-count-mismatch accepts is partial files, not missing datasets). "auto" checks against
// card-a: both protocols read the same splits.
EvalTaskPlan PlanEvalTasks(const std::vector<std::string>& given, int num_fewshot, const std::string& protocol,
                           const std::string& data_dir, const std::function<void(const std::string&)>& note);

// Whether the splits `spec` reads with k shots are in `data_dir` (per-subject datasets: any
// subject's evaluation split).
bool TaskDataPresent(const TaskSpec& spec, const std::string& data_dir, int k);

// Builds one task's documents for `doge eval` and checks its split sizes against the manifests
// (data::CheckSplitCount; `check_counts` false on MPI worker ranks, whose files are compared with
// rank 0's by hash instead). A per-subject task with subjects absent fails the count of the whole
// split unless `allow_count_mismatch`, and is named on stderr. A task with no documents is
// Error(kDataset).
PreparedTask PrepareEvalTask(const std::string& name, const std::string& protocol, int num_fewshot, int64_t limit,
                             const std::string& data_dir, bool allow_count_mismatch, bool check_counts);

// ---- Details lines ----

// The request fields every details and `tasks render` line starts with, in this order: task,
// doc_index, query, choices, gold_index, fewshot_indices (inside an open object).
void WriteRequestFields(JsonWriter& w, const std::string& task, int64_t doc_index, const std::string& query,
                        const std::vector<std::string>& choices, int gold_index,
                        const std::vector<int64_t>& fewshot_indices);

// One details line (compact JSON, no newline) and its inverse (throws Error(kFormat) naming
// `where` on a malformed line).
std::string DetailLine(const DocResult& r);
DocResult ParseDetailLine(const std::string& line, const std::string& where);

// The lines of a details or partial file; a torn last line (killed mid-write) is dropped.
std::vector<std::string> ReadDetailsLines(const std::string& path);

// ---- One task's details files ----

// details/<task>.jsonl of one run folder through a run: resume, append per batch, finish. The
// partial file is closed by the destructor when a run stops with an error (what was flushed
// stays for --resume).
class TaskDetailsFiles {
 public:
  // `header`: PartialHeader of the task and run identity.
  TaskDetailsFiles(const std::string& out_dir, const std::string& task, std::string header);
  ~TaskDetailsFiles();
  TaskDetailsFiles(const TaskDetailsFiles&) = delete;
  TaskDetailsFiles& operator=(const TaskDetailsFiles&) = delete;

  // The first line of a partial file: schema, task, protocol, version, k and the run identity.
  static std::string PartialHeader(const PreparedTask& task, const std::string& identity);

  // --resume: puts the saved documents of this run into `results` (matched by task and
  // doc_index; `results` holds each document's request) and marks them in `done`; returns their
  // lines as saved. A file of another run, or a saved request that differs from the one this run
  // builds, is Error(kUsage) naming the file.
  std::vector<std::string> Resume(std::vector<DocResult>& results, std::vector<bool>& done) const;
  // Starts the partial file (atomically) with the header and `kept_lines`, then opens it for
  // appending.
  void StartPartial(const std::vector<std::string>& kept_lines);
  // Appends finished lines ("\n"-terminated) with one write and flush: a kill loses at most them.
  void AppendPartial(const std::string& text);
  // Writes details/<task>.jsonl from `results` and its .run file, and removes the partial file.
  void Finish(const std::vector<DocResult>& results);

  const std::string& partial_path() const { return partial_; }

 private:
  std::string dir_;
  std::string details_;
  std::string partial_;
  std::string header_;
  std::FILE* file_ = nullptr;  // the partial file, open between StartPartial and Finish
};

// A finished task's details written directly (`doge eval merge`): `text` is its lines, `run` its
// .run file content.
void WriteFinishedDetails(const std::string& out_dir, const std::string& task, const std::string& text,
                          const std::string& run);

// ---- results.json ----

// "2026-01-31T12:00:00Z": the `created` field.
std::string UtcTimestamp();

// metrics {name: value} and stderr {name: stderr}, as results.json holds them per task/subtask.
void WriteMetricSummaryJson(JsonWriter& w, const std::map<std::string, MetricSummary>& m);

// Prompt tokens the prefix cache supplied, of the tokens scored, on one task.
struct PrefixReuse {
  int64_t reused = 0, scored = 0;
  double rate() const { return scored > 0 ? static_cast<double>(reused) / static_cast<double>(scored) : 0.0; }
};

// Everything results.json records about one `doge eval` run.
struct EvalRunRecord {
  std::string model_path;  // the folder the weights were read from
  std::string model_id;    // --model as given: a folder or ORG/NAME[@REV]
  std::string model_name;
  int64_t n_params = 0;
  std::string layout;
  std::vector<std::pair<std::string, std::string>> weights_sha256;  // file -> hex
  std::string tokenizer_path, tokenizer_sha256;
  std::string protocol;
  int threads = 0;
  double wall_time_s = 0;
  int64_t limit = -1;  // -1: every document (written as null)
  // --shard: this folder holds one slice of every task.
  bool sharded = false;
  ShardSpec shard;
  std::string run_identity;
  std::vector<std::pair<std::string, int64_t>> n_total;  // task -> documents of the whole task
  // mpirun with several ranks: who scored what (0 ranks: a single process).
  int n_ranks = 0;
  std::vector<RankInfo> ranks;
  std::vector<TaskResult> results;  // in the order run
  std::vector<PrefixReuse> reuse;   // parallel to results
};

// results.json of a run (pretty JSON with the trailing newline), and writing it atomically to
// <out_dir>/results.json.
std::string ResultsJson(const EvalRunRecord& run);
void WriteResultsJson(const std::string& out_dir, const EvalRunRecord& run);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_EVAL_RUN_H_
