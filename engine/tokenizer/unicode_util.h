// UTF-8 helpers for the tokenizers: validation, lossy repair (U+FFFD per maximal invalid
// subsequence, exactly like Rust's String::from_utf8_lossy) and GPT-2's byte <-> unicode
// alphabet used by the ByteLevel pre-tokenizer and decoder.
#ifndef DOGE_ENGINE_TOKENIZER_UNICODE_UTIL_H_
#define DOGE_ENGINE_TOKENIZER_UNICODE_UTIL_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace doge {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Well-formed UTF-8 copy of `s`: each maximal subpart of an ill-formed sequence (Unicode §3.9,
// "substitution of maximal subparts", which is what from_utf8_lossy implements) becomes one
// U+FFFD. Valid input comes back unchanged.
std::string Utf8Lossy(std::string_view s);

// Appends code point `cp` (<= 0x10FFFF) as UTF-8.
void AppendUtf8(std::string& out, uint32_t cp);

// Decodes the code point starting at s[*pos] in *valid* UTF-8 and advances *pos past it.
uint32_t NextCodePoint(std::string_view s, size_t* pos);

// GPT-2's bytes_to_unicode(): the 188 printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC,
// U+00AE..U+00FF) map to themselves, the other 68 bytes to U+0100.. in byte order. So 'Ġ'
// (U+0120) is the space byte and 'Ċ' (U+010A) is '\n'.
const std::array<uint32_t, 256>& ByteLevelAlphabet();

// Raw bytes -> byte-level string ("a b" -> "aĠb").
std::string BytesToByteLevel(std::string_view bytes);

// Byte-level string -> raw bytes. Returns false (out unspecified) when `s` is not valid UTF-8
// or holds a character outside the 256-character alphabet.
bool ByteLevelToBytes(std::string_view s, std::string* out);

}  // namespace doge

#endif  // DOGE_ENGINE_TOKENIZER_UNICODE_UTIL_H_
