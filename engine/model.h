// DogeModel: the forward pass of DogeForCausalLM (doge-architecture.md §4) over a KvCache, written
// as one straight-line function calling a KernelSet. A Forward call is one reference forward call:
// it processes T new tokens at positions cache.size() .. cache.size()+T-1, appends their keys,
// values and mask biases to the cache, and returns final-norm hidden states for the rows the
// caller asks for (the vocabulary projection is separate, so only needed rows pay for it).
#ifndef DOGE_ENGINE_MODEL_H_
#define DOGE_ENGINE_MODEL_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/kernels/kernel_set.h"
#include "engine/kv_cache.h"
#include "engine/weights.h"

namespace doge {

// Reusable per-sequence working memory: grows to the largest call seen, never shrinks, so decode
// steps after the first allocate nothing.
struct ForwardScratch {
  std::vector<float> x;        // [T, H] residual stream
  std::vector<float> xn;       // [T, H] normed input of a block
  std::vector<float> q;        // [T, nh*D]
  std::vector<float> k;        // [T, nkv*D]
  std::vector<float> v;        // [T, nkv*D]
  std::vector<float> u;        // [T, n_bias_heads] dt_proj(v)
  std::vector<float> attn;     // [T, nh*D] attention output, heads concatenated
  std::vector<float> o;        // [T, H] o_proj / MLP output
  std::vector<float> gate;     // [T, I]
  std::vector<float> up;       // [T, I]
  std::vector<float> cos;      // [T, D] RoPE cos rows
  std::vector<float> sin;      // [T, D]
  std::vector<float> row_mask; // [n_threads, 6, S] per-thread masked bias rows of a query block
  std::vector<float> row_sel;  // [n_threads, S] per-thread top-k selection scratch
  std::vector<float> scores;   // [n_threads, 6, S] per-thread attention scores of a query block
  std::vector<float> moe;      // [2K + K*K + E_tok] router scores, moe_route scratch, weights
  std::vector<int32_t> moe_idx;  // [2K*K + 2K + E_tok] moe_route scratch, routed experts
  std::vector<float> logits;   // [V] one row of logits
  std::vector<int64_t> pos;    // [T] RoPE position of each token
  std::vector<int64_t> branch_start;  // [T] first cache row of each token's branch
  std::vector<int64_t> all_rows;      // [T] 0..T-1 (ForwardBranches' output rows)
};

// Optional intermediate capture (hidden_states goldens): [L+1][T, H] — index 0 the embeddings,
// k the output of layer k-1, L the final RMSNorm output (as transformers' output_hidden_states).
struct HiddenStates {
  std::vector<std::vector<float>> layers;
};

class DogeModel {
 public:
  // Loads config.json and the safetensors; throws doge::Error on any problem.
  static std::unique_ptr<DogeModel> Load(const std::string& model_dir);

  const DogeConfig& config() const { return config_; }
  const DogeWeights& weights() const { return weights_; }
  Layout layout() const { return weights_.layout; }
  // Top-k window size in force: keep_window_size, or "none" (INT64_MAX) for A-early, whose code
  // has no window.
  int64_t window() const { return window_; }

  // An empty cache sized for `capacity` positions.
  KvCache NewCache(int64_t capacity) const;
  void ResetCache(KvCache* cache, int64_t capacity) const;

  // One reference forward call over tokens[0..T) at positions cache->size() ...; appends to the
  // cache. Writes final-norm hidden states of the rows in `out_rows` (indices into 0..T-1) to
  // out_hidden [out_rows.size(), H]. Token ids must be in [0, vocab) (checked by callers).
  void Forward(const int32_t* tokens, int64_t n_tokens, KvCache* cache, ForwardScratch* scratch,
               const int64_t* out_rows, int64_t n_out_rows, float* out_hidden,
               HiddenStates* hidden = nullptr, const KernelSet* kernels = nullptr) const;
  void Forward(const int32_t* tokens, int64_t n_tokens, KvCache* cache, ForwardScratch* scratch,
               const std::vector<int64_t>& out_rows, float* out_hidden,
               HiddenStates* hidden = nullptr, const KernelSet* kernels = nullptr) const {
    Forward(tokens, n_tokens, cache, scratch, out_rows.data(),
            static_cast<int64_t>(out_rows.size()), out_hidden, hidden, kernels);
  }
  // Braced rows ({n - 1}) bind here: no heap allocation per decode step.
  void Forward(const int32_t* tokens, int64_t n_tokens, KvCache* cache, ForwardScratch* scratch,
               std::initializer_list<int64_t> out_rows, float* out_hidden,
               HiddenStates* hidden = nullptr, const KernelSet* kernels = nullptr) const {
    Forward(tokens, n_tokens, cache, scratch, out_rows.begin(),
            static_cast<int64_t>(out_rows.size()), out_hidden, hidden, kernels);
  }

  // Several continuations ("branches") of the cached prefix in one call, each computed as its
  // own Forward call on a cache holding only the prefix would compute it: branch b is the next
  // branch_len[b] entries of `tokens`, at positions P .. P + branch_len[b] - 1 (P =
  // cache->size() on entry), seeing the prefix and its own earlier tokens only. Larger batches
  // for the GEMMs than one call per continuation (the scoring path). The branches' keys are
  // appended branch after branch, so call cache->Truncate(P) before using the cache again.
  // Writes the final-norm hidden state of every token to out_hidden [Σ branch_len, H].
  // Requires P + branch_len[b] <= window() (the top-k window must never be cut) and the same
  // RoPE base for every branch (no dynamic-NTK rescaling); throws kUsage otherwise.
  void ForwardBranches(const int32_t* tokens, const int64_t* branch_len, int64_t n_branches,
                       KvCache* cache, ForwardScratch* scratch, float* out_hidden,
                       const KernelSet* kernels = nullptr) const;

  // logits [V] = lm_head · h for one final-norm hidden row h [H].
  void Logits(const float* h, float* logits, const KernelSet* kernels = nullptr) const;

  // The RoPE base the reference uses for a call whose largest position is max_position
  // (dynamic NTK, evaluated in float32 as transformers does).
  float RopeBase(int64_t max_position) const;

  int64_t n_params() const { return weights_.n_params; }

 private:
  // The forward pass behind Forward and ForwardBranches: token t sits at RoPE position pos[t]
  // and cache row P + t, and sees cache rows [0, P) and [branch_start[t], P + t].
  void Run(const int32_t* tokens, int64_t T, const int64_t* pos, const int64_t* branch_start,
           KvCache* cache, ForwardScratch* s, const int64_t* out_rows, int64_t n_out_rows,
           float* out_hidden, HiddenStates* hidden, const KernelSet* kernels) const;

  DogeConfig config_;
  DogeWeights weights_;
  int64_t window_ = 0;
};

}  // namespace doge

#endif  // DOGE_ENGINE_MODEL_H_
