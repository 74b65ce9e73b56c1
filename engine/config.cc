// config.json parsing (simdjson DOM) and validation for DogeConfig.
#include "engine/config.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/hub_cache.h"
#include "engine/base/json_duplicate_keys.h"
#include "engine/base/json_numbers.h"

namespace doge {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Typed readers: absent or null keys keep the default; a wrong type is a config error.
class Reader {
 public:
  Reader(object obj, std::string file) : obj_(obj), file_(std::move(file)) {}

  bool Has(const char* key) const {
    element e;
    return !obj_[key].get(e) && !e.is_null();
  }
  void Int(const char* key, int64_t* out) const {
    element e;
    if (obj_[key].get(e) || e.is_null()) return;
    int64_t v;
    if (!e.get_int64().get(v)) {
      *out = v;
      return;
    }
    double d;
    if (!e.get_double().get(d) && std::floor(d) == d && std::fabs(d) < 9e15) {
      *out = static_cast<int64_t>(d);
      return;
    }
    throw Error(ErrorKind::kConfig, file_, key, "expected an integer, found " + Render(e));
  }
  // An integer, or a list of integers whose first element is taken (generation configs and some
  // model configs list several eos ids).
  void IntOrFirst(const char* key, int64_t* out) const {
    element e;
    if (obj_[key].get(e) || e.is_null()) return;
    simdjson::dom::array arr;
    if (!e.get_array().get(arr)) {
      if (arr.size() == 0) return;
      int64_t v;
      if (arr.at(0).get_int64().get(v)) {
        throw Error(ErrorKind::kConfig, file_, key, "expected a list of integers, found " + Render(e));
      }
      *out = v;
      return;
    }
    Int(key, out);
  }
  void Double(const char* key, double* out) const {
    element e;
    if (obj_[key].get(e) || e.is_null()) return;
    double d;
    if (!e.get_double().get(d)) {
      *out = d;
      return;
    }
    int64_t i;
    if (!e.get_int64().get(i)) {
      *out = static_cast<double>(i);
      return;
    }
    throw Error(ErrorKind::kConfig, file_, key, "expected a number, found " + Render(e));
  }
  void Bool(const char* key, bool* out) const {
    element e;
    if (obj_[key].get(e) || e.is_null()) return;
    bool b;
    if (e.get_bool().get(b)) {
      throw Error(ErrorKind::kConfig, file_, key, "expected true/false, found " + Render(e));
    }
    *out = b;
  }
  void String(const char* key, std::string* out) const {
    element e;
    if (obj_[key].get(e) || e.is_null()) return;
    std::string_view s;
    if (e.get_string().get(s)) {
      throw Error(ErrorKind::kConfig, file_, key, "expected a string, found " + Render(e));
    }
    *out = std::string(s);
  }
  bool Object(const char* key, object* out) const {
    element e;
    if (obj_[key].get(e) || e.is_null()) return false;
    if (e.get_object().get(*out)) {
      throw Error(ErrorKind::kConfig, file_, key, "expected an object, found " + Render(e));
    }
    return true;
  }

