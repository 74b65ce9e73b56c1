// Per-document metrics and their aggregation, as lighteval 0.7.0 computes them
// (metrics_sample.py, normalizations.py, stderr.py, info_loggers.py).
#ifndef DOGE_TASKS_METRICS_H_
#define DOGE_TASKS_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace doge::tasks {

// np.argmax: the first maximum wins ties.
int ArgMax(const std::vector<double>& v);

// Scores per choice for acc_norm: logprob / len(choice) in code points; the nospace variant
// divides by len - 1 when the choice starts with " ". Throws Error(kDataset) naming `where` for a
// zero length (Python would raise ZeroDivisionError).
std::vector<double> CharNormalized(const std::vector<double>& logprobs,
                                   const std::vector<std::string>& choices, bool ignore_first_space,
                                   const std::string& where);

// Per-doc metric values (1 or 0) of a multiple-choice doc, for the spec's metric names
// ("acc", "acc_norm", "acc_norm_nospace"); the map is keyed by the reported name (acc_norm).
std::map<std::string, double> MultipleChoiceMetrics(const std::vector<std::string>& metric_names,
                                                    const std::vector<double>& logprobs,
                                                    const std::vector<std::string>& choices,
                                                    int gold_index, const std::string& where);

// quasi_exact_match_triviaqa: 0 for an empty prediction; else both stripped, the prediction
// lower-cased and de-punctuated, exact equality with any gold.
double QuasiExactMatch(const std::string& prediction, const std::vector<std::string>& golds);

// The generated text as lighteval keeps it: cut at the first occurrence of each stop string in
// turn (decoded.split(term)[0] for term in stops).
std::string CutAtStops(std::string text, const std::vector<std::string>& stops);

struct MetricSummary {
  double value = 0;   // mean
  double stderr = 0;  // sample standard deviation (ddof 1) / sqrt(n); NaN when n < 2
};
// lighteval mean_stderr.
MetricSummary MeanAndStderr(const std::vector<double>& values);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_METRICS_H_
