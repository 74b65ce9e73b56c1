// Python str semantics the prompt functions and metrics depend on, on UTF-8 strings: len() in code
// points, str.isspace()/strip()/rstrip()/split(), lower()/upper()/capitalize(), and removal of
// string.punctuation. lighteval's normalisers count code points, not bytes (eval-protocol.md §2.7).
// Case mapping is ICU's full, context-sensitive mapping in the root locale (one code point may
// become several; Greek final sigma), which is what CPython's str methods implement; see
// "Python text semantics" in tasks/specs/README.md for the check against CPython.
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
// str.split() with no separator: runs of str.isspace() characters separate words; leading and
// trailing whitespace yields no empty words.
std::vector<std::string> PySplit(std::string_view s);
// str.lower(): Unicode full lower-case mapping, all scripts ("İ" -> "i̇", final "Σ" -> "ς").
std::string PyLower(std::string_view s);
// str.upper(): Unicode full upper-case mapping ("ß" -> "SS", "ﬁ" -> "FI").
std::string PyUpper(std::string_view s);
// str.capitalize() as in CPython >= 3.8: the first code point title-cased (full mapping:
// "ǆ" -> "ǅ", "ß" -> "Ss"), the rest lower-cased (final sigma in the context of the whole string).
std::string PyCapitalize(std::string_view s);
// s.translate(str.maketrans("", "", string.punctuation)): drops the 32 ASCII punctuation marks.
std::string RemoveAsciiPunctuation(std::string_view s);
// str.replace(from, to) (all non-overlapping occurrences, left to right).
std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to);
// Decodes UTF-8 into code points (engine/base/utf8.h's decoder; each byte of an ill-formed
// sequence, overlong forms and encoded surrogates included, maps to U+DC00+byte, as Python's
// surrogateescape does, so EncodeUtf8 gives the bytes back).
std::vector<uint32_t> DecodeUtf8(std::string_view s);
std::string EncodeUtf8(const std::vector<uint32_t>& cps);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_TEXT_UTIL_H_
