// Line-oriented reading of JSONL (and other text) files with precise errors: a streaming line
// reader that validates UTF-8 (engine/base/utf8.h), and the JSONL row loop whose rows are
// engine/base/json_read.h nodes that throw doge::Error(kDataset, file, "<line>: field \"x\"",
// "missing" | "expected a string, found number 3"). Every loader and importer in tasks/data goes
// through these, so all dataset errors read alike.
#ifndef DOGE_TASKS_DATA_JSONL_H_
#define DOGE_TASKS_DATA_JSONL_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/json_read.h"

namespace doge::data {

// Reads a file one line at a time (constant memory, so multi-hundred-MB splits stream). Lines are
// returned without "\n" (and without a trailing "\r"). Invalid UTF-8 throws Error(kind, path,
// "<line>", ...), naming the byte and its column.
class LineReader {
 public:
  // Throws Error(kIo) when it cannot open.
  explicit LineReader(const std::string& path, ErrorKind kind = ErrorKind::kDataset);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // False at end of file.
  bool Next(std::string_view* line);
  int64_t line_number() const { return line_number_; }  // 1-based number of the last line read
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  ErrorKind kind_;
  std::FILE* file_ = nullptr;
  char* buf_ = nullptr;  // getline() buffer
  size_t cap_ = 0;
  int64_t line_number_ = 0;
};

// One parsed JSONL row (or any JSON object a loader reads), with errors naming the file, the
// line and the field: the one JSON reading layer, engine/base/json_read.h.
using JsonRow = JsonNode;

// Calls `fn(row, line_number)` for every non-blank line of a JSONL file. Each line must be one
// JSON object (ParseJsonlRow); a truncated or malformed line throws Error(kind, path, "<line>",
// "invalid JSON (truncated or malformed line): ..."). Returns the number of rows.
int64_t ForEachJsonlRow(const std::string& path,
                        const std::function<void(const JsonRow& row, int64_t line)>& fn,
                        ErrorKind kind = ErrorKind::kDataset);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_JSONL_H_
