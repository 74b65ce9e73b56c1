#include "benchmarks/model_cost.h"

#include "engine/random_checkpoint.h"
#include "engine/tensor_table.h"

namespace doge {

int64_t DogeCost::StoredParams() const {
  return model_params + n_layers * layer_params + (tied ? 0 : vocab_size * hidden_size);
}

double DogeCost::DecodeBytesPerToken() const {
  if (q8) {
    const int64_t H = hidden_size, I = intermediate_size, D = head_dim;
    const int64_t matrices = n_layers * (2 * n_heads * D * H + 2 * n_kv_heads * D * H + 3 * I * H) +
                             vocab_size * hidden_size;
    const int64_t vectors = n_layers * layer_params + hidden_size + vocab_size * hidden_size +
                            hidden_size - matrices;
    // The embedding row and the final norm are counted as float32 vectors (2H of them).
    return static_cast<double>(matrices) * (1.0 + 4.0 / 32.0) + static_cast<double>(vectors) * 4.0;
  }
  const double elems = static_cast<double>(n_layers * layer_params + hidden_size +
                                           vocab_size * hidden_size + hidden_size);
  return elems * static_cast<double>(bytes_per_weight);
}

double DogeCost::PrefillFlopsPerToken(int64_t n_prompt) const {
  const double H = static_cast<double>(hidden_size), I = static_cast<double>(intermediate_size);
  const double D = static_cast<double>(head_dim), nh = static_cast<double>(n_heads);
  const double nkv = static_cast<double>(n_kv_heads), n = static_cast<double>(n_prompt);
  double per_layer = 2 * H * (nh * D + 2 * nkv * D)             // q, k, v projections
                     + 2 * static_cast<double>(n_bias_heads) * nkv * D  // dt_proj
                     + 2 * nh * D * H                            // o_proj
                     + 2 * 3 * H * I;                            // gate, up, down
  // Query i sees i + 1 keys; the mean over i = 0..n-1 is (n + 1) / 2. QK^T and PV are each
  // 2 * nh * D flops per visible key.
  per_layer += 2 * 2 * nh * D * (n + 1) / 2;
  return static_cast<double>(n_layers) * per_layer +
         2 * static_cast<double>(vocab_size) * H / n;
}

DogeCost CostFromConfig(const DogeConfig& c, Layout layout, bool tied, int64_t bytes_per_weight) {
  DogeCost k;
  k.vocab_size = c.vocab_size;
  k.hidden_size = c.hidden_size;
  k.intermediate_size = c.intermediate_size;
  k.n_layers = c.num_hidden_layers;
  k.n_heads = c.num_attention_heads;
  k.n_kv_heads = c.num_key_value_heads;
  k.head_dim = c.head_dim();
  k.n_bias_heads = BiasHeads(c, layout);
  // Parameter counts from the tensor table: layer 0 stands for every layer (same shapes).
  for (const TensorEntry& e : DogeTensorTable(c, layout)) {
    if (e.layer == 0) k.layer_params += e.numel();
    if (e.layer < 0 && e.required) k.model_params += e.numel();
  }
  k.tied = tied;
  k.bytes_per_weight = bytes_per_weight;
  return k;
}

std::string ShapeNameOf(const DogeConfig& c) {
  for (const std::string& name : RandomCheckpointShapes()) {
    const DogeConfig s = PublishedShapeConfig(name);
    if (c.hidden_size == s.hidden_size && c.intermediate_size == s.intermediate_size &&
        c.num_hidden_layers == s.num_hidden_layers &&
        c.num_attention_heads == s.num_attention_heads &&
        c.num_key_value_heads == s.num_key_value_heads && c.vocab_size == s.vocab_size) {
      return name;
    }
  }
  return "doge-custom";
}

}  // namespace doge
