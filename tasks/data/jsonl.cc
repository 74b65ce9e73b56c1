#include "tasks/data/jsonl.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "engine/base/error.h"
#include "engine/base/json_duplicate_keys.h"

namespace doge::data {

size_t FindInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return i;  // continuation byte or 0xF8.. lead byte
    }
    if (i + len > n) return i;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return i;
    i += len;
  }
  return std::string_view::npos;
}

namespace {

// Decodes the code point at s[i] (valid UTF-8 assumed; invalid bytes decode as themselves).
uint32_t DecodeAt(std::string_view s, size_t i, size_t* len) {
  auto c = static_cast<unsigned char>(s[i]);
  int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *len = n;
  return cp;
}

bool PyIsSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

std::string PyStrip(std::string_view s) {
  size_t begin = 0, len = 0;
  while (begin < s.size() && PyIsSpace(DecodeAt(s, begin, &len))) begin += len;
  // Walk forward to find the end of the last non-space character (UTF-8 is not reversible
  // cheaply without care, and these strings are short).
  size_t end = begin;
  for (size_t i = begin; i < s.size(); i += len) {
    if (!PyIsSpace(DecodeAt(s, i, &len))) end = i + len;
  }
  return std::string(s.substr(begin, end - begin));
}

LineReader::LineReader(const std::string& path) : path_(path) {
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
    throw Error(ErrorKind::kDataset, path_, std::to_string(line_number_),
                "not valid UTF-8: byte " + std::string(hex) + " at column " +
                    std::to_string(bad + 1));
  }
  return true;
}

const char* JsonTypeName(simdjson::dom::element_type type) {
  using T = simdjson::dom::element_type;
  switch (type) {
    case T::ARRAY: return "array";
    case T::OBJECT: return "object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE: return "number";
    case T::STRING: return "string";
    case T::BOOL: return "bool";
    case T::NULL_VALUE: return "null";
  }
  return "unknown";
}

void JsonRow::Fail(const char* key, const std::string& message) const {
  std::string field = "field \"" + prefix_ + key + "\"";
  throw Error(ErrorKind::kDataset, file_ ? *file_ : "",
              line_ > 0 ? std::to_string(line_) + ": " + field : field, message);
}

bool JsonRow::Has(const char* key) const {
  simdjson::dom::element v;
  return element_[key].get(v) == simdjson::SUCCESS;
}

simdjson::dom::element JsonRow::Get(const char* key) const {
  simdjson::dom::element v;
  if (element_[key].get(v) != simdjson::SUCCESS) Fail(key, "missing");
  return v;
}

std::string JsonRow::String(const char* key) const {
  auto v = Get(key);
  if (!v.is_string()) Fail(key, std::string("expected string, found ") + JsonTypeName(v.type()));
  return std::string(std::string_view(v));
}

int64_t JsonRow::Int(const char* key) const {
  auto v = Get(key);
  int64_t out;
  if (v.get(out) != simdjson::SUCCESS) {
    Fail(key, std::string("expected integer, found ") + JsonTypeName(v.type()));
  }
  return out;
}

std::vector<std::string> JsonRow::StringArray(const char* key) const {
  auto v = Get(key);
  simdjson::dom::array arr;
  if (v.get(arr) != simdjson::SUCCESS) {
    Fail(key, std::string("expected array of strings, found ") + JsonTypeName(v.type()));
  }
  std::vector<std::string> out;
  size_t i = 0;
  for (auto item : arr) {
    if (!item.is_string()) {
      Fail(key, "element " + std::to_string(i) + ": expected string, found " +
                    JsonTypeName(item.type()));
    }
    out.emplace_back(std::string_view(item));
    ++i;
  }
  return out;
}

JsonRow JsonRow::Object(const char* key) const {
  auto v = Get(key);
  if (!v.is_object()) Fail(key, std::string("expected object, found ") + JsonTypeName(v.type()));
  return JsonRow(v, file_, line_, prefix_ + key + ".");
}

std::vector<JsonRow> JsonRow::ObjectArray(const char* key) const {
  auto v = Get(key);
  simdjson::dom::array arr;
  if (v.get(arr) != simdjson::SUCCESS) {
    Fail(key, std::string("expected array of objects, found ") + JsonTypeName(v.type()));
  }
  std::vector<JsonRow> out;
  size_t i = 0;
  for (auto item : arr) {
    std::string at = prefix_ + key + "[" + std::to_string(i) + "]";
    if (!item.is_object()) {
      JsonRow(element_, file_, line_, "").Fail(at.c_str(), std::string("expected object, found ") +
                                                               JsonTypeName(item.type()));
    }
    out.emplace_back(item, file_, line_, at + ".");
    ++i;
  }
  return out;
}

int64_t ForEachJsonlRow(const std::string& path,
                        const std::function<void(const JsonRow& row, int64_t line)>& fn) {
  LineReader reader(path);
  simdjson::dom::parser parser;
  std::string_view line;
  int64_t rows = 0;
  while (reader.Next(&line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
    simdjson::dom::element element;
    auto err = parser.parse(line.data(), line.size()).get(element);
    if (err) {
      throw Error(ErrorKind::kDataset, path, std::to_string(reader.line_number()),
                  std::string("invalid JSON (truncated or malformed line): ") +
                      simdjson::error_message(err));
    }
    if (!element.is_object()) {
      throw Error(ErrorKind::kDataset, path, std::to_string(reader.line_number()),
                  std::string("expected a JSON object, found ") + JsonTypeName(element.type()));
    }
    if (auto d = FindConflictingDuplicateKey(element)) {
      throw Error(ErrorKind::kDataset, path,
                  std::to_string(reader.line_number()) + ": field \"" + d->path + "\"",
                  DuplicateKeyMessage(*d));
    }
    fn(JsonRow(element, &reader.path(), reader.line_number()), reader.line_number());
    ++rows;
  }
  return rows;
}

}  // namespace doge::data
