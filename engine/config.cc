// config.json parsing (simdjson DOM) and validation for DogeConfig.
#include "engine/config.h"

#include <simdjson.h>

#include <cmath>
#include <string>

#include "engine/error.h"
#include "engine/file_util.h"

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
    const int64_t k = static_cast<int64_t>(std::floor(std::sqrt(static_cast<double>(num_experts))));
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
  if (auto err = parser.parse(json).get(root)) {
    throw Error(ErrorKind::kConfig, file, "", std::string("malformed JSON: ") +
                                                  simdjson::error_message(err));
  }
  object obj;
  if (root.get_object().get(obj)) {
    throw Error(ErrorKind::kConfig, file, "", "expected a JSON object at the top level");
  }
  Reader r(obj, file);
  DogeConfig c;
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
  const std::string path = model_dir + "/config.json";
  return ParseConfig(ReadFileToString(path), path);
}

}  // namespace doge
