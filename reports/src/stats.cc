#include "reports/src/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace doge::reports {

double Median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

namespace {

// counts[u] = number of orderings of n1 x's and n2 y's whose U statistic (pairs x > y) is u,
// by the recurrence f(n1, n2, u) = f(n1 - 1, n2, u - n2) + f(n1, n2 - 1, u) (the largest element
// is either an x, beating all n2 y's, or a y). Doubles: C(40, 20) ~ 1.4e11 is exact in a double.
std::vector<double> ExactCounts(int n1, int n2) {
  // f[a][b] for a <= n1, b <= n2, each a vector over u in [0, a*b].
  std::vector<std::vector<std::vector<double>>> f(n1 + 1, std::vector<std::vector<double>>(n2 + 1));
  for (int a = 0; a <= n1; ++a) {
    for (int b = 0; b <= n2; ++b) {
      std::vector<double>& cur = f[a][b];
      cur.assign(a * b + 1, 0.0);
      if (a == 0 || b == 0) {
        cur[0] = 1;
        continue;
      }
      const std::vector<double>& x_last = f[a - 1][b];  // largest is an x: +b
      const std::vector<double>& y_last = f[a][b - 1];  // largest is a y: +0
      for (size_t u = 0; u < x_last.size(); ++u) cur[u + b] += x_last[u];
      for (size_t u = 0; u < y_last.size(); ++u) cur[u] += y_last[u];
    }
  }
  return f[n1][n2];
}

}  // namespace

double MannWhitneyMinP(int n1, int n2) {
  if (n1 <= 0 || n2 <= 0) return 1;
  // 2 / C(n1 + n2, n1), computed in doubles.
  double c = 1;
  for (int i = 1; i <= n1; ++i) c = c * (n2 + i) / i;
  return std::min(1.0, 2.0 / c);
}

MannWhitneyResult MannWhitneyU(const std::vector<double>& x, const std::vector<double>& y) {
  MannWhitneyResult r;
  const int n1 = static_cast<int>(x.size()), n2 = static_cast<int>(y.size());
  if (n1 == 0 || n2 == 0) return r;
  // Ranks of the pooled sample, ties getting their average rank.
  std::vector<std::pair<double, int>> pooled;  // (value, 0 for x / 1 for y)
  for (double v : x) pooled.emplace_back(v, 0);
  for (double v : y) pooled.emplace_back(v, 1);
  std::sort(pooled.begin(), pooled.end());
  const int n = n1 + n2;
  double rank_sum_x = 0;
  double tie_term = 0;  // sum over tie groups of (t^3 - t)
  bool has_ties = false;
  for (int i = 0; i < n;) {
    int j = i;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    int t = j - i;
    double avg_rank = 0.5 * (i + 1 + j);  // ranks i+1 .. j
    for (int k = i; k < j; ++k) {
      if (pooled[k].second == 0) rank_sum_x += avg_rank;
    }
    if (t > 1) {
      has_ties = true;
      tie_term += static_cast<double>(t) * t * t - t;
    }
    i = j;
  }
  r.u = rank_sum_x - 0.5 * n1 * (n1 + 1.0);
  const double mu = 0.5 * n1 * n2;
  if (!has_ties && std::max(n1, n2) <= kMannWhitneyExactMaxN) {
    // Two-sided exact p = 2 * min(P(U <= u), P(U >= u)), capped at 1 (scipy's definition).
    std::vector<double> counts = ExactCounts(n1, n2);
    double total = 0, le = 0, ge = 0;
    const int u = static_cast<int>(std::lround(r.u));
    for (size_t k = 0; k < counts.size(); ++k) {
      total += counts[k];
      if (static_cast<int>(k) <= u) le += counts[k];
      if (static_cast<int>(k) >= u) ge += counts[k];
    }
    r.p_value = std::min(1.0, 2.0 * std::min(le, ge) / total);
    r.exact = true;
    return r;
  }
  // Normal approximation: var(U) = n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1))).
  const double var = n1 * static_cast<double>(n2) / 12.0 *
                     ((n + 1.0) - tie_term / (static_cast<double>(n) * (n - 1.0)));
  if (var <= 0) {
    r.p_value = 1;  // every value equal: no evidence of a difference
    return r;
  }
  // Continuity correction of 0.5 towards the mean, as scipy's use_continuity=True.
  const double z = std::max(0.0, std::fabs(r.u - mu) - 0.5) / std::sqrt(var);
  r.p_value = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return r;
}

}  // namespace doge::reports
