// Helpers shared by the tokenizer tests: reading the JSONL goldens of tests/data/tokenizer.
#ifndef DOGE_TESTS_TOKENIZER_GOLDEN_UTIL_H_
#define DOGE_TESTS_TOKENIZER_GOLDEN_UTIL_H_

#include <simdjson.h>

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace doge::testing {

inline std::string TokenizerData(const std::string& rel) {
  return std::string(DOGE_TEST_DATA) + "/tokenizer/" + rel;
}

// Lines of a JSONL file (without the newline). Throws when the file cannot be read, so a missing
// golden fails the test instead of passing with zero cases.
inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

inline std::vector<int32_t> IdsOf(simdjson::dom::element e) {
  std::vector<int32_t> ids;
  const simdjson::dom::array arr = e.get_array().value();  // keep the array alive for the loop
  for (simdjson::dom::element x : arr) ids.push_back(static_cast<int32_t>(x.get_int64().value()));
  return ids;
}

inline std::vector<std::string> StringsOf(simdjson::dom::element e) {
  std::vector<std::string> out;
  const simdjson::dom::array arr = e.get_array().value();
  for (simdjson::dom::element x : arr) out.emplace_back(x.get_string().value());
  return out;
}

// "[1, 2, 3]" for failure messages.
inline std::string Show(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace doge::testing

#endif  // DOGE_TESTS_TOKENIZER_GOLDEN_UTIL_H_
