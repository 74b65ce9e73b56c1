// Line-oriented reading of JSONL (and other text) files with precise errors: a streaming line
// reader that validates UTF-8, and typed accessors over one parsed JSON row that throw
// doge::Error(kDataset, file, "<line>: field \"x\"", "missing" | "expected string, found number").
// Every loader and importer in tasks/data goes through these, so all dataset errors read alike.
#ifndef DOGE_TASKS_DATA_JSONL_H_
#define DOGE_TASKS_DATA_JSONL_H_

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace doge::data {

// Byte offset of the first byte that is not part of well-formed UTF-8 (overlongs, surrogates and
// code points above U+10FFFF are invalid), or std::string_view::npos when `s` is valid.
size_t FindInvalidUtf8(std::string_view s);

// Python's str.strip(): removes leading/trailing characters for which str.isspace() is true
// (ASCII whitespace, \x1c-\x1f, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
// U+205F, U+3000). The Hugging Face TriviaQA conversion strips with it.
std::string PyStrip(std::string_view s);

// Reads a file one line at a time (constant memory, so multi-hundred-MB splits stream). Lines are
// returned without "\n" (and without a trailing "\r"). Invalid UTF-8 throws, naming the line.
class LineReader {
 public:
  explicit LineReader(const std::string& path);  // throws Error(kIo) when it cannot open
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // False at end of file.
  bool Next(std::string_view* line);
  int64_t line_number() const { return line_number_; }  // 1-based number of the last line read
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  char* buf_ = nullptr;  // getline() buffer
  size_t cap_ = 0;
  int64_t line_number_ = 0;
};

// One parsed JSON object (a JSONL row or a nested object) plus where it came from, for errors.
class JsonRow {
 public:
  JsonRow(simdjson::dom::element element, const std::string* file, int64_t line,
          std::string prefix = "")
      : element_(element), file_(file), line_(line), prefix_(std::move(prefix)) {}

  std::string String(const char* key) const;
  int64_t Int(const char* key) const;
  std::vector<std::string> StringArray(const char* key) const;
  JsonRow Object(const char* key) const;
  // Array of objects, e.g. ARC's question.choices.
  std::vector<JsonRow> ObjectArray(const char* key) const;
  bool Has(const char* key) const;
  // Throws Error(kDataset, file, "<line>: field \"<prefix><key>\"", message).
  [[noreturn]] void Fail(const char* key, const std::string& message) const;

  simdjson::dom::element element() const { return element_; }

 private:
  simdjson::dom::element Get(const char* key) const;
  simdjson::dom::element element_;
  const std::string* file_;
  int64_t line_;
  std::string prefix_;  // "answer." for nested objects, so fields read "answer.aliases"
};

// "string", "number", "array", ... for error messages.
const char* JsonTypeName(simdjson::dom::element_type type);

// Calls `fn(row, line_number)` for every non-blank line of a JSONL file. Each line must be one
// JSON object; a truncated or malformed line throws Error(kDataset, path, "<line>", "invalid
// JSON: ..."). Returns the number of rows.
int64_t ForEachJsonlRow(const std::string& path,
                        const std::function<void(const JsonRow& row, int64_t line)>& fn);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_JSONL_H_
