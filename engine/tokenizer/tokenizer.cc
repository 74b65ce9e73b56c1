// LoadTokenizer: picks the backend from a model folder or a file name.
#include "engine/tokenizer/tokenizer.h"

#include <algorithm>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/hub_cache.h"
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

}  // namespace

// Each backend reads its JSON files (tokenizer.json, tokenizer_config.json) through
// engine/base/json_read.h, which also refuses a key given twice with different values.
std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& given) {
  const std::string path = ResolveModelPath(given);  // a file, a folder, or a hub id in the HF cache
  if (IsDirectory(path)) {
    // tokenizer.json first: a folder with both (the 2024 pre-releases) is read the way
    // transformers' fast tokenizer reads it.
    const std::string config = path + "/tokenizer_config.json";
    if (FileExists(path + "/tokenizer.json")) {
      return std::make_unique<HfTokenizer>(path + "/tokenizer.json", config);
    }
    if (FileExists(path + "/tokenizer.model")) {
      return std::make_unique<SpTokenizer>(path + "/tokenizer.model", config);
    }
    throw Error(ErrorKind::kIo, path, "", "no tokenizer.json or tokenizer.model in this folder");
  }
  if (!FileExists(path)) throw Error(ErrorKind::kIo, path, "", "no such file or folder");
  const std::string config = DirName(path) + "/tokenizer_config.json";
  if (EndsWith(path, ".json")) return std::make_unique<HfTokenizer>(path, config);
  if (EndsWith(path, ".model")) return std::make_unique<SpTokenizer>(path, config);
  // Any other name: JSON starts with '{' (after white space); anything else is tried as a
  // sentencepiece model proto.
  const std::string head = ReadFileToString(path).substr(0, 256);
  const size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && head[first] == '{') return std::make_unique<HfTokenizer>(path, config);
  return std::make_unique<SpTokenizer>(path, config);
}

std::vector<int32_t> IdsBeyondVocab(const Tokenizer& tok, int64_t model_vocab_size) {
  std::vector<int32_t> out;
  for (int64_t id = std::max<int64_t>(model_vocab_size, 0); id < tok.vocab_size(); ++id) {
    if (!tok.IdToPiece(static_cast<int32_t>(id)).empty()) out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

}  // namespace doge
