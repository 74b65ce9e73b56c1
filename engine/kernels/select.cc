// The optimized set's selection kernels (kernel_set.h: topk_mask, moe_route): partial selection
// instead of the reference's full stable sorts, with the same tie rules, so the results are
// identical (kernels_test checks them with max_nmse 0).
#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

#include "engine/kernels/kernel_internal.h"

namespace doge {

void SelectTopkMask(float* mask, int64_t n, int64_t keep, float* scratch) {
  // Threshold = the keep-th largest value; keep all above it and, among ties at the threshold,
  // the earliest ones. O(n) on average (nth_element) instead of a sort of the row.
  std::memcpy(scratch, mask, static_cast<size_t>(n) * sizeof(float));
  std::nth_element(scratch, scratch + (keep - 1), scratch + n, std::greater<float>());
  const float kth = scratch[keep - 1];
  int64_t n_above = 0;
  for (int64_t j = 0; j < n; ++j) n_above += mask[j] > kth;
  int64_t ties_left = keep - n_above;
  for (int64_t j = 0; j < n; ++j) {
    if (mask[j] > kth) continue;
    if (mask[j] == kth && ties_left > 0) {
      --ties_left;
      continue;
    }
    mask[j] = -std::numeric_limits<float>::infinity();
  }
}

void SelectMoeRoute(const float* scores, int64_t K, int64_t top, float* scratch, int32_t* iscratch,
                    int32_t* experts, float* weights) {
  // Candidate (a, b) is preceded, in the order (score desc, a·K + b asc), by every (a', b') with
  // a' <= a, b' <= b: both halves are sorted descending and float addition is monotone, so their
  // scores are >= and their indices lower. So a candidate with (a + 1)(b + 1) > top has at least
  // `top` candidates before it and cannot be picked: only ranks below `top` in each half matter,
  // and only pairs with (a + 1)(b + 1) <= top (about top·ln(top) of them instead of K²).
  const int64_t m = std::min(K, top);
  int32_t* ix = iscratch;      // [K] x indices, the first m ranked
  int32_t* iy = ix + K;        // [K] y indices, the first m ranked
  int32_t* cidx = iy + K;      // [n <= K²] candidate a·K + b, then [n] the order
  float* cand = scratch;       // [K²] candidate scores, indexed like cidx
  std::iota(ix, ix + K, 0);
  std::iota(iy, iy + K, 0);
  const float* sy = scores + K;
  std::partial_sort(ix, ix + m, ix + K, [scores](int32_t a, int32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  std::partial_sort(iy, iy + m, iy + K, [sy](int32_t a, int32_t b) {
    return sy[a] > sy[b] || (sy[a] == sy[b] && a < b);
  });
  int64_t n = 0;
  for (int64_t a = 0; a < m; ++a) {
    for (int64_t b = 0; b < m && (a + 1) * (b + 1) <= top; ++b) {
      cidx[n] = static_cast<int32_t>(a * K + b);
      cand[n] = scores[ix[a]] + sy[iy[b]];
      ++n;
    }
  }
  // n >= top: the `top` best candidates all satisfy the bound above.
  int32_t* order = cidx + n;  // [n] positions into cidx / cand
  std::iota(order, order + n, 0);
  std::partial_sort(order, order + top, order + n, [&](int32_t p, int32_t q) {
    return cand[p] > cand[q] || (cand[p] == cand[q] && cidx[p] < cidx[q]);
  });
  for (int64_t e = 0; e < top; ++e) {
    const int32_t c = cidx[order[e]];
    experts[e] = ix[c / K] * static_cast<int32_t>(K) + iy[c % K];
    weights[e] = cand[order[e]];
  }
}

}  // namespace doge
