#include "engine/base/json_numbers.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace doge {

namespace {

bool IsNumberChar(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// The replacement for one number literal, or "" when simdjson can hold it as it is.
std::string Replacement(std::string_view lit) {
  const bool integer = lit.find_first_of(".eE") == std::string_view::npos;
  if (integer) {
    int64_t i;
    uint64_t u;
    if (std::from_chars(lit.data(), lit.data() + lit.size(), i).ec == std::errc()) return "";
    if (std::from_chars(lit.data(), lit.data() + lit.size(), u).ec == std::errc()) return "";
  }
  const std::string copy(lit);
  errno = 0;
  char* end = nullptr;
  const double d = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return "";  // not a number literal: leave it to simdjson
  if (std::isinf(d)) return "\"" + std::string(kOutOfRangeNumberPrefix) + copy + "\"";
  return integer ? copy + ".0" : "";
}

}  // namespace

std::string RewriteUnrepresentableNumbers(std::string_view json) {
  std::string out;
  bool changed = false;
  out.reserve(json.size() + 16);
  size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '"') {  // copy a whole string literal, escapes included
      size_t j = i + 1;
      while (j < json.size() && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, json.size());
      out.append(json.substr(i, j - i));
      i = j;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t j = i;
      while (j < json.size() && IsNumberChar(json[j])) ++j;
      const std::string_view lit = json.substr(i, j - i);
      const std::string rep = Replacement(lit);
      if (rep.empty()) {
        out.append(lit);
      } else {
        out += rep;
        changed = true;
      }
      i = j;
      continue;
    }
    out += c;
    ++i;
  }
  return changed ? out : std::string();
}

simdjson::error_code ParseJsonTolerant(simdjson::dom::parser& parser, std::string_view text,
                                       simdjson::dom::element* root) {
  simdjson::error_code err = parser.parse(text.data(), text.size()).get(*root);
  if (err != simdjson::NUMBER_ERROR && err != simdjson::NUMBER_OUT_OF_RANGE) {
    return err;
  }
  const std::string rewritten = RewriteUnrepresentableNumbers(text);
  if (rewritten.empty()) return err;
  return parser.parse(rewritten.data(), rewritten.size()).get(*root);
}

}  // namespace doge
