#include "engine/tokenizer/sp_tokenizer.h"

#include <exception>

#include <sentencepiece_processor.h>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_read.h"
#include "engine/tokenizer/hf_tokenizer.h"
#include "engine/tokenizer/unicode_util.h"

namespace doge {

SpTokenizer::SpTokenizer(const std::string& model_path, const std::string& config_path)
    : path_(model_path), sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  if (!FileExists(model_path)) throw Error(ErrorKind::kIo, model_path, "", "no such file");
  sentencepiece::util::Status status;
  try {
    status = sp_->Load(model_path);
  } catch (const std::exception& e) {
    // libsentencepiece reports some malformed models by throwing instead of by status: an empty
    // unigram piece makes its trie builder (darts_clone) throw (found by fuzz/fuzz_sentencepiece).
    throw Error(ErrorKind::kFormat, model_path, "",
                std::string("sentencepiece cannot load this model: ") + e.what());
  }
  if (!status.ok()) {
    throw Error(ErrorKind::kFormat, model_path, "",
                "sentencepiece cannot load this model: " + status.ToString());
  }
  if (!config_path.empty() && FileExists(config_path)) {
    const std::unique_ptr<JsonDocument> doc = LoadJsonFile(config_path);
    const JsonNode root = doc->root();
    if (!root.IsObject()) root.Fail("expected an object, found " + root.Found());
    auto read_bool = [&](const char* key, bool dflt) {
      const std::optional<JsonNode> v = root.FindValue(key);
      return v ? v->Bool() : dflt;
    };
    clean_up_ = read_bool("clean_up_tokenization_spaces", false);
    add_bos_ = read_bool("add_bos_token", true);
    add_eos_ = read_bool("add_eos_token", false);
  }
}

SpTokenizer::~SpTokenizer() = default;

std::vector<int32_t> SpTokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = Utf8Lossy(text);
    text = repaired;
  }
  std::vector<int> pieces;
  const auto status = sp_->Encode(absl::string_view(text.data(), text.size()), &pieces);
  // Not only "no model loaded" (ruled out by the constructor): a model file that loads can still
  // be inconsistent, e.g. pieces that cannot cover some text ("all normalized characters are not
  // consumed", found by fuzz/fuzz_sentencepiece). That is the file's fault, not ours.
  if (!status.ok()) {
    throw Error(ErrorKind::kFormat, path_, "",
                "sentencepiece cannot encode text with this model (malformed tokenizer.model?): " +
                    status.ToString());
  }
  std::vector<int32_t> ids;
  ids.reserve(pieces.size() + 2);
  if (add_special_tokens && add_bos_ && sp_->bos_id() >= 0) ids.push_back(sp_->bos_id());
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  if (add_special_tokens && add_eos_ && sp_->eos_id() >= 0) ids.push_back(sp_->eos_id());
  return ids;
}

std::string SpTokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                                bool clean_up) const {
  std::string out;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    std::string piece_text;
    const auto status = sp_->Decode(run, &piece_text);
    if (!status.ok()) {  // as in Encode: an inconsistent model file
      throw Error(ErrorKind::kFormat, path_, "",
                  "sentencepiece cannot decode ids with this model (malformed tokenizer.model?): " +
                      status.ToString());
    }
    out += piece_text;
    run.clear();
  };
  const int n = sp_->GetPieceSize();
  for (int32_t id : ids) {
    if (id < 0 || id >= n) continue;
    if (sp_->IsControl(id)) {
      flush();
      if (!skip_special_tokens) out += sp_->IdToPiece(id);
      continue;
    }
    run.push_back(id);
  }
  flush();
  if (clean_up) out = CleanUpTokenization(std::move(out));
  return out;
}

int32_t SpTokenizer::vocab_size() const { return sp_->GetPieceSize(); }
std::string SpTokenizer::IdToPiece(int32_t id) const {
  return id >= 0 && id < sp_->GetPieceSize() ? sp_->IdToPiece(id) : std::string();
}
int32_t SpTokenizer::bos_id() const { return sp_->bos_id(); }
int32_t SpTokenizer::eos_id() const { return sp_->eos_id(); }
std::string SpTokenizer::eos_token() const {
  return sp_->eos_id() >= 0 ? sp_->IdToPiece(sp_->eos_id()) : std::string();
}

}  // namespace doge
