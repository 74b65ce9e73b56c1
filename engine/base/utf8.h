// UTF-8, one module for every layer: validation (simdjson's SIMD validator for the fast path),
// the position of the first ill-formed byte for error messages, and one decoder. The rule is
// the Unicode standard's (Table 3-7): overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code
// points above U+10FFFF, stray continuation bytes and truncated sequences are all ill-formed.
// Accepting an overlong form would let two byte strings stand for one text (C0 AF is "/"), and
// re-encoding the decoded code point would not give the input back.
#ifndef DOGE_ENGINE_BASE_UTF8_H_
#define DOGE_ENGINE_BASE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace doge {

// One step of the decoder at s[i]: a well-formed character (`valid`, its code point and byte
// length), or the maximal subpart of an ill-formed sequence (Unicode §3.9: the longest prefix
// that could still have begun a character, at least one byte; `cp` is then the first byte).
struct Utf8Char {
  uint32_t cp;
  size_t len;
  bool valid;
};

// Decodes the character starting at s[i] (i < s.size()).
inline Utf8Char DecodeUtf8At(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return {b0, 1, true};
  size_t need;
  uint32_t cp;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;  // below: overlong
    if (b0 == 0xED) hi = 0x9F;  // above: a surrogate
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;  // below: overlong
    if (b0 == 0xF4) hi = 0x8F;  // above: past U+10FFFF
  } else {
    return {b0, 1, false};  // 80..C1 (continuation, overlong lead) and F5..FF never start one
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return {b0, k, false};
    const auto b = static_cast<uint8_t>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return {b0, k, false};
    cp = (cp << 6) | (b & 0x3Fu);
  }
  return {cp, need + 1, true};
}

// The code point at s[*pos], advancing *pos past it. For text already validated; an ill-formed
// byte comes back as itself and is skipped alone.
inline uint32_t NextCodePoint(std::string_view s, size_t* pos) {
  const Utf8Char c = DecodeUtf8At(s, *pos);
  *pos += c.valid ? c.len : 1;
  return c.cp;
}

// True when `s` is well-formed UTF-8 (simdjson::validate_utf8).
bool IsValidUtf8(std::string_view s);

// Byte offset of the first byte that is not part of well-formed UTF-8, or
// std::string_view::npos when `s` is valid.
size_t FindInvalidUtf8(std::string_view s);

// Well-formed UTF-8 copy of `s`: each maximal subpart of an ill-formed sequence becomes one
// U+FFFD, exactly as Rust's String::from_utf8_lossy. Valid input comes back unchanged.
std::string Utf8Lossy(std::string_view s);

// Appends code point `cp` (<= 0x10FFFF) as UTF-8.
void AppendUtf8(std::string& out, uint32_t cp);

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_UTF8_H_
