// lighteval metric ports; see metrics.h.
#include "tasks/metrics.h"

#include <cmath>
#include <limits>

#include "engine/base/error.h"
#include "tasks/text_util.h"

namespace doge::tasks {

int ArgMax(const std::vector<double>& v) {
  int best = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[best]) best = static_cast<int>(i);
  }
  return best;
}

std::vector<double> CharNormalized(const std::vector<double>& logprobs,
                                   const std::vector<std::string>& choices, bool ignore_first_space,
                                   const std::string& where) {
  std::vector<double> out(logprobs.size());
  for (size_t i = 0; i < logprobs.size(); ++i) {
    int64_t len = CodePointLength(choices[i]);
    if (ignore_first_space && !choices[i].empty() && choices[i][0] == ' ') --len;
    if (len <= 0) {
      throw Error(ErrorKind::kDataset, where, "choices[" + std::to_string(i) + "]",
                  "choice '" + choices[i] + "' has no characters to normalise by");
    }
    out[i] = logprobs[i] / static_cast<double>(len);
  }
  return out;
}

std::map<std::string, double> MultipleChoiceMetrics(const std::vector<std::string>& metric_names,
                                                    const std::vector<double>& logprobs,
                                                    const std::vector<std::string>& choices,
                                                    int gold_index, const std::string& where) {
  std::map<std::string, double> out;
  for (const std::string& m : metric_names) {
    int pred;
    if (m == "acc") {
      pred = ArgMax(logprobs);
      out["acc"] = pred == gold_index;
    } else if (m == "acc_norm" || m == "acc_norm_nospace") {
      pred = ArgMax(CharNormalized(logprobs, choices, m == "acc_norm_nospace", where));
      out["acc_norm"] = pred == gold_index;
    }
  }
  return out;
}

double QuasiExactMatch(const std::string& prediction, const std::vector<std::string>& golds) {
  if (prediction.empty()) return 0;
  const std::string pred = RemoveAsciiPunctuation(PyLower(PyStrip(prediction)));
  for (const std::string& g : golds) {
    if (PyStrip(g) == pred) return 1;
  }
  return 0;
}

std::string CutAtStops(std::string text, const std::vector<std::string>& stops) {
  for (const std::string& s : stops) {
    if (s.empty()) continue;  // Python's split("") would raise; never in our specs
    const size_t p = text.find(s);
    if (p != std::string::npos) text.resize(p);
  }
  return text;
}

MetricSummary MeanAndStderr(const std::vector<double>& values) {
  MetricSummary s;
  const size_t n = values.size();
  if (n == 0) {
    s.value = s.stderr = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  // Summed in double in document order, like Python's sum over the per-doc list.
  double sum = 0;
  for (double v : values) sum += v;
  s.value = sum / static_cast<double>(n);
  if (n < 2) {
    s.stderr = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  double ss = 0;
  for (double v : values) ss += (v - s.value) * (v - s.value);
  s.stderr = std::sqrt(ss / static_cast<double>(n - 1)) / std::sqrt(static_cast<double>(n));
  return s;
}

}  // namespace doge::tasks
