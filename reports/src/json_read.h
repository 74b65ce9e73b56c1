// Reading the JSON files that `doge eval` and `doge bench` write, with errors that name the file,
// the field path (e.g. "tasks.piqa.metrics.acc_norm") and what was expected versus found. Also the
// schema check every report command applies to its inputs, and the fingerprint parser (the
// inverse of engine/base/fingerprint.h WriteFingerprintJson).
#ifndef DOGE_REPORTS_SRC_JSON_READ_H_
#define DOGE_REPORTS_SRC_JSON_READ_H_

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/fingerprint.h"

namespace doge::reports {

// One JSON value inside a parsed document plus its dotted path, so every accessor can throw
// doge::Error(kFormat, file, path, "expected a number, found string").
class JsonNode {
 public:
  JsonNode(const std::string* file, simdjson::dom::element element, std::string path)
      : file_(file), element_(element), path_(std::move(path)) {}

  const std::string& file() const { return *file_; }
  const std::string& path() const { return path_; }
  simdjson::dom::element element() const { return element_; }

  bool IsNull() const;
  bool IsObject() const;
  bool IsArray() const;
  bool IsString() const;
  bool IsNumber() const;
  // "object", "array", "string", "number", "bool", "null".
  std::string TypeName() const;

  // Required member; throws "missing field" naming the object's path.
  JsonNode Get(const std::string& key) const;
  // Optional member (absent -> nullopt; present null counts as present).
  std::optional<JsonNode> Find(const std::string& key) const;
  std::vector<JsonNode> Items() const;                                // array elements
  std::vector<std::pair<std::string, JsonNode>> Members() const;      // object members, in order

  std::string String() const;
  double Number() const;  // accepts integer or floating JSON numbers
  int64_t Int() const;    // integer JSON numbers only
  bool Bool() const;
  // A finite number (or an integer) within [lo, hi]; otherwise a format error naming the field:
  // "expected <what> in [lo, hi], found x". Every number a report prints or computes with is read
  // through these, so out-of-range input is the file's fault, not an internal error later.
  double NumberIn(double lo, double hi, const std::string& what) const;
  int64_t IntIn(int64_t lo, int64_t hi, const std::string& what) const;

  // Convenience: Get(key).String() etc.
  std::string GetString(const std::string& key) const { return Get(key).String(); }
  double GetNumber(const std::string& key) const { return Get(key).Number(); }
  int64_t GetInt(const std::string& key) const { return Get(key).Int(); }

  // Throws Error(kFormat, file, path, message).
  [[noreturn]] void Fail(const std::string& message) const;

 private:
  const std::string* file_;
  simdjson::dom::element element_;
  std::string path_;
};

// A parsed file. The parser owns the memory behind every JsonNode, so keep the document alive
// while its nodes are used (hence the unique_ptr: the address of `file` must not move).
struct JsonDocument {
  std::string file;
  simdjson::dom::parser parser;
  simdjson::padded_string text;
  simdjson::dom::element root_element;
  JsonNode root() const { return JsonNode(&file, root_element, ""); }
};

// Reads and parses `path` (Error(kIo) when unreadable, Error(kFormat) when not JSON).
std::unique_ptr<JsonDocument> LoadJsonFile(const std::string& path);
// Parses JSON text held in memory; `label` stands in for the file name in errors.
std::unique_ptr<JsonDocument> ParseJsonText(const std::string& label, const std::string& text);

// Schema strings are "<name>/<version>" (e.g. "doge.results/1"). Throws when `found` is not
// exactly `expected`, telling an unknown version of the right kind ("unsupported schema version")
// apart from a different kind of file ("expected doge.results/1, found doge.bench.e2e/1").
void CheckSchema(const JsonNode& schema_node, const std::string& expected);

// Parses a "fingerprint" object (WriteFingerprintJson's output). All fields are required.
MachineFingerprint ParseFingerprint(const JsonNode& node);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_JSON_READ_H_
