// Pcre2Regex: the regex engine behind the Split and ByteLevel pre-tokenizers. PCRE2 (UTF + UCP,
// JIT-compiled) with one translation step so that it agrees with Oniguruma, the engine the Rust
// `tokenizers` library uses: `\s` / `\S` are rewritten to Oniguruma's Unicode White_Space set.
#ifndef DOGE_ENGINE_TOKENIZER_PCRE2_REGEX_H_
#define DOGE_ENGINE_TOKENIZER_PCRE2_REGEX_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace doge {

// Rewrites an Oniguruma-syntax pattern for PCRE2. PCRE2's UCP `\s` is "Z category plus \t..\r",
// which misses U+0085 (NEXT LINE, category Cc); Oniguruma's `\s` is Unicode White_Space, which
// includes it (gpt2/SOURCE.md, case unicode-008). Everything else in the Llama-3 and GPT-2
// patterns (\p{L}, \p{N}, (?i:...), look-ahead) means the same in both engines. Throws
// doge::Error(kConfig, file, field) for `\S` inside a character class (not representable here).
std::string TranslateOnigurumaPattern(const std::string& pattern, const std::string& file,
                                      const std::string& field);

class Pcre2Regex {
 public:
  // literal = true matches `pattern` as a plain string (Split's {"String": ...}). Throws
  // doge::Error(kConfig, file, field, ...) when the pattern does not compile.
  Pcre2Regex(const std::string& pattern, bool literal, const std::string& file,
             const std::string& field);
  ~Pcre2Regex();
  Pcre2Regex(const Pcre2Regex&) = delete;
  Pcre2Regex& operator=(const Pcre2Regex&) = delete;

  // Appends the [begin, end) byte ranges of all non-overlapping, non-empty matches in `text`,
  // left to right (an empty match advances by one character, as find_iter does). `text` MUST be
  // valid UTF-8: it is matched with PCRE2_NO_UTF_CHECK. Thread-safe (per-thread match data).
  void FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>* matches) const;

 private:
  std::string pattern_;  // as given (before translation), for errors
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
};

}  // namespace doge

#endif  // DOGE_ENGINE_TOKENIZER_PCRE2_REGEX_H_
