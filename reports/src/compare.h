// `doge report compare BASE NEW`: did a change make things slower? Works on Google Benchmark JSON
// (kernel benchmarks, per-repetition real time) and on `doge bench e2e|eval` rows (per-repetition
// tokens/s or tasks/s). Per benchmark: the change of the median, a two-sided Mann-Whitney U test
// over the repetitions (as google/benchmark's tools/compare.py), and a verdict:
//   REGRESSION   p < alpha and the median got worse by more than the threshold
//   improvement  p < alpha and the median got better by more than the threshold
//   noise        otherwise (not significant, or a significant change within the threshold)
// The CLI exits 1 when any benchmark is a REGRESSION. Runs whose fingerprints differ (another
// CPU, core count, compiler, flags or build type) are refused unless `force`.
#ifndef DOGE_REPORTS_SRC_COMPARE_H_
#define DOGE_REPORTS_SRC_COMPARE_H_

#include <string>
#include <vector>

#include "engine/base/fingerprint.h"

namespace doge::reports {

inline constexpr char kCompareReportSchema[] = "doge.report.compare/1";

struct CompareOptions {
  std::string base_file;
  std::string new_file;
  double threshold_pct = 5;  // |median change| that counts, in percent
  double alpha = 0.05;       // significance level of the U test (compare.py's default)
  bool force = false;        // compare runs from different machines/builds anyway
};

struct BenchComparison {
  std::string name;
  std::string unit;              // "ns" (time, lower is better) | "tok/s" | "tasks/s"
  bool higher_is_better = false;
  int n_base = 0, n_new = 0;     // repetitions
  double median_base = 0, median_new = 0;
  double change_pct = 0;         // (median_new / median_base - 1) * 100
  double p_value = 1;
  bool exact = false;            // exact U distribution (else normal approximation)
  bool testable = true;          // false when min attainable p >= alpha (too few repetitions)
  std::string verdict;           // "REGRESSION" | "improvement" | "noise"
};

struct CompareReport {
  std::string kind;  // "doge.bench.kernels/1" | "doge.bench.e2e/1" | "doge.bench.eval/1"
  CompareOptions options;
  MachineFingerprint base_fp, new_fp;
  std::vector<std::string> differences;  // FingerprintDifferences (non-empty only with force)
  std::vector<BenchComparison> rows;
  std::vector<std::string> only_base, only_new;  // benchmarks present on one side
  std::vector<std::string> warnings;
  int n_regressions = 0;
};

// Throws doge::Error: kFormat for bad or mismatched inputs, kFormat naming the differences when
// the fingerprints differ and !force.
CompareReport CompareRuns(const CompareOptions& options);

std::string RenderCompareMarkdown(const CompareReport& report);
std::string RenderCompareJson(const CompareReport& report);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_COMPARE_H_
