// Perplexity of a token stream in the two conventions people compare against, and the KL
// divergence of a model's next-token distributions against a saved baseline. Owns the
// windowing (which tokens go through one forward call and which of its rows are scored), the
// per-row log-softmax statistics and the baseline file; `doge perplexity` (tasks/cli) owns the
// text, the tokenizer and the output.
//
// Conventions:
//  - llama-perplexity (llama.cpp tools/perplexity, default mode): the text is tokenized with BOS,
//    cut into floor(n / ctx) chunks of ctx tokens (the tail is dropped); each chunk is one forward
//    call from an empty cache with its first token replaced by BOS (when the tokenizer adds one);
//    rows first = ctx/2 .. ctx-2 are scored, i.e. tokens ctx/2+1 .. ctx-1 of the chunk
//    (ctx - 1 - ctx/2 tokens per chunk). PPL = exp(mean nll); its standard error is
//    PPL * sqrt((mean(nll^2) - mean(nll)^2) / (count - 1)), exactly as llama.cpp prints it.
//  - lm-eval loglikelihood_rolling (lm_eval.utils.get_rolling_token_windows with context_len = 1,
//    then make_disjoint_window): the text is tokenized without special tokens; the first window is
//    [prefix] + tokens[:L-1] scoring tokens[:L] (L = min(max_len, n)); every later window predicts
//    the next up-to-max_len tokens from an input of max_len tokens ending just before the last
//    predicted one (so the last, short window keeps a full context). The prefix is the BOS token
//    (lm-eval's HFLM.prefix_token_id: bos_token_id, else eos). The document's log-likelihood is the
//    sum over windows; word_perplexity = exp(-ll / words), byte_perplexity = exp(-ll / bytes),
//    bits_per_byte = -ll / bytes / ln 2 (lm-eval's weighted_perplexity and bits_per_byte), with
//    words = len(re.split(r"\s+", text)) and bytes = len(text.encode("utf-8")), as the wikitext
//    task's process_results counts them.
#ifndef DOGE_ENGINE_PERPLEXITY_H_
#define DOGE_ENGINE_PERPLEXITY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"

