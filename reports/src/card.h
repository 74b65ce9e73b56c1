// `doge report card`: the model-card evaluation table rebuilt from `doge eval` results.json
// files (schema doge.results/1), beside the published numbers (reports/published/
// doge-model-card.json, built into the binary) with the delta and our standard error per cell.
//
// Column mapping (the card's columns from our tasks; fractions -> percent):
//   MMLU       mmlu         card-a: acc (macro over 57 subjects), card-b: acc_norm (micro)
//   TriviaQA   triviaqa     qem
//   ARC        arc_easy, arc_challenge   acc_norm, unweighted mean of the two BEFORE rounding
//   PIQA       piqa         acc_norm
//   HellaSwag  hellaswag    acc_norm
//   OBQA       openbookqa   acc_norm
//   Winogrande winogrande   acc
//   tokens/s   `doge bench e2e` (--bench): decode tg128 at the largest thread count measured
#ifndef DOGE_REPORTS_SRC_CARD_H_
#define DOGE_REPORTS_SRC_CARD_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/fingerprint.h"
#include "engine/base/run_schema.h"  // kResultsSchema: the results.json tasks/ writes
#include "reports/src/decimal.h"

namespace doge::reports {

inline constexpr char kPublishedCardSchema[] = "doge.published_card/1";
inline constexpr char kCardReportSchema[] = "doge.report.card/1";

// One task of a results.json ("tasks.<name>").
struct TaskResult {
  std::string name;         // "arc_easy"
  std::string protocol;     // "card-a"
  int64_t version = 0;
  int64_t k = 0;            // few-shot count
  std::string split;        // evaluated split
  std::string aggregation;  // "mean" | "macro" | "micro"
  int64_t n = 0;            // documents scored
  int64_t n_subtasks = 0;   // entries of "subtasks" (0 when absent)
  std::map<std::string, double> metrics;  // fractions in [0, 1]
  std::map<std::string, double> stderrs;  // same keys, standard error of the mean
};

// The parts of a results.json the card needs.
struct EvalResults {
  std::string file;
  MachineFingerprint fingerprint;
  std::string git_revision;
  std::string created;
  std::string model_path;
  std::string model_name;  // folder basename ("Doge-20M")
  int64_t n_params = 0;
  std::string weights_sha256;  // model.sha256["model.safetensors"], empty when absent
  std::string protocol;
  int64_t threads = 0;
  std::optional<int64_t> limit;
  std::map<std::string, TaskResult> tasks;
};

// Throws doge::Error(kFormat) naming the file and field for a wrong schema, a missing field or a
// metric outside [0, 1].
EvalResults LoadEvalResults(const std::string& path);

struct PublishedRow {
  std::string model;     // "Doge-20M"
  std::string protocol;  // "card-a" | "card-b"
  std::string protocol_note;
  std::map<std::string, std::string> values;  // column -> value as printed on the card ("0.03")
  std::string tokens_per_s;                   // as printed ("142"), empty when absent
};

struct PublishedCard {
  std::string file;  // path, or "<built-in reports/published/doge-model-card.json>"
  std::string source_url;
  std::string source_commit;
  std::string source_date;
  std::string tokens_per_s_cpu;
  std::vector<PublishedRow> rows;
};

// `path` empty: the copy of reports/published/doge-model-card.json compiled into the binary.
PublishedCard LoadPublishedCard(const std::string& path);
// The compiled-in JSON text (generated from reports/published/doge-model-card.json by CMake).
const char* BuiltinPublishedCardJson();

// The card's columns, in order.
const std::vector<std::string>& CardColumns();

// Card rounding of a percentage: half-up, one decimal; TriviaQA additionally keeps two decimals
// when one decimal would print 0.0 (the card prints Doge-20M's 5/17944 = 0.028% as "0.03", not
// "0.0", while 0.18 is printed "0.2"), so a non-zero score never looks like zero.
std::string FormatCardPercent(const std::string& column, const Decimal& percent);

struct CardCell {
  bool present = false;           // false: the task(s) were missing ("—")
  Decimal ours;                   // percent, unrounded
  double ours_se = 0;             // percent
  std::string ours_text;          // rounded as the card rounds
  std::string published_text;     // empty when no published value
  bool has_delta = false;
  Decimal delta;                  // ours (unrounded) - published (as printed), percent points
  int delta_decimals = 1;         // as many decimals as the published value shows
  bool flagged = false;           // |delta| > 2 se
  // se is 0 by construction (0 or N of N correct: p(1 - p) = 0), so a 2-se test says nothing:
  // the cell shows "test n/a" instead of a flag.
  bool test_na = false;
  std::string note;               // "mmlu (card-a, k=5, acc, test split, ...)"
};

struct CardRow {
  EvalResults results;
  std::optional<PublishedRow> published;
  std::vector<CardCell> cells;  // one per CardColumns()
  bool has_tokens_per_s = false;
  double tokens_per_s = 0;      // decode tg128 avg_ts at the largest thread count
  std::string tokens_per_s_note;  // "tg128, 2 threads, <cpu> (<file>)"
};

struct ModelCard {
  PublishedCard published;
  std::vector<CardRow> rows;
  std::vector<std::string> warnings;  // also printed to stderr by the CLI
};

struct CardOptions {
  std::vector<std::string> results_files;
  std::vector<std::string> bench_files;  // doge bench e2e JSON
  std::string published_file;            // empty: built-in
  // "ROW" (only with a single results file) or "MODEL=ROW": match a model to a published row
  // other than by its folder name.
  std::vector<std::string> published_rows;
  // Missing task columns print "—" with a warning instead of failing.
  bool allow_missing = false;
};

// Loads and checks everything; throws doge::Error for bad input (see card.cc for the rules:
// the same model twice, missing tasks without allow_missing, unknown published row, ...).
ModelCard BuildModelCard(const CardOptions& options);

std::string RenderCardMarkdown(const ModelCard& card);
std::string RenderCardJson(const ModelCard& card);  // schema doge.report.card/1 + fingerprint
std::string RenderCardHtml(const ModelCard& card);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_CARD_H_
