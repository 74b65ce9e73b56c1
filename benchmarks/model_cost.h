// Work per token of a Doge forward pass, from the config alone: bytes of weights a decode step
// reads and flops a prefill token costs. `doge bench e2e` divides the in-run peaks (peak_probe.h)
// by these to get the bound each measured tokens/s is compared with.
#ifndef DOGE_BENCHMARKS_MODEL_COST_H_
#define DOGE_BENCHMARKS_MODEL_COST_H_

#include <cstdint>
#include <string>

#include "engine/config.h"
#include "engine/tensor_table.h"

namespace doge {

struct DogeCost {
  int64_t vocab_size = 0;        // V
  int64_t hidden_size = 0;       // H
  int64_t intermediate_size = 0; // I
  int64_t n_layers = 0;          // L
  int64_t n_heads = 0;           // nh
  int64_t n_kv_heads = 0;        // nkv
  int64_t head_dim = 0;          // D
  int64_t n_bias_heads = 0;      // rows of A / dt_proj: nkv (layout B) or nh (layout A)
  bool tied = true;              // the vocabulary projection reuses the embedding
  int64_t bytes_per_weight = 4;  // what the kernels stream: fp32 = 4
  // q8 checkpoint (engine/kernels/q8.h): the projections and the head stream 1 byte per weight
  // plus a float32 scale per 32 (1.125 bytes); dt_proj and the vectors stay float32.
  bool q8 = false;

  // Weight elements of one decoder layer (matrices and vectors, CDMoE tables whole) and of the
  // embedding and final norm, from DogeTensorTable (engine/tensor_table.h).
  int64_t layer_params = 0;
  int64_t model_params = 0;

  // Parameters stored in the checkpoint (tied head counted once).
  int64_t StoredParams() const;
  // Bytes of weights one decode step reads: every layer's matrices and vectors, the final norm,
  // the whole V x H vocabulary projection, and one embedding row. KV-cache reads are not counted
  // (under 2% of the total for tg128 on every Doge shape), nor activations (cache-resident).
  double DecodeBytesPerToken() const;
  // Flops per token of a pp`n_prompt` forward from an empty cache with last-token logits only:
  // 2 flops per multiply-add of every projection (including dt_proj), the causal attention
  // products (QK^T and PV over the i+1 visible keys of query i, averaged over the prompt) and the
  // V x H vocabulary projection of the last token spread over the n_prompt tokens. Norms, RoPE,
  // softmax and SiLU are left out: they are not FMA work and are < 1% of the flops.
  double PrefillFlopsPerToken(int64_t n_prompt) const;
};

// From a parsed config and the checkpoint's weight layout.
DogeCost CostFromConfig(const DogeConfig& c, Layout layout = Layout::kB, bool tied = true,
                        int64_t bytes_per_weight = 4);

// "doge-20m" when the config has one of the four published shapes, else "doge-custom".
std::string ShapeNameOf(const DogeConfig& c);

}  // namespace doge

#endif  // DOGE_BENCHMARKS_MODEL_COST_H_
