// LanguageModel: the interface the task layer (tasks/) depends on, as lm-eval's LM. The task layer
// works with token ids only; tokenization happens above it. Implemented by the Doge engine
// (engine/scoring.h) and by fakes in the task tests.
#ifndef DOGE_ENGINE_LM_H_
#define DOGE_ENGINE_LM_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace doge {

// One context with one or more continuations scored off a single shared context computation.
struct ScoreRequest {
  std::vector<int32_t> context;                     // [n_ctx] ids, BOS included if wanted
  std::vector<std::vector<int32_t>> continuations;  // [n_choices][n_cont_i] ids
};

struct ContinuationScore {
  double logprob = 0;     // sum of log p(token | prefix) over the continuation tokens
  bool is_greedy = false; // every continuation token was the argmax at its position
  int32_t n_tokens = 0;   // continuation tokens scored
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  // Scores each continuation given the context. If context + continuation is longer than
  // max_length(), the input (context + continuation minus its last token) is left-truncated to the
  // last max_length() tokens, as lighteval does. The result must equal one reference forward call
  // over (context + continuation)[:-1] for each continuation, and must not depend on how requests
  // are batched. Requests are independent: the implementation parallelizes across them over its
  // own thread count (the caller does not spawn threads). Const and thread-safe.
  virtual std::vector<std::vector<ContinuationScore>> Score(
      const std::vector<ScoreRequest>& requests) const = 0;

  // For each context: log-softmax over the vocabulary at its last position, read at `token_ids`
  // (lighteval's single-token mode for MMLU protocol A). Left-truncates like Score; parallel
  // across contexts like Score. Result [n_contexts][token_ids.size()].
  virtual std::vector<std::vector<double>> NextTokenLogprobs(
      const std::vector<std::vector<int32_t>>& contexts,
      const std::vector<int32_t>& token_ids) const = 0;

  // Greedy decoding, one output per prompt: each prompt is left-truncated to max_length(), at most
  // max_new_tokens tokens are generated, and generation stops early when `stop(generated_so_far)`
  // returns true (the stopping token is kept; the caller cuts stop strings from the decoded text).
  // Prompts are independent and may run in parallel inside; `stop` must be thread-safe.
  virtual std::vector<std::vector<int32_t>> GenerateGreedy(
      const std::vector<std::vector<int32_t>>& prompts, int32_t max_new_tokens,
      const std::function<bool(const std::vector<int32_t>&)>& stop) const = 0;

  virtual int32_t max_length() const = 0;  // 2048 for the Doge protocol
  virtual int32_t vocab_size() const = 0;
};

}  // namespace doge

#endif  // DOGE_ENGINE_LM_H_
