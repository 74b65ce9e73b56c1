// config.json parsing (engine/base/json_read.h over simdjson DOM) and validation for DogeConfig.
#include "engine/config.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/hub_cache.h"
#include "engine/base/json_read.h"

namespace doge {
namespace {

// Optional members, read through engine/base/json_read.h: absent or null keep the default (as
// transformers' PretrainedConfig does); a wrong type is a config error naming the key.
void ReadInt(const JsonNode& obj, const char* key, int64_t* out) {
  if (auto v = obj.FindValue(key)) *out = v->WholeNumber();
}
// An integer, or a list of integers whose first element is taken (generation configs and some
// model configs list several eos ids).
void ReadIntOrFirst(const JsonNode& obj, const char* key, int64_t* out) {
  const std::optional<JsonNode> v = obj.FindValue(key);
  if (!v) return;
  if (!v->IsArray()) {
    *out = v->WholeNumber();
    return;
  }
  const std::vector<JsonNode> items = v->Items();
  if (!items.empty()) *out = items[0].Int();
}
void ReadDouble(const JsonNode& obj, const char* key, double* out) {
  if (auto v = obj.FindValue(key)) *out = v->Number();
}
void ReadBool(const JsonNode& obj, const char* key, bool* out) {
  if (auto v = obj.FindValue(key)) *out = v->Bool();
}
void ReadString(const JsonNode& obj, const char* key, std::string* out) {
  if (auto v = obj.FindValue(key)) *out = v->String();
}

void ReadRope(const JsonNode& obj, const char* key, DogeConfig* c) {
  if (!obj.FindValue(key)) return;
  const JsonNode rope = obj.GetObject(key);
  std::string type = "default";
  ReadString(rope, "type", &type);  // legacy spelling
  ReadString(rope, "rope_type", &type);
  c->rope_scaling_type = type;
  ReadDouble(rope, "factor", &c->rope_scaling_factor);
  ReadInt(rope, "original_max_position_embeddings", &c->rope_scaling_original_max_position_embeddings);
  ReadDouble(rope, "rope_theta", &c->rope_theta);  // transformers v5 keeps the base here
}

// The shape keys: without them the checkpoint's tensors cannot be checked, and a default would
// only move the blame to model.safetensors.
constexpr const char* kRequiredKeys[] = {"vocab_size", "hidden_size", "intermediate_size",
                                         "num_hidden_layers", "num_attention_heads"};

// Every key a Doge config.json carries: the ones ParseConfig reads, the legacy A-early keys it
// ignores (dynamic_mask_ratio, num_cdmoe_*, ...), and PretrainedConfig's own attributes that
// transformers writes into config.json. Anything else gets a warning with the nearest of these.
constexpr const char* kKnownKeys[] = {
    // read
    "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "hidden_dropout", "attention_dropout", "hidden_act",
    "initializer_range", "rms_norm_eps", "use_cache", "tie_word_embeddings",
    "max_position_embeddings", "rope_theta", "rope_scaling", "rope_parameters", "attention_bias",
    "mlp_bias", "sliding_window", "keep_window_size", "is_moe", "num_experts",
    "num_experts_per_tok", "norm_topk_prob", "output_router_logits", "router_aux_loss_coef",
    "bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "dtype", "model_type",
    "architectures",
    // Doge keys of earlier releases (A-early / A-late), not used by the engine
    "dynamic_mask_ratio", "expert_retrieval_size", "hidden_bias", "num_cdmoe_experts",
    "num_cdmoe_experts_per_head", "num_cdmoe_heads", "num_cdmoe_experts_per_tok",
    "num_expert_retrieval_heads", "layer_types",
    // PretrainedConfig / hub bookkeeping
    "_name_or_path", "auto_map", "transformers_version", "tokenizer_class", "return_dict",
    "output_hidden_states", "output_attentions", "torchscript", "use_bfloat16", "tf_legacy_loss",
    "pruned_heads", "chunk_size_feed_forward", "is_encoder_decoder", "is_decoder",
    "cross_attention_hidden_size", "add_cross_attention", "tie_encoder_decoder", "finetuning_task",
    "id2label", "label2id", "problem_type", "task_specific_params", "prefix", "sep_token_id",
    "decoder_start_token_id", "max_length", "min_length", "do_sample", "early_stopping",
    "num_beams", "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p",
    "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences",
    "output_scores", "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id",
    "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
    "begin_suppress_tokens", "quantization_config", "pretraining_tp", "use_sliding_window",
    // written by doge itself (engine/random_checkpoint.cc): the shape and seed a file came from
    "doge_random_checkpoint"};

bool IsKnownKey(std::string_view key) {
  return std::find(std::begin(kKnownKeys), std::end(kKnownKeys), key) != std::end(kKnownKeys);
}

// model_type / architectures name another model family: refuse before any tensor is read.
void CheckModelFamily(const JsonNode& obj) {
  if (auto type = obj.FindValue("model_type"); type && !(type->IsString() && type->StringView() == "doge")) {
    type->Fail("doge runs Doge checkpoints only (model_type \"doge\", architectures "
               "[\"DogeForCausalLM\"]), found " + simdjson::to_string(type->element()));
  }
  if (auto arch = obj.FindValue("architectures")) {
    bool doge = false;
    if (arch->IsArray()) {
      for (const JsonNode& a : arch->Items()) {
        if (a.IsString() && a.StringView() == "DogeForCausalLM") doge = true;
      }
    }
    if (!doge) {
      arch->Fail("doge runs DogeForCausalLM checkpoints only, found " +
                 simdjson::to_string(arch->element()));
    }
  }
}

// Required keys present; unknown keys collected as warnings with their nearest known key.
void CheckKeys(const JsonNode& obj, std::vector<std::string>* warnings) {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : obj.Members()) {
    if (IsKnownKey(key)) continue;
    unknown.push_back(key);
    const std::string near =
        NearestName(key, std::vector<std::string>(std::begin(kKnownKeys), std::end(kKnownKeys)));
    warnings->push_back(obj.file() + ": unknown key '" + key + "'" +
                        (near.empty() ? std::string() : " (did you mean '" + near + "'?)") +
                        "; ignored");
  }
  for (const char* key : kRequiredKeys) {
    if (obj.FindValue(key)) continue;
    const std::string typo = NearestName(key, unknown);
    obj.FailAt(key, "required key missing" +
                        (typo.empty() ? std::string(" (the model's shape cannot be guessed)")
                                      : " (the file has '" + typo + "': a misspelling?)"));
  }
}

}  // namespace