namespace doge {

// One forward call from an empty cache. Row first_scored + i of the call's output predicts
// targets[i] (the logits at row r are the model's distribution for the token after input[r]).
struct ScoringWindow {
  std::vector<int32_t> input;    // [n_input] ids of the forward call
  int64_t first_scored = 0;      // first scored row
  std::vector<int32_t> targets;  // [n_scored] the tokens the scored rows predict
};

// llama-perplexity's chunks (see above). `bos_id` < 0: the first token of a chunk is kept (a
// tokenizer that adds no BOS). Requires ctx >= 2; returns no windows when n < ctx.
std::vector<ScoringWindow> LlamaPerplexityWindows(const std::vector<int32_t>& tokens, int64_t ctx,
                                                  int32_t bos_id);

// lm-eval's rolling windows (see above). Requires max_len >= 1; empty tokens -> no windows.
std::vector<ScoringWindow> LmEvalRollingWindows(const std::vector<int32_t>& tokens,
                                                int32_t prefix_token, int64_t max_len);

// lm-eval's word count: len(re.split(r"\s+", text)) with Python's Unicode \s (str.isspace():
// \t \n \v \f \r \x1c-\x1f space U+0085 U+00A0 U+1680 U+2000-U+200A U+2028 U+2029 U+202F U+205F
// U+3000), i.e. 1 + the number of maximal whitespace runs. `text` must be valid UTF-8.
int64_t LmEvalWordCount(std::string_view text);

// log(sum(exp(x))) over n floats, accumulated in float64 around the maximum.
double LogSumExp(const float* x, int64_t n);

// Runs every window through `model` (kernels threaded inside each call) and calls
// on_row(window_index, i, logits [V], target) for each scored row in order. The logits buffer is
// reused: copy what you keep. `on_window_done(window_index)` runs after each window (progress).
void RunScoringWindows(const DogeModel& model, const std::vector<ScoringWindow>& windows,
                       const std::function<void(size_t, int64_t, const float*, int32_t)>& on_row,
                       const std::function<void(size_t)>& on_window_done);

// llama.cpp's final estimate from the sums of nll and nll^2 over `count` scored tokens.
struct PerplexityEstimate {
  double ppl = 0;
  double ppl_stderr = 0;  // NaN when count < 2
  double mean_nll = 0;
};
PerplexityEstimate LlamaPerplexityEstimate(double sum_nll, double sum_nll2, int64_t count);

// ---------------------------------------------------------------------------------------------
// KL divergence against a saved baseline.
//
// For each scored position the baseline keeps the target, the base model's log-prob of it (so
// the base perplexity is exact), its argmax, and the distribution: the full log-softmax (storage
// "full": 8 bytes per vocabulary entry) or the top-K tokens with their log-probs plus the log of
// the remaining mass (storage "top-k", 12 bytes per entry). Log-probs are stored in float64,
// computed exactly as KldAccumulator computes the new run's, so a run compared with its own
// baseline gives KLD = 0 exactly rather than float32 rounding noise. With top-K, KLD is computed over the partition
// {each top-K token of the base, the rest lumped}: KL_coarse = sum_{i in K} p_i log(p_i / q_i) +
// P_rest log(P_rest / Q_rest). By the log-sum inequality 0 <= KL_coarse <= KL, and the part left
// out is exactly P_rest * KL(P(.|rest) || Q(.|rest)): small when the base puts little mass outside
// its top K, unbounded in principle. `doge perplexity` prints the mean P_rest next to the result.

// KL(P || Q) = sum p_i (log p_i - log q_i) for two full log-probability vectors (float64 sum;
// terms with p_i = 0 contribute 0).
double KlDivergenceFull(const double* base_logp, const double* new_logp, int64_t n);

// The coarse KL above. `ids`/`base_logp` [k]: the base's top-K tokens; `base_log_rest` = log P_rest
// (-inf when the top K hold all the mass); new_logp [V] the new model's full log-softmax.
double KlDivergenceTopK(const int32_t* ids, const double* base_logp, int64_t k, double base_log_rest,
                        const double* new_logp, int64_t vocab);

// Header of a baseline file: what it was made from. The identity fields (everything but the
// weights hash and the paths) must match for a comparison.
struct KldBaseHeader {
  std::string convention;          // "llama" | "lm-eval"
  int64_t ctx = 0;
  int64_t vocab_size = 0;
  int64_t n_positions = 0;         // scored positions
  int64_t n_windows = 0;
  std::string storage;             // "full" | "top-k"
  int64_t top_k = 0;               // storage "top-k"; 0 for "full"
  std::string model_shape;         // vocab/hidden/intermediate/layers/heads/kv heads/window/layout
  std::string weights_sha256;      // of the safetensors files (informational: BF16 vs F32 differ)
  std::string tokenizer_sha256;
  std::string text_sha256;
  int64_t text_bytes = 0;
  std::string tokens_sha256;       // of the scored token stream (int32 little-endian)
  std::string model_path, text_path;
};

// Streams positions into a baseline file written atomically (nothing appears at `path` until
// Finish()). Throws Error(kIo) on write failures.
class KldBaseWriter {
 public:
  KldBaseWriter(const std::string& path, const KldBaseHeader& header);
  ~KldBaseWriter();
  // logits [V] of one scored row.
  void Add(const float* logits, int32_t target);
  // Checks n_positions matches the header and commits the file.
  void Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads a baseline file whole (the positions are read sequentially through Next()). Throws
// Error(kFormat, path, field, ...) for a bad magic, header or size.
class KldBaseReader {
 public:
  explicit KldBaseReader(const std::string& path);
  ~KldBaseReader();
  const KldBaseHeader& header() const;
  // Refuses (Error kUsage naming the field, both values and what to do) a run whose identity
  // differs from the baseline's.
  void CheckCompatible(const KldBaseHeader& run) const;

  struct Position {
    int32_t target = 0;
    int32_t argmax = 0;
    double target_logprob = 0;
    std::vector<double> full_logp;   // [V] storage "full"
    std::vector<int32_t> top_ids;    // [K] storage "top-k", descending probability
    std::vector<double> top_logp;    // [K]
    double log_rest = 0;             // storage "top-k": log of the mass outside the top K
  };
  // Reads position i (0-based, < n_positions) into *p (buffers reused).
  void Read(int64_t i, Position* p) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Accumulates the comparison of a run's rows against the baseline's positions, as
// llama-perplexity --kl-divergence reports it.
class KldAccumulator {
 public:
  // Adds one position: the new model's logits [V] and the baseline's record.
  void Add(const float* logits, int64_t vocab, const KldBaseReader::Position& base);

  struct Summary {
    int64_t n = 0;
    double kld_mean = 0, kld_stderr = 0;   // stderr = sd / sqrt(n)
    double kld_median = 0, kld_p99 = 0, kld_p999 = 0, kld_max = 0;  // linear-interpolated
    double top1_agreement = 0, top1_agreement_stderr = 0;           // fractions
    double ppl_base = 0, ppl_new = 0, delta_ppl = 0;  // ppl = exp(mean nll) over the positions
    double ln_ppl_ratio = 0, ln_ppl_ratio_stderr = 0; // mean(nll_new - nll_base) and its se
    double mean_rest_mass = 0;             // top-k storage: mean P_rest of the base (0 for full)
  };
  Summary Summarize() const;

 private:
  std::vector<double> kld_;
  std::vector<double> nll_diff_;
  double sum_nll_new_ = 0, sum_nll_base_ = 0, sum_rest_ = 0;
  int64_t n_same_top_ = 0;
  std::vector<double> new_logp_;  // [V] scratch
};

// Linear-interpolated percentile (numpy's default): q in [0, 1]. Sorts a copy.
double Percentile(std::vector<double> v, double q);

}  // namespace doge

#endif  // DOGE_ENGINE_PERPLEXITY_H_
