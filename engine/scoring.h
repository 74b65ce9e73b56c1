// DogeLanguageModel: the LanguageModel (engine/lm.h) the task layer scores with, on top of
// DogeModel. Scoring semantics: every continuation gets what ONE reference forward call over
// (context + continuation)[:-1], left-truncated to max_length(), gives. The shared context is
// prefilled once and the continuations run as branches of it (DogeModel::ForwardBranches: up to
// 256 tokens of several continuations per call, each seeing the context and itself only), except
// where that would not be the reference: when the input exceeds max_position_embeddings under
// dynamic NTK (the reference then uses one length-dependent RoPE base for the whole call) or must
// be left-truncated; those continuations get their own full forward. Only scored positions go
// through the vocabulary projection, in the fused vocab_logprob kernel (kernel_set.h: logits never
// stored whole): the rows of consecutive requests together, up to 2048 per call, each row's
// log-sum-exp in float64.
//
// Prefix reuse (engine/prefix_cache.h): a context or prompt whose leading token ids were computed
// before (by any request or document) restores those KV rows and computes only the rest; results
// are bit-identical with or without it. Inputs past the dynamic-NTK limit bypass it.
//
// Parallelism: a batch runs across requests over the model's threads (OpenMP), each request
// single-threaded with its own KV cache and scratch; a lone request uses the threads inside its
// kernels. Kernels split work across output rows only and fix every element's summation order
// by the shapes alone, so results do not depend on batching or thread count (bit-identical).
#ifndef DOGE_ENGINE_SCORING_H_
#define DOGE_ENGINE_SCORING_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/generation_config.h"
#include "engine/lm.h"
#include "engine/model.h"
#include "engine/prefix_cache.h"
#include "engine/sampler.h"

namespace doge {

// Log-softmax of one logits row read at `token` (float64 log-sum-exp) and whether `token` is the
// argmax.
struct TokenScore {
  double logprob = 0;
  bool is_argmax = false;
};
TokenScore ScoreLogitsRow(const float* logits, int64_t vocab, int32_t token);

class DogeLanguageModel : public LanguageModel {
 public:
  // n_threads <= 0: all cores.
  static std::unique_ptr<DogeLanguageModel> Load(const std::string& model_dir, int n_threads);

  std::vector<std::vector<ContinuationScore>> Score(
      const std::vector<ScoreRequest>& requests) const override;
  std::vector<std::vector<double>> NextTokenLogprobs(
      const std::vector<std::vector<int32_t>>& contexts,
      const std::vector<int32_t>& token_ids) const override;
  std::vector<std::vector<int32_t>> GenerateGreedy(
      const std::vector<std::vector<int32_t>>& prompts, int32_t max_new_tokens,
      const std::function<bool(const std::vector<int32_t>&)>& stop) const override;
  // lighteval's max_length model argument (a protocol value, not max_position_embeddings).
  int32_t max_length() const override { return 2048; }
  int32_t vocab_size() const override { return static_cast<int32_t>(model_->config().vocab_size); }

  // Wall-clock split of one Generate call (prefill = the prompt call incl. its logits row;
  // decode = the remaining one-token calls incl. their logits rows and sampling).
  struct GenerateStats {
    int64_t prefill_tokens = 0, decode_tokens = 0;
    double prefill_seconds = 0, decode_seconds = 0;
  };
  // One prompt with a sampler (CLI `doge generate`); stops after max_new_tokens or when
  // stop(generated) is true. Returns the generated ids only.
  std::vector<int32_t> Generate(const std::vector<int32_t>& prompt, int32_t max_new_tokens,
                                const SamplerConfig& sampler,
                                const std::function<bool(const std::vector<int32_t>&)>& stop,
                                GenerateStats* stats = nullptr) const;

  // The logits processors of a checkpoint's generation_config.json (engine/generation_config.h),
  // run on every generation step of GenerateGreedy and Generate. Default: none (plain argmax).
  void set_generation_config(const GenerationConfig& c) { generation_config_ = c; }
  // Cross-request prefix reuse (engine/prefix_cache.h): a budget in bytes for the cached KV rows
  // (0 disables reuse; Load sets DefaultPrefixCacheBytes()). Replaces the cache, emptying it.
  // Results are bit-identical with any budget. Not to be called concurrently with scoring.
  void SetPrefixCacheBytes(int64_t bytes);
  int64_t prefix_cache_bytes() const;
  // Counters since the cache was (re)made: tokens scored and reused, hits, evictions, bytes held.
  PrefixCacheStats prefix_cache_stats() const;

  const DogeConfig& config() const { return model_->config(); }
  const DogeModel& model() const { return *model_; }
  int64_t n_params() const { return model_->n_params(); }
  std::string layout_name() const { return LayoutName(model_->layout()); }
  int n_threads() const { return n_threads_; }

 private:
  DogeLanguageModel();
  void CheckIds(const std::vector<int32_t>& ids, const char* what) const;

  std::unique_ptr<DogeModel> model_;
  int n_threads_ = 1;
  GenerationConfig generation_config_;
  // Per-thread KV caches and scratch plus the vocabulary step's buffers, kept across Score()
  // calls so a warm evaluation allocates (and page-faults) nothing per batch. Score() calls on one
  // object are serialised by score_mu_.
  struct ScoreBuffers;
  std::unique_ptr<ScoreBuffers> score_buffers_;
  mutable std::mutex score_mu_;
  std::unique_ptr<PrefixCache> prefix_cache_;  // shared by all threads (it locks inside)

 public:
  ~DogeLanguageModel() override;
};

}  // namespace doge

#endif  // DOGE_ENGINE_SCORING_H_
