// `doge eval --output-format doge|lighteval|lm-eval`: after doge's results.json and
// details/<task>.jsonl are written, converts them into the files lighteval's and
// lm-evaluation-harness's own tools read, inside the same output folder. Only what doge wrote
// is read, so a conversion can also be redone later from a finished run folder.
//
// lighteval 0.7 (docs "Saving and reading results"; evaluation_tracker.py):
//   <out>/results/<model_name>/results_<ts>.json    model_name "ORG/NAME" (two folders) or the
//                                                    folder's name; ts 2026-01-31T12-00-00.000000
//     config_general {lighteval_sha, num_fewshot_seeds, override_batch_size, max_samples, job_id,
//                     start_time, end_time, total_evaluation_time_secondes, model_name,
//                     model_sha, model_dtype, model_size}
//     results        {"suite|task|k": {metric, metric_stderr, ...}, ..., "all": mean of each metric}
//                    MMLU card-a: one "original|mmlu:<subject>|k" key per subject plus
//                    "original|mmlu:_average|k"
//     versions       {"suite|task|k": version, "all": 0}
//     config_tasks   {"suite|task": {name, suite, hf_subset, evaluation_splits, few_shots_split,
//                     few_shots_select, metric, original_num_docs, effective_num_docs, version}}
//     summary_tasks  {"suite|task|k": {hashes, truncated, non_truncated, padded, non_padded,
//                     effective_few_shots, num_truncated_few_shots}}
//     summary_general {hashes, truncated, non_truncated, padded, non_padded, num_truncated_few_shots}
//   <out>/details/<model_name>/<ts>/details_<suite|task|k>_<ts>.jsonl: lighteval writes parquet;
//     doge writes the same columns (example, full_prompt, choices, gold_index, predictions,
//     metrics, num_effective_few_shots ...) as JSON lines, one file per task key.
// lm-evaluation-harness 0.4 (docs "Saving results"; evaluator.py / evaluation_tracker.py):
//   <out>/<model_name_sanitized>/results_<ts>.json   ("/" -> "__")
//     results {"<task>": {"alias", "acc,none", "acc_stderr,none", ...}}, groups (mmlu),
//     group_subtasks, configs {"<task>": {task, dataset_path, test_split, fewshot_split,
//     num_fewshot, output_type, metric_list, metadata.version}}, versions, n-shot,
//     higher_is_better, n-samples {"<task>": {original, effective}}, config, git_hash, date,
//     model_name, model_name_sanitized, total_evaluation_time_seconds
//   <out>/<model_name_sanitized>/samples_<task>_<ts>.jsonl: doc_id, doc, target, arguments,
//     resps, filtered_resps, filter, metrics, doc_hash, prompt_hash, target_hash, <metric> values
// Task names: lm-eval's are ours (arc_easy ...; MMLU subjects mmlu_<subject>); lighteval's come
// from each spec's `lighteval` field. Metric names are doge's (acc, acc_norm, qem).
#ifndef DOGE_TASKS_EXPORT_FORMATS_H_
#define DOGE_TASKS_EXPORT_FORMATS_H_

#include <string>
#include <vector>

namespace doge::tasks {

// "doge,lm-eval" -> {"doge", "lm-eval"} (order kept, duplicates dropped). Accepts "lm_eval" and
// "lmeval" for lm-eval. Throws Error(kUsage, "", "--output-format", ...) naming the nearest.
std::vector<std::string> ParseOutputFormats(const std::string& text);

// Writes the `format` files ("lighteval" | "lm-eval"; "doge" writes nothing: results.json is
// its file) for the run in `out_dir`. Returns the paths written. Throws Error(kFormat, file,
// field, ...) when results.json or a details file is not what doge writes.
std::vector<std::string> ExportResults(const std::string& out_dir, const std::string& format);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_EXPORT_FORMATS_H_
