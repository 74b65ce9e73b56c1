// Token sampling for `doge generate`: greedy (temperature 0) or temperature / top-k / top-p with an
// explicit seed, so a run is reproducible.
#ifndef DOGE_ENGINE_SAMPLER_H_
#define DOGE_ENGINE_SAMPLER_H_

#include <cstdint>
#include <random>
#include <vector>

namespace doge {

struct SamplerConfig {
  double temperature = 0.0;  // <= 0: greedy argmax
  int64_t top_k = 0;         // 0: no top-k cut
  double top_p = 1.0;        // 1: no nucleus cut
  uint64_t seed = 0;
};

// Index of the largest value; the first one on ties (as torch.argmax).
int32_t Argmax(const float* logits, int64_t n);

class Sampler {
 public:
  explicit Sampler(const SamplerConfig& config);
  // Picks a token from logits [n]. Greedy when temperature <= 0.
  int32_t Sample(const float* logits, int64_t n);

 private:
  SamplerConfig config_;
  std::mt19937_64 rng_;
  std::vector<std::pair<double, int32_t>> probs_;  // [n] scratch (prob, id)
};

}  // namespace doge

#endif  // DOGE_ENGINE_SAMPLER_H_
