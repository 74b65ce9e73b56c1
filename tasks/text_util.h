// Python str semantics the prompt functions and metrics depend on, on UTF-8 strings: len() in code
// points, str.isspace()/strip()/rstrip(), lower(), capitalize(), and removal of
// string.punctuation. lighteval's normalisers count code points, not bytes (eval-protocol.md §2.7).
#ifndef DOGE_TASKS_TEXT_UTIL_H_
#define DOGE_TASKS_TEXT_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace doge::tasks {

// Python len(s): number of code points (invalid bytes count one each, like surrogateescape).
int64_t CodePointLength(std::string_view s);
// str.isspace() for one code point.
bool IsPyWhitespace(uint32_t cp);
// Byte length of the trailing whitespace run of `s` (what str.rstrip() removes).
size_t TrailingWhitespaceBytes(std::string_view s);
std::string PyStrip(std::string_view s);
std::string PyRstrip(std::string_view s);
// str.lower(): ASCII and Latin-1 Supplement/Latin Extended-A letters (the scripts of the card
// datasets); other code points pass through unchanged.
std::string PyLower(std::string_view s);
// str.capitalize(): first code point upper-cased (same coverage as PyLower), the rest lowered.
std::string PyCapitalize(std::string_view s);
// s.translate(str.maketrans("", "", string.punctuation)): drops the 32 ASCII punctuation marks.
std::string RemoveAsciiPunctuation(std::string_view s);
// str.replace(from, to) (all non-overlapping occurrences, left to right).
std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to);
// Decodes UTF-8 into code points (invalid bytes map to U+DC80+byte, as surrogateescape).
std::vector<uint32_t> DecodeUtf8(std::string_view s);
std::string EncodeUtf8(const std::vector<uint32_t>& cps);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_TEXT_UTIL_H_
