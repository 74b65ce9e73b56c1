// Statistics for `doge report compare`: medians and the Mann-Whitney U test over benchmark
// repetitions, as google/benchmark's tools/compare.py applies it (scipy.stats.mannwhitneyu,
// two-sided). Like scipy's method="auto": exact null distribution when there are no ties and the
// samples are small, otherwise the normal approximation with tie and continuity correction.
#ifndef DOGE_REPORTS_SRC_STATS_H_
#define DOGE_REPORTS_SRC_STATS_H_

#include <vector>

namespace doge::reports {

double Median(std::vector<double> v);  // NaN for an empty vector

struct MannWhitneyResult {
  double u = 0;        // U statistic of the first sample: #pairs (x_i > y_j) + 0.5 #ties
  double p_value = 1;  // two-sided
  bool exact = false;  // exact distribution (true) or normal approximation (false)
};

// Largest sample size (per side) for which the exact distribution is used when there are no ties.
// scipy switches at 8; the exact counts are cheap far beyond that, and exact is more accurate for
// the 5-20 repetitions benchmarks use, so we keep it up to 20 (documented in the report legend).
constexpr int kMannWhitneyExactMaxN = 20;

// Requires both samples non-empty (p = 1 otherwise).
MannWhitneyResult MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y);

// Smallest two-sided p-value the exact test can produce for sample sizes n1, n2 (2 / C(n1+n2, n1)):
// with 3 vs 3 repetitions it is 0.1, so no difference can be significant at alpha = 0.05.
double MannWhitneyMinP(int n1, int n2);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_STATS_H_
