// Python str helpers on UTF-8; see text_util.h.
#include "tasks/text_util.h"

#include "engine/tokenizer/unicode_util.h"

namespace doge::tasks {

std::vector<uint32_t> DecodeUtf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xDC00 + c);  // surrogateescape: one code point per invalid byte
      i += 1;
    } else {
      out.push_back(cp);
      i += len;
    }
  }
  return out;
}

std::string EncodeUtf8(const std::vector<uint32_t>& cps) {
  std::string out;
  for (uint32_t cp : cps) {
    if (cp >= 0xDC80 && cp <= 0xDCFF) {
      out.push_back(static_cast<char>(cp - 0xDC00));  // back to the original invalid byte
    } else {
      AppendUtf8(out, cp);
    }
  }
  return out;
}

int64_t CodePointLength(std::string_view s) { return static_cast<int64_t>(DecodeUtf8(s).size()); }

bool IsPyWhitespace(uint32_t cp) {
  // CPython's _PyUnicode_IsWhitespace table.
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:
    case 0x1C: case 0x1D: case 0x1E: case 0x1F: case 0x20:
    case 0x85: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {
// Byte length of the UTF-8 sequence starting at s[i] as DecodeUtf8 would consume it.
size_t SeqLen(std::string_view s, size_t i) {
  std::vector<uint32_t> one = DecodeUtf8(s.substr(i, 4));
  return EncodeUtf8({one.front()}).size();
}
}  // namespace

size_t TrailingWhitespaceBytes(std::string_view s) {
  // Walk forward (UTF-8 cannot be decoded reliably backwards when it may be invalid).
  size_t i = 0, ws_start = 0;
  bool in_ws = false;
  const std::vector<uint32_t> cps = DecodeUtf8(s);
  for (uint32_t cp : cps) {
    const size_t len = EncodeUtf8({cp}).size();
    if (IsPyWhitespace(cp)) {
      if (!in_ws) ws_start = i;
      in_ws = true;
    } else {
      in_ws = false;
    }
    i += len;
  }
  return in_ws ? s.size() - ws_start : 0;
}

std::string PyRstrip(std::string_view s) {
  return std::string(s.substr(0, s.size() - TrailingWhitespaceBytes(s)));
}

std::string PyStrip(std::string_view s) {
  std::string r = PyRstrip(s);
  size_t i = 0;
  while (i < r.size()) {
    const std::vector<uint32_t> one = DecodeUtf8(std::string_view(r).substr(i, 4));
    if (!IsPyWhitespace(one.front())) break;
    i += SeqLen(r, i);
  }
  return r.substr(i);
}

namespace {
uint32_t LowerCp(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) return cp + 32;  // Latin-1 capitals
  if (cp >= 0x100 && cp <= 0x17F) {
    // Latin Extended-A alternates capital/small pairs, with an odd block 0x139..0x148 and
    // 0x179..0x17E; U+0130 (İ) and U+0178 (Ÿ) are special.
    if (cp == 0x130) return 0x69;  // approximation: CPython gives "i̇" (two code points)
    if (cp == 0x178) return 0xFF;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) {
      return (cp % 2 == 1) ? cp + 1 : cp;
    }
    if (cp == 0x138 || cp == 0x149 || cp == 0x17F) return cp;
    return (cp % 2 == 0) ? cp + 1 : cp;
  }
  return cp;
}
uint32_t UpperCp(uint32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 32;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 32;
  if (cp == 0xFF) return 0x178;
  if (cp >= 0x100 && cp <= 0x17F) {
    if (cp == 0x131) return 0x49;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) {
      return (cp % 2 == 0) ? cp - 1 : cp;
    }
    if (cp == 0x130 || cp == 0x138 || cp == 0x149 || cp == 0x17F || cp == 0x178) return cp;
    return (cp % 2 == 1) ? cp - 1 : cp;
  }
  return cp;
}
}  // namespace

std::string PyLower(std::string_view s) {
  std::vector<uint32_t> cps = DecodeUtf8(s);
  for (uint32_t& cp : cps) cp = LowerCp(cp);
  return EncodeUtf8(cps);
}

std::string PyCapitalize(std::string_view s) {
  std::vector<uint32_t> cps = DecodeUtf8(s);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? UpperCp(cps[i]) : LowerCp(cps[i]);
  return EncodeUtf8(cps);
}

std::string RemoveAsciiPunctuation(std::string_view s) {
  static const std::string_view kPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (kPunct.find(c) == std::string_view::npos) out.push_back(c);
  }
  return out;
}

std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(from, i);
    if (j == std::string_view::npos) break;
    out.append(s.substr(i, j - i));
    out.append(to);
    i = j + from.size();
  }
  out.append(s.substr(i));
  return out;
}

}  // namespace doge::tasks
