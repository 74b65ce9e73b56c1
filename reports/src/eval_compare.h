// `doge report compare BASE NEW` on two `doge eval` runs: did a change move the
// model's outputs? BASE and NEW are eval output folders (results.json + details/<task>.jsonl) or
// their results.json. Per task, over the documents both runs scored:
//  - each metric (acc, acc_norm, qem) base vs new as results.json reports it, with the paired
//    per-document counts (correct in base only, in new only) and an exact McNemar test on them
//    (two-sided exact binomial test of the discordant pairs against p = 1/2);
//  - the documents whose prediction flipped (details "prediction": argmax choice, or the
//    generation of a generative task);
//  - per-choice log-likelihood drift |new - base| of the details "logprobs": max, 99th
//    percentile, how many exceed the limit, and the documents with the largest.
// Verdict FAIL (the CLI exits 1) when any metric's McNemar p < alpha or any drift exceeds
// max_logprob_drift; PASS (exit 0) otherwise. Runs that are not the same experiment (protocol,
// task version, k, split, limit, model weights, tokenizer, dataset hashes, document sets) are
// refused naming every difference, unless `force` (then they are listed in the report).
#ifndef DOGE_REPORTS_SRC_EVAL_COMPARE_H_
#define DOGE_REPORTS_SRC_EVAL_COMPARE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace doge::reports {

inline constexpr char kEvalCompareSchema[] = "doge.report.eval-compare/1";

// True when `path` is a `doge eval` output: a folder, or a JSON file whose schema is
// doge.results/1 (anything else goes to the benchmark comparison).
bool IsEvalRunInput(const std::string& path);

struct McNemarResult {
  int64_t base_only = 0;  // correct in BASE, wrong in NEW (b)
  int64_t new_only = 0;   // wrong in BASE, correct in NEW (c)
  double p_value = 1;     // two-sided: min(1, 2 * P(X <= min(b, c))), X ~ Binomial(b + c, 1/2)
};
// Exact McNemar test; p = 1 when there are no discordant pairs.
McNemarResult ExactMcNemar(int64_t base_only, int64_t new_only);

struct EvalCompareOptions {
  std::string base_path, new_path;
  double alpha = 0.05;               // significance level of the McNemar tests
  double max_logprob_drift = 1e-4;   // largest |Δ log-likelihood| per choice that counts as the same math
  bool force = false;                // compare runs of different setups anyway
  int n_worst = 5;                   // documents listed per task by largest drift
};

struct MetricComparison {
  std::string name;               // acc | acc_norm | qem
  double base = 0, neu = 0;       // results.json values
  double diff = 0;                // neu - base
  McNemarResult mcnemar;
  bool significant = false;       // p < alpha
};

struct DocRef {
  std::string subtask;            // details "task" (the MMLU subject for mmlu)
  int64_t doc_index = 0;
};

struct FlippedDoc {
  DocRef doc;
  std::string base_prediction, new_prediction;  // choice index or generation, as text
};

struct DriftEntry {
  DocRef doc;
  int choice = 0;
  double base = 0, neu = 0, delta = 0;  // log-likelihoods and neu - base
};

struct TaskComparison {
  std::string task;
  int64_t n_docs = 0;             // documents in both runs
  std::vector<MetricComparison> metrics;
  std::vector<FlippedDoc> flipped;
  int64_t n_choices = 0;          // per-choice log-likelihood pairs
  double max_abs_drift = 0, p99_abs_drift = 0;
  int64_t n_over_drift = 0;       // pairs with |Δ| > max_logprob_drift
  std::vector<DriftEntry> worst;  // largest |Δ| first, one per document
  std::vector<std::pair<double, double>> scatter;  // (base, new) per choice, for the HTML
  std::vector<std::string> reasons;  // why this task fails ("acc_norm p=0.01 < 0.05", "drift ...")
};

struct EvalCompareReport {
  EvalCompareOptions options;
  std::string base_results, new_results;  // the results.json files read
  std::vector<std::string> mismatches;    // setup differences (non-empty only with force)
  std::vector<std::string> warnings;
  std::vector<TaskComparison> tasks;
  bool failed = false;
};

// Throws doge::Error: kUsage for bad options, kIo/kFormat for unreadable or malformed inputs
// (naming file, line and field), kFormat listing every setup difference when !force.
EvalCompareReport CompareEvalRuns(const EvalCompareOptions& options);

std::string RenderEvalCompareMarkdown(const EvalCompareReport& report);
std::string RenderEvalCompareJson(const EvalCompareReport& report);
// Tables plus, per task, an inline SVG scatter of base vs new per-choice log-likelihood (y = x
// drawn; points beyond the drift limit in red).
std::string RenderEvalCompareHtml(const EvalCompareReport& report);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_EVAL_COMPARE_H_
