// DogeConfig: the model hyper-parameters read from a checkpoint's config.json. Field names are the
// Hugging Face config keys verbatim so a reader can diff against transformers' DogeConfig
// (configuration_doge.py @008e574); defaults are that class's defaults.
#ifndef DOGE_ENGINE_CONFIG_H_
#define DOGE_ENGINE_CONFIG_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace doge {

struct DogeConfig {
  int64_t vocab_size = 32768;
  int64_t hidden_size = 1024;
  int64_t intermediate_size = 2048;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 8;
  // null/absent in config.json means "same as num_attention_heads" (upstream behaviour).
  int64_t num_key_value_heads = 8;
  double hidden_dropout = 0.0;
  double attention_dropout = 0.0;
  std::string hidden_act = "silu";
  double initializer_range = 0.02;
  double rms_norm_eps = 1e-6;
  bool use_cache = true;
  // Upstream default is false; the loader nevertheless ties the head whenever lm_head.weight is
  // absent from the checkpoint (doge-architecture.md §2.4), so this field is informational.
  bool tie_word_embeddings = false;
  int64_t max_position_embeddings = 2048;
  double rope_theta = 10000.0;
  // rope_scaling (or transformers v5 rope_parameters). "default" when absent.
  std::string rope_scaling_type = "default";  // "default" | "dynamic"
  double rope_scaling_factor = 1.0;
  // Recorded for `doge info`; transformers' dynamic NTK ignores it (fixtures README).
  int64_t rope_scaling_original_max_position_embeddings = 0;  // 0 = absent
  bool attention_bias = false;
  bool mlp_bias = false;
  int64_t sliding_window = 0;  // 0 = null
  int64_t keep_window_size = 2048;
  bool keep_window_size_present = false;  // A-early configs have no such key
  bool is_moe = false;
  int64_t num_experts = 16384;
  int64_t num_experts_per_tok = 64;
  bool norm_topk_prob = false;
  bool output_router_logits = false;
  double router_aux_loss_coef = 0.001;
  int64_t bos_token_id = -1;  // -1 = null
  int64_t eos_token_id = -1;
  int64_t pad_token_id = -1;
  std::string torch_dtype;  // informational ("float32")

  // Not config keys: what ParseConfig noticed but accepted (unknown keys, with the nearest known
  // one). DogeModel::Load prints them as warnings.
  std::vector<std::string> warnings;

  // Derived (not config keys).
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // CDMoE product keys: the router scores K "x" and K "y" keys per token, and expert (i, j) is
  // i * K + j, so K = floor(sqrt(num_experts)) (upstream's num_keys).
  int64_t expert_keys() const {
    return static_cast<int64_t>(std::floor(std::sqrt(static_cast<double>(num_experts))));
  }

  // Rejects impossible values with Error(kConfig, file, key, ...). LoadConfig calls it.
  void Validate(const std::string& file) const;
};

// Parses `model_dir`/config.json with simdjson, in this order, so that a problem is blamed on
// config.json before any tensor is looked at:
//  - model_type (when present) must be "doge" and architectures (when present) must list
//    DogeForCausalLM: another model family is an Error(kConfig) saying what is supported;
//  - the shape keys (vocab_size, hidden_size, intermediate_size, num_hidden_layers,
//    num_attention_heads) are required: a missing one is an Error(kConfig) naming it (and a
//    present key that looks like its misspelling);
//  - an unknown key is accepted with a warning naming the nearest known key (`warnings`);
//  - a present key with the wrong JSON type or an impossible value is an Error(kConfig) naming
//    config.json and the key.
DogeConfig LoadConfig(const std::string& model_dir);
// Same, from JSON text (`file` is only used in error messages).
DogeConfig ParseConfig(const std::string& json, const std::string& file);

}  // namespace doge

#endif  // DOGE_ENGINE_CONFIG_H_
