// Reading JSON and JSONL that came from outside (checkpoints, tokenizers, manifests, datasets,
// results and bench files): one typed layer over simdjson's DOM whose every error is a
// doge::Error naming the file, the line of a JSONL file, the field path
// ("added_tokens[3].content", "tasks.piqa.metrics.acc_norm") and what was expected versus found
// ("expected an integer, found string \"12\""). Parsing goes through it too, so every document
// gets the same two checks: numbers beyond 64 bits in fields nobody reads are tolerated
// (json_numbers.h) and a key given twice with different values is refused (json_duplicate_keys.h).
#ifndef DOGE_ENGINE_BASE_JSON_READ_H_
#define DOGE_ENGINE_BASE_JSON_READ_H_

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/error.h"

namespace doge {

// Where a document came from, for errors: the file (or URL), the kind every error from it has
// (kConfig for config.json and manifests, kFormat for tokenizer and results files, kDataset for
// dataset rows, kNetwork for an API's answer), and the 1-based line of a JSONL row (0: not a
// JSONL row).
struct JsonOrigin {
  std::string file;
  ErrorKind kind = ErrorKind::kFormat;
  int64_t line = 0;
};

// One JSON value inside a parsed document plus its path, so every accessor can throw
// Error(kind, file, field, "expected a number, found string \"fast\""). The field is the path
// ("tasks.piqa.n", "(top level)"), and in a JSONL row the line as well ("3: field \"sol2\"",
// "3" for the row itself). A node is a view: its document (or parser) must outlive it.
class JsonNode {
 public:
  JsonNode(const JsonOrigin* origin, simdjson::dom::element element, std::string path)
      : origin_(origin), element_(element), path_(std::move(path)) {}

  const std::string& file() const { return origin_->file; }
  int64_t line() const { return origin_->line; }
  const std::string& path() const { return path_; }
  simdjson::dom::element element() const { return element_; }

  bool IsNull() const;
  bool IsObject() const;
  bool IsArray() const;
  bool IsString() const;
  bool IsNumber() const;
  bool IsBool() const;
  // "object", "array", "string", "number", "bool", "null" (or "a number beyond double range
  // (1e400)" for what json_numbers.h turned into a string).
  std::string TypeName() const;
  // What an error says was found: the type name, then the value itself cut to about 60
  // characters for strings, numbers and booleans ("string \"fast\"", "number 1.5").
  std::string Found() const;

  // Object members. Get: required ("<path>.<key>: missing" when absent; null counts as present).
  // Find: absent -> nullopt. FindValue: absent or null -> nullopt (the "keep the default" rule of
  // optional fields). Has: present, null included. All throw when this is not an object.
  JsonNode Get(std::string_view key) const;
  std::optional<JsonNode> Find(std::string_view key) const;
  std::optional<JsonNode> FindValue(std::string_view key) const;
  bool Has(std::string_view key) const;
  std::vector<JsonNode> Items() const;                             // array elements ("[i]" paths)
  std::vector<std::pair<std::string, JsonNode>> Members() const;   // object members, in order
  size_t Size() const;                                             // elements of an array

  std::string String() const;
  std::string_view StringView() const;  // valid while the document lives
  double Number() const;                // integer or floating JSON numbers
  int64_t Int() const;                  // integer JSON numbers only
  // An integer, also when written as a float with no fractional part ("hidden_size": 1024.0, as
  // some tools write configs), within +-2^53 where doubles are exact.
  int64_t WholeNumber() const;
  bool Bool() const;
  std::vector<std::string> StringArray() const;
  // A finite number (or an integer) within [lo, hi]; otherwise an error naming the field:
  // "expected <what> in [lo, hi], found x". Every number a caller computes with or sizes
  // something by is read through these, so out-of-range input is the file's fault, not an
  // overflow or an allocation failure later.
  double NumberIn(double lo, double hi, const std::string& what) const;
  int64_t IntIn(int64_t lo, int64_t hi, const std::string& what) const;

  // Get(key) then the typed read, for the reads every loader repeats (other types: Get(key) and
  // the value's getter): the error names "<path>.<key>".
  std::string GetString(std::string_view key) const { return Get(key).String(); }
  int64_t GetInt(std::string_view key) const { return Get(key).Int(); }
  std::vector<std::string> GetStringArray(std::string_view key) const {
    return Get(key).StringArray();
  }
  JsonNode GetObject(std::string_view key) const;
  std::vector<JsonNode> GetObjectArray(std::string_view key) const;  // each item an object

  // The path of member `key` ("a.b" under "a"; "key" at the top level).
  std::string ChildPath(std::string_view key) const;
  // Throws Error(kind, file, field of this node, message).
  [[noreturn]] void Fail(const std::string& message) const;
  // Throws naming member `key` of this object (present or not): for a check on a value read
  // through one of the getters above.
  [[noreturn]] void FailAt(std::string_view key, const std::string& message) const;
  // The Error field for `path` in this document: the path, "(top level)", or in a JSONL row
  // "<line>: field \"<path>\"" and "<line>".
  std::string FieldFor(const std::string& path) const;

 private:
  [[noreturn]] void WrongType(const char* expected) const;

  const JsonOrigin* origin_;
  simdjson::dom::element element_;
  std::string path_;
};

// A parsed file. The parser owns the memory behind every JsonNode, so keep the document alive
// while its nodes are used (hence the unique_ptr: the address of `origin` must not move).
struct JsonDocument {
  JsonOrigin origin;
  simdjson::dom::parser parser;
  simdjson::dom::element root_element;
  JsonNode root() const { return JsonNode(&origin, root_element, ""); }
};

// Parses `text` tolerantly (json_numbers.h) and refuses a conflicting duplicate key; `label` is
// the file name errors give. Malformed JSON is Error(kind, label, "", "<invalid_prefix>: <simdjson's
// reason>").
std::unique_ptr<JsonDocument> ParseJsonText(const std::string& label, std::string_view text,
                                            ErrorKind kind = ErrorKind::kFormat,
                                            const std::string& invalid_prefix = "not valid JSON");
// Reads `path` (Error(kIo) when unreadable), then ParseJsonText.
std::unique_ptr<JsonDocument> LoadJsonFile(const std::string& path,
                                           ErrorKind kind = ErrorKind::kFormat,
                                           const std::string& invalid_prefix = "not valid JSON");

// One line of a JSONL file, parsed into `parser` (reused from line to line, so the node is valid
// until the next call) as ParseJsonText does; it must be a JSON object. `origin` names the file
// and the line; its errors name the line ("invalid JSON (truncated or malformed line): ...",
// "expected a JSON object, found array") and a duplicate key's path.
JsonNode ParseJsonlRow(simdjson::dom::parser& parser, std::string_view line,
                       const JsonOrigin* origin);

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_JSON_READ_H_