void DogeConfig::Validate(const std::string& file) const {
  auto positive = [&](const char* key, int64_t v) {
    if (v <= 0) {
      throw Error(ErrorKind::kConfig, file, key, "must be > 0, got " + std::to_string(v));
    }
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("max_position_embeddings", max_position_embeddings);
  positive("keep_window_size", keep_window_size);
  if (hidden_size % num_attention_heads != 0) {
    throw Error(ErrorKind::kConfig, file, "num_attention_heads",
                "must divide hidden_size (" + std::to_string(hidden_size) + "), got " +
                    std::to_string(num_attention_heads));
  }
  if (num_attention_heads % num_key_value_heads != 0) {
    throw Error(ErrorKind::kConfig, file, "num_key_value_heads",
                "must divide num_attention_heads (" + std::to_string(num_attention_heads) +
                    "), got " + std::to_string(num_key_value_heads));
  }
  if (head_dim() % 2 != 0) {
    throw Error(ErrorKind::kConfig, file, "hidden_size",
                "head_dim = hidden_size / num_attention_heads must be even for RoPE, got " +
                    std::to_string(head_dim()));
  }
  if (!(rms_norm_eps > 0) || !std::isfinite(rms_norm_eps)) {
    throw Error(ErrorKind::kConfig, file, "rms_norm_eps", "must be a finite number > 0");
  }
  if (!(rope_theta > 0) || !std::isfinite(rope_theta)) {
    throw Error(ErrorKind::kConfig, file, "rope_theta", "must be a finite number > 0");
  }
  if (hidden_act != "silu") {
    throw Error(ErrorKind::kConfig, file, "hidden_act",
                "only \"silu\" is supported (every Doge model uses it), got \"" + hidden_act + "\"");
  }
  if (rope_scaling_type != "default" && rope_scaling_type != "dynamic") {
    throw Error(ErrorKind::kConfig, file, "rope_scaling.rope_type",
                "supported: \"default\", \"dynamic\"; got \"" + rope_scaling_type + "\"");
  }
  if (rope_scaling_type == "dynamic" && !(rope_scaling_factor >= 1.0)) {
    throw Error(ErrorKind::kConfig, file, "rope_scaling.factor",
                "must be >= 1 for dynamic NTK, got " + std::to_string(rope_scaling_factor));
  }
  if (sliding_window > 0) {
    // transformers would switch to a sliding-window causal mask; no Doge checkpoint sets it and
    // the engine does not implement it, so refuse rather than compute something else.
    throw Error(ErrorKind::kConfig, file, "sliding_window",
                "must be null (sliding-window attention is not supported), got " +
                    std::to_string(sliding_window));
  }
  if (attention_bias || mlp_bias) {
    throw Error(ErrorKind::kConfig, file, attention_bias ? "attention_bias" : "mlp_bias",
                "biases are not supported (no Doge checkpoint has them)");
  }
  if (is_moe) {
    positive("num_experts", num_experts);
    positive("num_experts_per_tok", num_experts_per_tok);
    const int64_t k = expert_keys();
    if (num_experts_per_tok > k * k) {
      throw Error(ErrorKind::kConfig, file, "num_experts_per_tok",
                  "must be <= floor(sqrt(num_experts))^2 = " + std::to_string(k * k) + ", got " +
                      std::to_string(num_experts_per_tok));
    }
  }
  if (bos_token_id >= vocab_size || eos_token_id >= vocab_size) {
    throw Error(ErrorKind::kConfig, file, bos_token_id >= vocab_size ? "bos_token_id" : "eos_token_id",
                "must be < vocab_size (" + std::to_string(vocab_size) + ")");
  }
}

DogeConfig ParseConfig(const std::string& json, const std::string& file) {
  const std::unique_ptr<JsonDocument> doc =
      ParseJsonText(file, json, ErrorKind::kConfig, "malformed JSON");
  const JsonNode r = doc->root();
  if (!r.IsObject()) {
    throw Error(ErrorKind::kConfig, file, "", "expected a JSON object at the top level");
  }
  DogeConfig c;
  CheckModelFamily(r);
  CheckKeys(r, &c.warnings);
  ReadInt(r, "vocab_size", &c.vocab_size);
  ReadInt(r, "hidden_size", &c.hidden_size);
  ReadInt(r, "intermediate_size", &c.intermediate_size);
  ReadInt(r, "num_hidden_layers", &c.num_hidden_layers);
  ReadInt(r, "num_attention_heads", &c.num_attention_heads);
  c.num_key_value_heads = c.num_attention_heads;
  ReadInt(r, "num_key_value_heads", &c.num_key_value_heads);
  ReadDouble(r, "hidden_dropout", &c.hidden_dropout);
  ReadDouble(r, "attention_dropout", &c.attention_dropout);
  ReadString(r, "hidden_act", &c.hidden_act);
  ReadDouble(r, "initializer_range", &c.initializer_range);
  ReadDouble(r, "rms_norm_eps", &c.rms_norm_eps);
  ReadBool(r, "use_cache", &c.use_cache);
  ReadBool(r, "tie_word_embeddings", &c.tie_word_embeddings);
  ReadInt(r, "max_position_embeddings", &c.max_position_embeddings);
  ReadDouble(r, "rope_theta", &c.rope_theta);
  ReadRope(r, "rope_scaling", &c);
  ReadRope(r, "rope_parameters", &c);
  ReadBool(r, "attention_bias", &c.attention_bias);
  ReadBool(r, "mlp_bias", &c.mlp_bias);
  ReadInt(r, "sliding_window", &c.sliding_window);
  c.keep_window_size_present = r.FindValue("keep_window_size").has_value();
  ReadInt(r, "keep_window_size", &c.keep_window_size);
  ReadBool(r, "is_moe", &c.is_moe);
  ReadInt(r, "num_experts", &c.num_experts);
  ReadInt(r, "num_experts_per_tok", &c.num_experts_per_tok);
  ReadBool(r, "norm_topk_prob", &c.norm_topk_prob);
  ReadBool(r, "output_router_logits", &c.output_router_logits);
  ReadDouble(r, "router_aux_loss_coef", &c.router_aux_loss_coef);
  ReadIntOrFirst(r, "bos_token_id", &c.bos_token_id);
  ReadIntOrFirst(r, "eos_token_id", &c.eos_token_id);
  ReadIntOrFirst(r, "pad_token_id", &c.pad_token_id);
  ReadString(r, "torch_dtype", &c.torch_dtype);
  ReadString(r, "dtype", &c.torch_dtype);  // transformers v5 spelling
  c.Validate(file);
  return c;
}

DogeConfig LoadConfig(const std::string& model_dir) {
  const std::string path = ResolveModelPath(model_dir) + "/config.json";
  return ParseConfig(ReadFileToString(path), path);
}

}  // namespace doge
