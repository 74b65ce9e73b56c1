#include "benchmarks/model_cost.h"

namespace doge {

int64_t DogeCost::LayerParams() const {
  const int64_t H = hidden_size, I = intermediate_size, D = head_dim;
  int64_t p = 0;
  p += 2 * H;                                 // input_layernorm, input_residual
  p += n_heads * D * H;                       // q_proj
  p += 2 * n_kv_heads * D * H;                // k_proj, v_proj
  if (has_qk_norm) p += 2 * D;                // q_norm, k_norm
  p += n_bias_heads;                          // A
  p += n_bias_heads * n_kv_heads * D;         // dt_proj
  p += H * n_heads * D;                       // o_proj
  p += 2 * H;                                 // post_attention_layernorm, post_attention_residual
  p += 3 * I * H;                             // gate_proj, up_proj, down_proj
  return p;
}

int64_t DogeCost::StoredParams() const {
  int64_t p = vocab_size * hidden_size + n_layers * LayerParams() + hidden_size;
  if (!tied) p += vocab_size * hidden_size;
  return p;
}

double DogeCost::DecodeBytesPerToken() const {
  if (q8) {
    const int64_t H = hidden_size, I = intermediate_size, D = head_dim;
    const int64_t matrices = n_layers * (2 * n_heads * D * H + 2 * n_kv_heads * D * H + 3 * I * H) +
                             vocab_size * hidden_size;
    const int64_t vectors = n_layers * LayerParams() + hidden_size + vocab_size * hidden_size +
                            hidden_size - matrices;
    // The embedding row and the final norm are counted as float32 vectors (2H of them).
    return static_cast<double>(matrices) * (1.0 + 4.0 / 32.0) + static_cast<double>(vectors) * 4.0;
  }
  const double elems = static_cast<double>(n_layers * LayerParams() + hidden_size +
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

DogeCost CostFromConfig(const DogeConfig& c, bool layout_b, bool tied, int64_t bytes_per_weight) {
  DogeCost k;
  k.vocab_size = c.vocab_size;
  k.hidden_size = c.hidden_size;
  k.intermediate_size = c.intermediate_size;
  k.n_layers = c.num_hidden_layers;
  k.n_heads = c.num_attention_heads;
  k.n_kv_heads = c.num_key_value_heads;
  k.head_dim = c.head_dim();
  k.n_bias_heads = layout_b ? c.num_key_value_heads : c.num_attention_heads;
  k.has_qk_norm = layout_b;
  k.tied = tied;
  k.bytes_per_weight = bytes_per_weight;
  return k;
}

std::string ShapeNameOf(const DogeConfig& c) {
  struct Shape {
    const char* name;
    int64_t H, I, L, nh, nkv;
  };
  // doge-architecture.md §2.1.
  static const Shape kShapes[] = {{"doge-20m", 256, 512, 8, 2, 1},
                                  {"doge-60m", 512, 1024, 16, 4, 2},
                                  {"doge-160m", 768, 1536, 24, 6, 3},
                                  {"doge-320m", 1024, 2048, 32, 8, 4}};
  for (const auto& s : kShapes) {
    if (c.hidden_size == s.H && c.intermediate_size == s.I && c.num_hidden_layers == s.L &&
        c.num_attention_heads == s.nh && c.num_key_value_heads == s.nkv &&
        c.vocab_size == 32768) {
      return s.name;
    }
  }
  return "doge-custom";
}

}  // namespace doge
