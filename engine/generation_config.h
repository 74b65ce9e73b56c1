// A checkpoint's generation_config.json as transformers' `generate` applies it under lighteval's
// greedy_until call, and the logits processors doge runs for the fields it honours.
//
// lighteval 0.7.0 (models/transformers/transformers_model.py `_generate`) passes max_new_tokens,
// pad_token_id, eos_token_id (the tokenizer's), do_sample=False, num_return_sequences,
// output_logits, renormalize_logits, output_scores and return_dict_in_generate; transformers takes
// every other field from the checkpoint's generation_config.json. Each key therefore falls in one
// class:
//   applied      repetition_penalty, no_repeat_ngram_size, min_new_tokens, suppress_tokens,
//                begin_suppress_tokens (logits processors that change greedy output; doge runs
//                them)
//   overridden   the fields lighteval passes itself (the file's value never reaches generate)
//   no effect    sampling-only or beam-only fields under greedy decoding, ids and metadata
//   unsupported  fields that would change greedy output and doge does not implement (num_beams > 1,
//                contrastive search, bad_words_ids, ...): loading fails naming the field
// Unknown keys are warned about by name. Greedy decoding stays greedy: do_sample in the file is
// overridden by lighteval's do_sample=False.
#ifndef DOGE_ENGINE_GENERATION_CONFIG_H_
#define DOGE_ENGINE_GENERATION_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

namespace doge {

struct GenerationConfig {
  // RepetitionPenaltyLogitsProcessor: for every token id present in the sequence so far (prompt +
  // generated), logit < 0 ? logit * p : logit / p. 1.0: off.
  double repetition_penalty = 1.0;
  // NoRepeatNGramLogitsProcessor: a token that would repeat an n-gram already in the sequence gets
  // -inf. 0: off.
  int64_t no_repeat_ngram_size = 0;
  // MinNewTokensLengthLogitsProcessor: eos_token_id gets -inf while fewer than this many tokens
  // were generated. 0: off.
  int64_t min_new_tokens = 0;
  std::vector<int32_t> suppress_tokens;        // SuppressTokensLogitsProcessor: always -inf
  std::vector<int32_t> begin_suppress_tokens;  // SuppressTokensAtBegin: -inf at the first step only
  // The id min_new_tokens suppresses: lighteval passes the tokenizer's EOS, so the caller sets it
  // (the file's eos_token_id is overridden). -1: none.
  int32_t eos_token_id = -1;

  // True when no processor is active (plain greedy argmax).
  bool IsPlain() const;
};

struct LoadedGenerationConfig {
  GenerationConfig config;
  bool present = false;              // the file exists
  std::string path;                  // <model_dir>/generation_config.json
  std::vector<std::string> applied;  // keys doge applies (with their values), for reports
  // One line per class of ignored keys, naming them ("overridden by lighteval: eos_token_id, ...").
  std::vector<std::string> notes;
};

// Reads <model_dir>/generation_config.json when present (absent: a plain config, present=false).
// Throws Error(kConfig, path, key, ...) for an unsupported field, a wrong type or a bad value.
LoadedGenerationConfig LoadGenerationConfig(const std::string& model_dir);

// Runs the enabled processors on one row of next-token logits [vocab], in transformers' order
// (repetition penalty, no-repeat n-gram, min new tokens, suppress, begin-suppress). `prompt` is the
// prompt the model saw, `generated` the tokens generated so far (empty at the first step). Ids
// outside [0, vocab) in the config are ignored, as a scatter would drop them.
void ApplyGenerationConfig(const GenerationConfig& c, const std::vector<int32_t>& prompt,
                           const std::vector<int32_t>& generated, float* logits, int64_t vocab);

}  // namespace doge

#endif  // DOGE_ENGINE_GENERATION_CONFIG_H_
