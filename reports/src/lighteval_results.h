// `doge report card` also reads a lighteval 0.7 results file (results_<time>.json: config_general,
// results keyed "suite|task|k"), so a row from a lighteval run can stand beside doge's. The keys
// are mapped onto doge's task names (arc:easy -> arc_easy, mmlu:<subject> and mmlu:_average ->
// mmlu); the counts come from config_tasks / summary_tasks.
#ifndef DOGE_REPORTS_SRC_LIGHTEVAL_RESULTS_H_
#define DOGE_REPORTS_SRC_LIGHTEVAL_RESULTS_H_

#include <string>

#include "reports/src/card.h"
#include "reports/src/json_read.h"

namespace doge::reports {

// True for a lighteval results object (config_general and results, no doge schema).
bool IsLightevalResults(const JsonNode& root);

// Converts one. Throws Error(kFormat, path, field, ...) for a malformed file or a metric
// outside [0, 1]; keys of tasks doge has no name for are skipped.
EvalResults LightevalToEvalResults(const std::string& path, const JsonNode& root);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_LIGHTEVAL_RESULTS_H_
