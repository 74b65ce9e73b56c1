// generation_config.json: classification of every key and the greedy-search logits processors;
// see generation_config.h.
#include "engine/generation_config.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_read.h"

namespace doge {
namespace {

using simdjson::dom::element;

// Passed explicitly by lighteval 0.7.0's `_generate` (or superseded by what it passes: max_length
// by max_new_tokens), so the file's value never reaches generate.
const std::set<std::string> kOverridden = {"max_new_tokens", "max_length",
                                           "pad_token_id",   "eos_token_id",
                                           "do_sample",      "num_return_sequences",
                                           "output_logits",  "renormalize_logits",
                                           "output_scores",  "return_dict_in_generate"};

// No effect on greedy search (do_sample=False, one beam): sampling and beam parameters, ids used
// only by other model types or at positions a prompt has already passed, and metadata.
// forced_bos_token_id acts only when the sequence is 1 token long, which a prompt never is.
const std::set<std::string> kNoEffect = {"temperature",
                                         "top_k",
                                         "top_p",
                                         "min_p",
                                         "typical_p",
                                         "epsilon_cutoff",
                                         "eta_cutoff",
                                         "length_penalty",
                                         "early_stopping",
                                         "bos_token_id",
                                         "decoder_start_token_id",
                                         "forced_bos_token_id",
                                         "use_cache",
                                         "output_attentions",
                                         "output_hidden_states",
                                         "transformers_version",
                                         "_from_model_config",
                                         "cache_implementation",
                                         "cache_config",
                                         "return_legacy_cache",
                                         "low_memory",
                                         "num_assistant_tokens",
                                         "num_assistant_tokens_schedule",
                                         "assistant_confidence_threshold",
                                         "is_assistant",
                                         "_commit_hash",
                                         "generation_kwargs",
                                         "trust_remote_code",
                                         "diversity_penalty"};

// Change greedy output when set and are not implemented here: refused by name. (Beam search,
// contrastive search, multi-token bans and biases, forced end tokens, length penalties on EOS,
// string stops from the file, time limits, watermarking, DoLa, token healing, constraints.)
const std::set<std::string> kUnsupportedIfSet = {"bad_words_ids",
                                                 "force_words_ids",
                                                 "sequence_bias",
                                                 "forced_eos_token_id",
                                                 "exponential_decay_length_penalty",
                                                 "stop_strings",
                                                 "max_time",
                                                 "watermarking_config",
                                                 "constraints",
                                                 "forced_decoder_ids",
                                                 "dola_layers",
                                                 "token_healing",
                                                 "prompt_lookup_num_tokens",
                                                 "max_matching_ngram_size",
                                                 "suppress_tokens_at_begin_index"};

std::string Render(element e) { return simdjson::to_string(e); }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

double Number(element e, const std::string& path, const std::string& key) {
  double d;
  if (!e.get_double().get(d)) return d;
  int64_t i;
  if (!e.get_int64().get(i)) return static_cast<double>(i);
  throw Error(ErrorKind::kConfig, path, key, "expected a number, found " + Render(e));
}

int64_t Integer(element e, const std::string& path, const std::string& key) {
  int64_t i;
  if (!e.get_int64().get(i)) return i;
  throw Error(ErrorKind::kConfig, path, key, "expected an integer, found " + Render(e));
}

std::vector<int32_t> IdList(element e, const std::string& path, const std::string& key) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr))
    throw Error(ErrorKind::kConfig, path, key, "expected a list of token ids, found " + Render(e));
  std::vector<int32_t> out;
  for (element x : arr) {
    const int64_t id = Integer(x, path, key);
    if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
      throw Error(ErrorKind::kConfig, path, key, "token id out of range: " + std::to_string(id));
    }
    out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

