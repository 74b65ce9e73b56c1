#include "engine/tokenizer/unicode_util.h"

#include <unordered_map>

namespace doge {
namespace {

// Length of the longest valid prefix of a UTF-8 sequence starting at s[i] (the "maximal subpart"),
// and whether that prefix is a complete character. Table 3-7 of the Unicode standard: the second
// byte's allowed range depends on the lead byte (E0: A0..BF, ED: 80..9F, F0: 90..BF,
// F4: 80..8F), which is what rules out overlongs, surrogates and code points above U+10FFFF.
struct Utf8Step {
  size_t len;     // bytes consumed (>= 1)
  bool complete;  // true: a well-formed character of `len` bytes
};

Utf8Step ScanUtf8(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return {1, true};
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {1, false};  // 80..C1 and F5..FF never start a character
  }
  size_t k = 1;
  for (; k <= need; ++k) {
    if (i + k >= s.size()) return {k, false};
    const auto b = static_cast<uint8_t>(s[i + k]);
    const uint8_t l = (k == 1) ? lo : 0x80, h = (k == 1) ? hi : 0xBF;
    if (b < l || b > h) return {k, false};
  }
  return {k, true};
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path: 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const Utf8Step step = ScanUtf8(s, i);
    if (!step.complete) return false;
    i += step.len;
  }
  return true;
}

std::string Utf8Lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    const Utf8Step step = ScanUtf8(s, i);
    if (step.complete) {
      out.append(s.data() + i, step.len);
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD
    }
    i += step.len;
  }
  return out;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t NextCodePoint(std::string_view s, size_t* pos) {
  const auto b0 = static_cast<uint8_t>(s[*pos]);
  auto cont = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[*pos + k]) & 0x3F); };
  uint32_t cp;
  size_t len;
  if (b0 < 0x80) {
    cp = b0, len = 1;
  } else if (b0 < 0xE0) {
    cp = ((b0 & 0x1Fu) << 6) | cont(1), len = 2;
  } else if (b0 < 0xF0) {
    cp = ((b0 & 0x0Fu) << 12) | (cont(1) << 6) | cont(2), len = 3;
  } else {
    cp = ((b0 & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3), len = 4;
  }
  *pos += len;
  return cp;
}

const std::array<uint32_t, 256>& ByteLevelAlphabet() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      t[b] = printable ? b : next++;
    }
    return t;
  }();
  return table;
}

std::string BytesToByteLevel(std::string_view bytes) {
  const auto& alphabet = ByteLevelAlphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendUtf8(out, alphabet[static_cast<uint8_t>(c)]);
  return out;
}

bool ByteLevelToBytes(std::string_view s, std::string* out) {
  // Inverse table over the code points the alphabet uses (all below U+0144).
  static const std::array<int16_t, 0x144> inverse = [] {
    std::array<int16_t, 0x144> inv;
    inv.fill(-1);
    const auto& alphabet = ByteLevelAlphabet();
    for (int b = 0; b < 256; ++b) inv[alphabet[b]] = static_cast<int16_t>(b);
    return inv;
  }();
  if (!IsValidUtf8(s)) return false;
  out->clear();
  size_t pos = 0;
  while (pos < s.size()) {
    const uint32_t cp = NextCodePoint(s, &pos);
    if (cp >= inverse.size() || inverse[cp] < 0) return false;
    out->push_back(static_cast<char>(inverse[cp]));
  }
  return true;
}

}  // namespace doge
