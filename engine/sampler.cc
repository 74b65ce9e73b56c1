// Greedy / temperature / top-k / top-p sampling.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

namespace doge {

int32_t Argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplerConfig& config) : config_(config), rng_(config.seed) {}

int32_t Sampler::Sample(const float* logits, int64_t n) {
  if (config_.temperature <= 0.0) return Argmax(logits, n);
  probs_.resize(static_cast<size_t>(n));
  double mx = logits[Argmax(logits, n)];
  for (int64_t i = 0; i < n; ++i) {
    probs_[i] = {std::exp((logits[i] - mx) / config_.temperature), static_cast<int32_t>(i)};
  }
  // Sort by probability (descending), ids ascending on ties, so the cut is deterministic.
  std::sort(probs_.begin(), probs_.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  int64_t keep = n;
  if (config_.top_k > 0 && config_.top_k < keep) keep = config_.top_k;
  double total = 0;
  for (int64_t i = 0; i < keep; ++i) total += probs_[i].first;
  if (config_.top_p < 1.0) {
    // Smallest prefix whose probability mass reaches top_p (at least one token).
    double cum = 0;
    int64_t k = 0;
    while (k < keep) {
      cum += probs_[k].first / total;
      ++k;
      if (cum >= config_.top_p) break;
    }
    keep = k;
    total = 0;
    for (int64_t i = 0; i < keep; ++i) total += probs_[i].first;
  }
  std::uniform_real_distribution<double> uni(0.0, total);
  const double r = uni(rng_);
  double cum = 0;
  for (int64_t i = 0; i < keep; ++i) {
    cum += probs_[i].first;
    if (r < cum) return probs_[i].second;
  }
  return probs_[keep - 1].second;
}

}  // namespace doge
