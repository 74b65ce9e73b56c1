// A builder for small, hand-checkable tokenizer.json files: the 256 byte tokens (id = byte value),
// then one token per merge in merge order, then extra vocab entries, then added tokens. Tests
// derive malformed variants from it by changing one field.
#ifndef DOGE_TESTS_TOKENIZER_TINY_TOKENIZER_H_
#define DOGE_TESTS_TOKENIZER_TINY_TOKENIZER_H_

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "engine/tokenizer/unicode_util.h"

namespace doge::testing {

struct TinyAdded {
  std::string content;
  bool special = true, lstrip = false, rstrip = false, single_word = false, normalized = false;
};

struct TinySpec {
  std::vector<std::pair<std::string, std::string>> merges;  // in the byte-level alphabet
  std::vector<std::string> extra_vocab;                      // tokens reachable by no merge
  std::vector<TinyAdded> added;
  bool ignore_merges = false;
  std::string model_type = "BPE";
  // Raw JSON of the pipeline parts.
  std::string normalizer = "null";
  std::string pre_tokenizer =
      R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})";
  std::string post_processor = "null";
  std::string decoder = R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true})";
  // Extra raw `"token": id` pairs appended to the vocab object (for malformed files).
  std::string vocab_extra_json;
};

inline int TinyMergeId(size_t merge_index) { return 256 + static_cast<int>(merge_index); }

inline std::string TinyTokenizerJson(const TinySpec& spec) {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").String("1.0");
  w.Key("truncation").Null();
  w.Key("padding").Null();
  const int base_added = 256 + static_cast<int>(spec.merges.size() + spec.extra_vocab.size());
  w.Key("added_tokens").BeginArray();
  for (size_t i = 0; i < spec.added.size(); ++i) {
    const TinyAdded& a = spec.added[i];
    w.BeginObject();
    w.Field("id", base_added + static_cast<int>(i)).Field("content", a.content);
    w.Field("single_word", a.single_word).Field("lstrip", a.lstrip).Field("rstrip", a.rstrip);
    w.Field("normalized", a.normalized).Field("special", a.special);
    w.EndObject();
  }
  w.EndArray();
  w.Key("normalizer").Raw(spec.normalizer);
  w.Key("pre_tokenizer").Raw(spec.pre_tokenizer);
  w.Key("post_processor").Raw(spec.post_processor);
  w.Key("decoder").Raw(spec.decoder);
  w.Key("model").BeginObject();
  w.Field("type", spec.model_type);
  w.Key("dropout").Null();
  w.Key("unk_token").Null();
  w.Field("fuse_unk", false).Field("byte_fallback", false).Field("ignore_merges", spec.ignore_merges);
  // The vocab object is written by hand so that vocab_extra_json can add raw members.
  std::string vocab = "{";
  int id = 0;
  auto add = [&](const std::string& tok) {
    if (id) vocab += ",";
    AppendJsonString(vocab, tok);
    vocab += ":" + std::to_string(id++);
  };
  for (int b = 0; b < 256; ++b) add(BytesToByteLevel(std::string(1, static_cast<char>(b))));
  for (const auto& [a, b] : spec.merges) add(a + b);
  for (const auto& t : spec.extra_vocab) add(t);
  for (const auto& a : spec.added) add(a.content);
  vocab += spec.vocab_extra_json + "}";
  w.Key("vocab").Raw(vocab);
  w.Key("merges").BeginArray();
  for (const auto& [a, b] : spec.merges) w.BeginArray().String(a).String(b).EndArray();
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return w.Take();
}

// A fresh directory under the test temp dir.
inline std::string MakeTempDir(const std::string& name) {
  std::string tmpl = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                     "/doge_tok_" + name + "_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return "";
  return std::string(buf.data());
}

// Writes the spec as <dir>/tokenizer.json and returns the path.
inline std::string WriteTinyTokenizer(const std::string& dir, const std::string& json) {
  const std::string path = dir + "/tokenizer.json";
  WriteFileAtomic(path, json);
  return path;
}

}  // namespace doge::testing

#endif  // DOGE_TESTS_TOKENIZER_TINY_TOKENIZER_H_
