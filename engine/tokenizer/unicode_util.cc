#include "engine/tokenizer/unicode_util.h"

#include <unordered_map>

namespace doge {

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