 private:
  static std::string Render(const element& e) {
    std::string s = simdjson::to_string(e);
    if (s.size() > 60) s = s.substr(0, 60) + "...";
    return s;
  }
  object obj_;
  std::string file_;
};

void ReadRope(const Reader& r, const std::string& file, const char* key, DogeConfig* c) {
  object rope;
  if (!r.Object(key, &rope)) return;
  Reader rr(rope, file);
  std::string type = "default";
  rr.String("type", &type);  // legacy spelling
  rr.String("rope_type", &type);
  c->rope_scaling_type = type;
  rr.Double("factor", &c->rope_scaling_factor);
  rr.Int("original_max_position_embeddings", &c->rope_scaling_original_max_position_embeddings);
  rr.Double("rope_theta", &c->rope_theta);  // transformers v5 keeps the base here
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
void CheckModelFamily(const object& obj, const std::string& file) {
  element e;
  if (!obj["model_type"].get(e) && !e.is_null()) {
    std::string_view type;
    if (e.get_string().get(type) || type != "doge") {
      throw Error(ErrorKind::kConfig, file, "model_type",
                  "doge runs Doge checkpoints only (model_type \"doge\", architectures "
                  "[\"DogeForCausalLM\"]), found " + simdjson::to_string(e));
    }
  }
  if (!obj["architectures"].get(e) && !e.is_null()) {
    simdjson::dom::array arr;
    bool doge = false;
    if (!e.get_array().get(arr)) {
      for (element a : arr) {
        std::string_view name;
        if (!a.get_string().get(name) && name == "DogeForCausalLM") doge = true;
      }
    }
    if (!doge) {
      throw Error(ErrorKind::kConfig, file, "architectures",
                  "doge runs DogeForCausalLM checkpoints only, found " + simdjson::to_string(e));
    }
  }
}

// Required keys present; unknown keys collected as warnings with their nearest known key.
void CheckKeys(const object& obj, const std::string& file, std::vector<std::string>* warnings) {
  std::vector<std::string> unknown;
  for (auto field : obj) {
    const std::string_view key = field.key;
    if (IsKnownKey(key)) continue;
    unknown.emplace_back(key);
    const std::string near =
        NearestName(std::string(key), std::vector<std::string>(std::begin(kKnownKeys), std::end(kKnownKeys)));
    warnings->push_back(file + ": unknown key '" + std::string(key) + "'" +
                        (near.empty() ? std::string() : " (did you mean '" + near + "'?)") +
                        "; ignored");
  }
  for (const char* key : kRequiredKeys) {
    element e;
    if (!obj[key].get(e) && !e.is_null()) continue;
    const std::string typo = NearestName(key, unknown);
    throw Error(ErrorKind::kConfig, file, key,
                "required key missing" +
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
  simdjson::dom::parser parser;
  element root;
  if (auto err = ParseJsonTolerant(parser, json, &root)) {
    throw Error(ErrorKind::kConfig, file, "", std::string("malformed JSON: ") +
                                                  simdjson::error_message(err));
  }
  CheckDuplicateKeys(root, ErrorKind::kConfig, file);
  object obj;
  if (root.get_object().get(obj)) {
    throw Error(ErrorKind::kConfig, file, "", "expected a JSON object at the top level");
  }
  DogeConfig c;
  CheckModelFamily(obj, file);
  CheckKeys(obj, file, &c.warnings);
  Reader r(obj, file);
  r.Int("vocab_size", &c.vocab_size);
  r.Int("hidden_size", &c.hidden_size);
  r.Int("intermediate_size", &c.intermediate_size);
  r.Int("num_hidden_layers", &c.num_hidden_layers);
  r.Int("num_attention_heads", &c.num_attention_heads);
  c.num_key_value_heads = c.num_attention_heads;
  r.Int("num_key_value_heads", &c.num_key_value_heads);
  r.Double("hidden_dropout", &c.hidden_dropout);
  r.Double("attention_dropout", &c.attention_dropout);
  r.String("hidden_act", &c.hidden_act);
  r.Double("initializer_range", &c.initializer_range);
  r.Double("rms_norm_eps", &c.rms_norm_eps);
  r.Bool("use_cache", &c.use_cache);
  r.Bool("tie_word_embeddings", &c.tie_word_embeddings);
  r.Int("max_position_embeddings", &c.max_position_embeddings);
  r.Double("rope_theta", &c.rope_theta);
  ReadRope(r, file, "rope_scaling", &c);
  ReadRope(r, file, "rope_parameters", &c);
  r.Bool("attention_bias", &c.attention_bias);
  r.Bool("mlp_bias", &c.mlp_bias);
  r.Int("sliding_window", &c.sliding_window);
  c.keep_window_size_present = r.Has("keep_window_size");
  r.Int("keep_window_size", &c.keep_window_size);
  r.Bool("is_moe", &c.is_moe);
  r.Int("num_experts", &c.num_experts);
  r.Int("num_experts_per_tok", &c.num_experts_per_tok);
  r.Bool("norm_topk_prob", &c.norm_topk_prob);
  r.Bool("output_router_logits", &c.output_router_logits);
  r.Double("router_aux_loss_coef", &c.router_aux_loss_coef);
  r.IntOrFirst("bos_token_id", &c.bos_token_id);
  r.IntOrFirst("eos_token_id", &c.eos_token_id);
  r.IntOrFirst("pad_token_id", &c.pad_token_id);
  r.String("torch_dtype", &c.torch_dtype);
  r.String("dtype", &c.torch_dtype);  // transformers v5 spelling
  c.Validate(file);
  return c;
}

DogeConfig LoadConfig(const std::string& model_dir) {
  const std::string path = ResolveModelPath(model_dir) + "/config.json";
  return ParseConfig(ReadFileToString(path), path);
}

}  // namespace doge