// One of the logits processors doge applies (generation_config.h): sets it in `c` and notes a
// value that is not transformers' "off" in `applied`. False when `key` is not one of them.
bool ApplyProcessorKey(const std::string& key, element v, const std::string& path,
                       GenerationConfig* c, std::vector<std::string>* applied) {
  if (key == "repetition_penalty") {
    c->repetition_penalty = Number(v, path, key);
    if (!(c->repetition_penalty > 0)) {
      throw Error(ErrorKind::kConfig, path, key,
                  "must be a positive number, found " + Render(v));
    }
    if (c->repetition_penalty != 1.0) applied->push_back(key + "=" + Render(v));
  } else if (key == "no_repeat_ngram_size") {
    c->no_repeat_ngram_size = Integer(v, path, key);
    if (c->no_repeat_ngram_size > 0) applied->push_back(key + "=" + Render(v));
  } else if (key == "min_new_tokens") {
    c->min_new_tokens = Integer(v, path, key);
    if (c->min_new_tokens > 0) applied->push_back(key + "=" + Render(v));
  } else if (key == "suppress_tokens") {
    c->suppress_tokens = IdList(v, path, key);
    if (!c->suppress_tokens.empty()) applied->push_back(key + "=" + Render(v));
  } else if (key == "begin_suppress_tokens") {
    c->begin_suppress_tokens = IdList(v, path, key);
    if (!c->begin_suppress_tokens.empty()) applied->push_back(key + "=" + Render(v));
  } else {
    return false;
  }
  return true;
}

