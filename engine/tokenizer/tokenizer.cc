// LoadTokenizer: picks the backend from a model folder or a file name.
#include "engine/tokenizer/tokenizer.h"

#include <simdjson.h>

#include <algorithm>
#include <type_traits>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/hub_cache.h"
#include "engine/base/json_duplicate_keys.h"
#include "engine/base/json_numbers.h"
#include "engine/tokenizer/hf_tokenizer.h"
#include "engine/tokenizer/sp_tokenizer.h"

namespace doge {
namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A key given twice with different values in tokenizer.json or tokenizer_config.json is an error
// naming the key (engine/base/json_duplicate_keys.h). The backends parse these files themselves; this
// parses them once more before they do. Malformed JSON passes here: the backend reports it in its
// own words.
void CheckTokenizerJson(const std::string& path) {
  if (!FileExists(path) || IsDirectory(path)) return;
  const std::string text = ReadFileToString(path);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (ParseJsonTolerant(parser, text, &root) != simdjson::SUCCESS) return;
  CheckDuplicateKeys(root, ErrorKind::kFormat, path);
}

// The backend for `path` once its JSON files have passed CheckTokenizerJson.
template <typename Backend>
std::unique_ptr<Tokenizer> Make(const std::string& path, const std::string& config) {
  if constexpr (std::is_same_v<Backend, HfTokenizer>) CheckTokenizerJson(path);
  CheckTokenizerJson(config);
  return std::make_unique<Backend>(path, config);
}

}  // namespace

std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& given) {
  const std::string path = ResolveModelPath(given);  // a file, a folder, or a hub id in the HF cache
  if (IsDirectory(path)) {
    // tokenizer.json first: a folder with both (the 2024 pre-releases) is read the way
    // transformers' fast tokenizer reads it.
    const std::string config = path + "/tokenizer_config.json";
    if (FileExists(path + "/tokenizer.json")) {
      return Make<HfTokenizer>(path + "/tokenizer.json", config);
    }
    if (FileExists(path + "/tokenizer.model")) {
      return Make<SpTokenizer>(path + "/tokenizer.model", config);
    }
    throw Error(ErrorKind::kIo, path, "", "no tokenizer.json or tokenizer.model in this folder");
  }
  if (!FileExists(path)) throw Error(ErrorKind::kIo, path, "", "no such file or folder");
  const std::string config = DirName(path) + "/tokenizer_config.json";
  if (EndsWith(path, ".json")) return Make<HfTokenizer>(path, config);
  if (EndsWith(path, ".model")) return Make<SpTokenizer>(path, config);
  // Any other name: JSON starts with '{' (after white space); anything else is tried as a
  // sentencepiece model proto.
  const std::string head = ReadFileToString(path).substr(0, 256);
  const size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && head[first] == '{') return Make<HfTokenizer>(path, config);
  return Make<SpTokenizer>(path, config);
}

std::vector<int32_t> IdsBeyondVocab(const Tokenizer& tok, int64_t model_vocab_size) {
  std::vector<int32_t> out;
  for (int64_t id = std::max<int64_t>(model_vocab_size, 0); id < tok.vocab_size(); ++id) {
    if (!tok.IdToPiece(static_cast<int32_t>(id)).empty()) out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

}  // namespace doge
