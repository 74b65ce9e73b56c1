// PreparedTask: everything about a task that needs no model: the evaluated docs (dataset order),
// their few-shot indices and full context strings, grouped into lighteval tasks ("units": one per
// MMLU subject under card-a, one otherwise). `doge tasks render` prints it; the evaluator scores it.
#ifndef DOGE_TASKS_REQUESTS_H_
#define DOGE_TASKS_REQUESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tasks/prompt.h"
#include "tasks/spec.h"

namespace doge::tasks {

struct EvalDoc {
  std::string subtask;   // "arc_easy", "mmlu:anatomy"
  int64_t doc_index = 0; // row in the evaluation split of its sub-task
  PromptDoc doc;         // eval form (choices as scored)
  std::vector<int64_t> fewshot_indices;  // rows of the few-shot split, in prompt order
  std::string context;   // instruction + shots + query: the string the choices continue
};

struct TaskUnit {
  std::string name;                  // lighteval task: "arc_easy", "mmlu:anatomy", "mmlu"
  std::vector<EvalDoc> docs;         // evaluated docs, dataset order
  int64_t n_docs_in_split = 0;       // before --limit
};

// One split file the task read, for the manifest count check (data::CheckSplitCount).
struct SplitRead {
  std::string dataset, split, subject;  // subject only for mmlu
  int64_t n = 0;                        // documents in the file
};

struct PreparedTask {
  const TaskSpec* spec = nullptr;
  int k = 0;                              // shots used
  std::vector<TaskUnit> units;
  std::vector<std::string> data_files;    // canonical files read, relative to the data dir
  std::vector<std::string> skipped_subjects;  // mmlu subjects without files in the data dir
  std::vector<SplitRead> splits_read;
  // A shard of a task (tasks/distributed.h ShardTask) points at the whole task: quantities lighteval
  // computes over the whole split (generate_until's padded-length budget) are computed over it, so
  // a shard generates exactly what a single run does. nullptr: this task is whole.
  const PreparedTask* whole = nullptr;

  int64_t n_docs() const;
};

struct PrepareOptions {
  std::string data_dir;
  std::string subject;   // "anatomy" for --task mmlu:anatomy; "" = all subjects present
  int num_fewshot = -1;  // -1: the spec's
  int64_t limit = -1;    // first N docs of each unit (dataset order); -1 = all
};

// Loads the splits, selects shots and builds the contexts. MMLU subjects whose test file is absent
// are skipped (listed in skipped_subjects); an explicitly requested absent subject is an error.
PreparedTask PrepareTask(const TaskSpec& spec, const PrepareOptions& options);

// One `doge tasks render` line (compact JSON, no newline): task, doc_index, query, choices,
// gold_index, fewshot_indices. For generate_until tasks `choices` holds the gold list.
std::string RenderLine(const EvalDoc& d);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_REQUESTS_H_
