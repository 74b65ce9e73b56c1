// SpTokenizer: the sentencepiece backend (tokenizer.model), for checkpoints that ship one (the
// 2024 Doge pre-releases did). Encoding and decoding are libsentencepiece's own; this class adds
// the transformers conventions around them: BOS from add_special_tokens, skip_special_tokens,
// clean_up_tokenization_spaces from tokenizer_config.json.
//
// Thread safety: SentencePieceProcessor's Encode/Decode are const and thread-safe once loaded.
#ifndef DOGE_ENGINE_TOKENIZER_SP_TOKENIZER_H_
#define DOGE_ENGINE_TOKENIZER_SP_TOKENIZER_H_

#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace doge {

class SpTokenizer : public Tokenizer {
 public:
  // Throws doge::Error(kFormat, model_path, ...) when sentencepiece cannot load the model.
  SpTokenizer(const std::string& model_path, const std::string& config_path);
  ~SpTokenizer() override;

  // Invalid UTF-8 is repaired to U+FFFD first (as in the tokenizer.json backend). Special-token
  // text inside `text` is NOT mapped to control ids (sentencepiece never does that).
  // add_special_tokens prepends BOS when the model has one and add_bos_token (tokenizer_config,
  // default true as in LlamaTokenizer) is set; appends EOS when add_eos_token is (default false).
  // A model that loads but that sentencepiece cannot encode (or decode) with is an
  // Error(kFormat, model_path), not a crash.
  std::vector<int32_t> Encode(std::string_view text, bool add_special_tokens) const override;
  // Runs of ordinary pieces go through sentencepiece's decoder; control pieces (<s>, </s>) are
  // written as their text unless skip_special_tokens; unknown / out-of-range ids are dropped.
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                     bool clean_up) const override;
  int32_t vocab_size() const override;
  std::string IdToPiece(int32_t id) const override;
  int32_t bos_id() const override;
  int32_t eos_id() const override;
  std::string eos_token() const override;
  bool clean_up_tokenization_spaces() const override { return clean_up_; }
  std::string backend_name() const override { return "sentencepiece"; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  bool clean_up_ = false;
  bool add_bos_ = true;
  bool add_eos_ = false;
};

}  // namespace doge

#endif  // DOGE_ENGINE_TOKENIZER_SP_TOKENIZER_H_
