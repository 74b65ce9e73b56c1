#include "tasks/data/jsonl.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "engine/base/error.h"
#include "engine/base/utf8.h"

namespace doge::data {

LineReader::LineReader(const std::string& path, ErrorKind kind) : path_(path), kind_(kind) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) {
    throw Error(ErrorKind::kIo, path, "", std::string("cannot open: ") + std::strerror(errno));
  }
}

LineReader::~LineReader() {
  if (file_) std::fclose(file_);
  std::free(buf_);
}

bool LineReader::Next(std::string_view* line) {
  ssize_t n = getline(&buf_, &cap_, file_);
  if (n < 0) {
    if (std::ferror(file_)) throw Error(ErrorKind::kIo, path_, "", "read error");
    return false;
  }
  ++line_number_;
  size_t len = static_cast<size_t>(n);
  if (len > 0 && buf_[len - 1] == '\n') --len;
  if (len > 0 && buf_[len - 1] == '\r') --len;
  *line = std::string_view(buf_, len);
  size_t bad = FindInvalidUtf8(*line);
  if (bad != std::string_view::npos) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>((*line)[bad]));
    throw Error(kind_, path_, std::to_string(line_number_),
                "not valid UTF-8: byte " + std::string(hex) + " at column " +
                    std::to_string(bad + 1));
  }
  return true;
}

int64_t ForEachJsonlRow(const std::string& path,
                        const std::function<void(const JsonRow& row, int64_t line)>& fn,
                        ErrorKind kind) {
  LineReader reader(path, kind);
  simdjson::dom::parser parser;
  JsonOrigin origin{path, kind, 0};
  std::string_view line;
  int64_t rows = 0;
  while (reader.Next(&line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
    origin.line = reader.line_number();
    fn(ParseJsonlRow(parser, line, &origin), reader.line_number());
    ++rows;
  }
  return rows;
}

}  // namespace doge::data
