// Tokenizer: the interface every layer uses to turn text into ids and back. Two backends:
// Hugging Face tokenizer.json byte-level BPE (what Doge ships) and sentencepiece (tokenizer.model,
// the 2024 pre-releases). LoadTokenizer picks the backend from a model folder (tokenizer.json first)
// or from the file name.
#ifndef DOGE_ENGINE_TOKENIZER_TOKENIZER_H_
#define DOGE_ENGINE_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace doge {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // add_special_tokens = true applies the post-processor (Doge: prepend BOS id 0), as
  // `tokenizer(text)` does in transformers. Special-token text inside `text` always maps to the
  // special id (split_special_tokens=False). Invalid UTF-8 in `text` never crashes.
  virtual std::vector<int32_t> Encode(std::string_view text, bool add_special_tokens) const = 0;
  // skip_special_tokens drops special ids; clean_up applies transformers' clean_up_tokenization
  // (" ." -> "." ...). Pass clean_up = clean_up_tokenization_spaces() to get `tokenizer.decode(ids)`.
  virtual std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                             bool clean_up) const = 0;

  // One past the largest id the tokenizer can produce (ids may have small gaps).
  virtual int32_t vocab_size() const = 0;
  // The stored text of a token (tokenizer.json: its byte-level form; sentencepiece: its piece),
  // for messages; empty for an id no token has.
  virtual std::string IdToPiece(int32_t id) const { return std::string(); }
  // -1 when the tokenizer has none.
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  // The text of the EOS token ("<|end_of_text|>"), empty when none: TriviaQA adds it to its stops.
  virtual std::string eos_token() const = 0;
  // tokenizer_config.json clean_up_tokenization_spaces (false when absent).
  virtual bool clean_up_tokenization_spaces() const = 0;
  // "tokenizer.json (byte-level BPE)" / "sentencepiece"
  virtual std::string backend_name() const = 0;
  // The file the tokenizer was read from (for checksums in results.json).
  virtual const std::string& path() const = 0;
};

// `path` is a model folder (tokenizer.json preferred, then tokenizer.model) or a tokenizer file.
// Throws doge::Error naming the file and JSON path on anything unsupported or malformed.
std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& path);

// The ids the tokenizer can produce that a model with `model_vocab_size` embedding rows does not
// have (ascending; ids no token has are skipped). Scoring or generating with such an id is an
// error (DogeLanguageModel checks every id); `doge info` warns about them up front.
std::vector<int32_t> IdsBeyondVocab(const Tokenizer& tok, int64_t model_vocab_size);

}  // namespace doge

#endif  // DOGE_ENGINE_TOKENIZER_TOKENIZER_H_