// A key that would make transformers' generate leave greedy search, or change its output, unless
// it holds its "off" value: throws Error(kConfig) naming it when it is on. False when `key` is
// not one of them.
bool RefuseUnlessGreedy(const std::string& key, element v, simdjson::dom::object obj,
                        const std::string& path) {
  if (key == "num_beams" || key == "num_beam_groups") {
    if (Integer(v, path, key) > 1) {
      throw Error(
          ErrorKind::kConfig, path, key,
          Render(v) +
              " selects beam search in transformers' generate (lighteval does not override it); "
              "doge decodes greedily only. Remove the field or set it to 1 to evaluate");
    }
  } else if (key == "penalty_alpha") {
    // With top_k > 1 this selects contrastive search; checked below once top_k is known.
    if (Number(v, path, key) > 0) {
      element top_k;
      int64_t k = 50;  // transformers' default top_k
      if (!obj["top_k"].get(top_k) && !top_k.is_null()) k = Integer(top_k, path, "top_k");
      if (k > 1) {
        throw Error(ErrorKind::kConfig, path, key,
                    Render(v) + " with top_k " + std::to_string(k) +
                        " selects contrastive search in transformers' generate; doge decodes "
                        "greedily only");
      }
    }
  } else if (key == "min_length") {
    // Counted on the left-padded input lighteval builds; doge runs prompts unpadded.
    if (Integer(v, path, key) > 0) {
      throw Error(ErrorKind::kConfig, path, key,
                  Render(v) +
                      ": min_length counts lighteval's left-padded input, which doge does not "
                      "build; not supported (min_new_tokens is)");
    }
  } else if (key == "guidance_scale") {
    if (Number(v, path, key) != 1.0) {
      throw Error(ErrorKind::kConfig, path, key,
                  Render(v) + ": classifier-free guidance is not supported");
    }
  } else if (key == "encoder_repetition_penalty") {
    if (Number(v, path, key) != 1.0) {
      throw Error(ErrorKind::kConfig, path, key,
                  Render(v) + ": not supported (changes greedy output)");
    }
  } else if (key == "encoder_no_repeat_ngram_size") {
    if (Integer(v, path, key) > 0) {
      throw Error(ErrorKind::kConfig, path, key,
                  Render(v) + ": not supported (changes greedy output)");
    }
  } else if (kUnsupportedIfSet.count(key)) {
    // An empty list or false is transformers' "off" too.
    simdjson::dom::array arr;
    bool b = true;
    const bool off = (!v.get_array().get(arr) && arr.size() == 0) || (!v.get_bool().get(b) && !b);
    if (!off) {
      throw Error(
          ErrorKind::kConfig, path, key,
          Render(v) +
              ": changes greedy output in transformers' generate and doge does not implement it");
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool GenerationConfig::IsPlain() const {
  return repetition_penalty == 1.0 && no_repeat_ngram_size <= 0 && min_new_tokens <= 0 &&
         suppress_tokens.empty() && begin_suppress_tokens.empty();
}

LoadedGenerationConfig LoadGenerationConfig(const std::string& model_dir) {
  LoadedGenerationConfig out;
  out.path = model_dir + "/generation_config.json";
  if (!FileExists(out.path)) return out;
  out.present = true;
  const std::unique_ptr<JsonDocument> doc =
      LoadJsonFile(out.path, ErrorKind::kConfig, "invalid JSON");
  simdjson::dom::object obj;
  if (doc->root_element.get_object().get(obj))
    throw Error(ErrorKind::kConfig, out.path, "", "expected a JSON object");

  std::vector<std::string> overridden, no_effect, unknown;
  GenerationConfig& c = out.config;
  for (auto field : obj) {
    const std::string key(field.key);
    const element v = field.value;
    if (v.is_null()) continue;  // null is transformers' "unset"
    if (ApplyProcessorKey(key, v, out.path, &c, &out.applied)) continue;
    if (RefuseUnlessGreedy(key, v, obj, out.path)) {
      no_effect.push_back(key);
    } else if (kOverridden.count(key)) {
      overridden.push_back(key);
    } else if (kNoEffect.count(key)) {
      no_effect.push_back(key);
    } else {
      unknown.push_back(key);
    }
  }
  if (!overridden.empty())
    out.notes.push_back("passed by lighteval itself, file values not used: " + Join(overridden));
  if (!no_effect.empty()) out.notes.push_back("no effect on greedy decoding: " + Join(no_effect));
  if (!unknown.empty()) {
    out.notes.push_back(
        "WARNING: keys doge does not know, not applied (transformers may apply them): " +
        Join(unknown));
  }
  if (c.repetition_penalty != 1.0 || c.no_repeat_ngram_size > 0) {
    out.notes.push_back(
        "repetition_penalty/no_repeat_ngram_size see the unpadded prompt; lighteval's left padding "
        "also puts pad "
        "tokens into the history they see (differs only where the pad id matters)");
  }
  return out;
}

void ApplyGenerationConfig(const GenerationConfig& c, const std::vector<int32_t>& prompt,
                           const std::vector<int32_t>& generated, float* logits, int64_t vocab) {
  const float kNegInf = -std::numeric_limits<float>::infinity();
  auto in_vocab = [vocab](int32_t id) { return id >= 0 && id < vocab; };
  auto at = [&](size_t i) { return i < prompt.size() ? prompt[i] : generated[i - prompt.size()]; };
  const size_t len = prompt.size() + generated.size();
  if (c.repetition_penalty != 1.0) {
    // Each distinct id once (a gather/scatter over input_ids), in float as torch does.
    std::set<int32_t> seen;
    for (size_t i = 0; i < len; ++i) seen.insert(at(i));
    const float p = static_cast<float>(c.repetition_penalty);
    for (int32_t id : seen) {
      if (!in_vocab(id)) continue;
      float& x = logits[id];
      x = x < 0 ? x * p : x / p;
    }
  }
  if (c.no_repeat_ngram_size > 0 && len + 1 >= static_cast<size_t>(c.no_repeat_ngram_size)) {
    const size_t n = static_cast<size_t>(c.no_repeat_ngram_size);
    // Ban seq[i + n - 1] wherever seq[i, i + n - 1) equals the last n - 1 tokens.
    for (size_t i = 0; i + n <= len; ++i) {
      bool match = true;
      for (size_t j = 0; j + 1 < n && match; ++j) match = at(i + j) == at(len - (n - 1) + j);
      if (match && in_vocab(at(i + n - 1))) logits[at(i + n - 1)] = kNegInf;
    }
  }
  if (static_cast<int64_t>(generated.size()) < c.min_new_tokens && in_vocab(c.eos_token_id)) {
    logits[c.eos_token_id] = kNegInf;
  }
  for (int32_t id : c.suppress_tokens) {
    if (in_vocab(id)) logits[id] = kNegInf;
  }
  if (generated.empty()) {
    for (int32_t id : c.begin_suppress_tokens) {
      if (in_vocab(id)) logits[id] = kNegInf;
    }
  }
}

}  // namespace doge
