// Python str helpers on UTF-8; see text_util.h.
#include "tasks/text_util.h"

#include <unicode/ucasemap.h>
#include <unicode/utypes.h>

#include "engine/base/error.h"
#include "engine/base/utf8.h"

namespace doge::tasks {

std::vector<uint32_t> DecodeUtf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const Utf8Char c = DecodeUtf8At(s, i);
    if (c.valid) {
      out.push_back(c.cp);
      i += c.len;
    } else {
      // surrogateescape: one code point per byte of an ill-formed sequence, as Python's
      // bytes.decode("utf-8", "surrogateescape") gives, so EncodeUtf8 restores the bytes.
      out.push_back(0xDC00 + static_cast<uint8_t>(s[i]));
      i += 1;
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

std::vector<std::string> PySplit(std::string_view s) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (uint32_t cp : DecodeUtf8(s)) {
    if (IsPyWhitespace(cp)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += EncodeUtf8({cp});
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

namespace {

enum class CaseOp { kLower, kUpper, kCapitalize };

// One ICU case map per operation, in the root locale ("" -- not NULL, which would pick up the
// process locale, e.g. Turkish rules under tr_TR). Capitalize is ICU's title-casing of the whole
// string as one segment without moving to the first cased letter: exactly CPython's
// str.capitalize() (title-case code point 0, full lower-case mapping with context for the rest).
// A UCaseMap is immutable after creation and its const use is thread-safe.
const UCaseMap* OpenRootCaseMap(uint32_t options) {
  UErrorCode status = U_ZERO_ERROR;
  UCaseMap* map = ucasemap_open("", options, &status);
  return U_FAILURE(status) ? nullptr : map;  // kept for the life of the process
}

const UCaseMap* CaseMapFor(CaseOp op) {
  static const UCaseMap* const kPlain = OpenRootCaseMap(0);
  static const UCaseMap* const kWholeString =
      OpenRootCaseMap(U_TITLECASE_WHOLE_STRING | U_TITLECASE_NO_BREAK_ADJUSTMENT);
  return op == CaseOp::kCapitalize ? kWholeString : kPlain;
}

std::string MapCase(std::string_view s, CaseOp op) {
  if (s.empty()) return std::string();
  const UCaseMap* map = CaseMapFor(op);
  if (map == nullptr) {
    throw Error(ErrorKind::kInternal, "libicu", "ucasemap_open",
                "ICU could not open a root-locale case map");
  }
  // Full case mapping grows a string by at most 3x in code points; start with some slack and
  // retry once with the exact size ICU reports.
  std::string out(s.size() + s.size() / 2 + 16, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    UErrorCode status = U_ZERO_ERROR;
    const int32_t src_len = static_cast<int32_t>(s.size());
    const int32_t dst_cap = static_cast<int32_t>(out.size());
    int32_t n = 0;
    switch (op) {
      case CaseOp::kLower:
        n = ucasemap_utf8ToLower(map, out.data(), dst_cap, s.data(), src_len, &status);
        break;
      case CaseOp::kUpper:
        n = ucasemap_utf8ToUpper(map, out.data(), dst_cap, s.data(), src_len, &status);
        break;
      case CaseOp::kCapitalize:
        // const_cast: ucasemap_utf8ToTitle takes a non-const map only to lazily create a break
        // iterator, which U_TITLECASE_WHOLE_STRING never needs.
        n = ucasemap_utf8ToTitle(const_cast<UCaseMap*>(map), out.data(), dst_cap, s.data(), src_len,
                                 &status);
        break;
    }
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      out.assign(static_cast<size_t>(n), '\0');
      continue;
    }
    if (U_FAILURE(status)) {
      throw Error(ErrorKind::kInternal, "libicu", "ucasemap",
                  std::string("case mapping failed: ") + u_errorName(status));
    }
    out.resize(static_cast<size_t>(n));
    return out;
  }
  throw Error(ErrorKind::kInternal, "libicu", "ucasemap",
              "case mapping did not fit the size ICU reported");
}

}  // namespace

std::string PyLower(std::string_view s) { return MapCase(s, CaseOp::kLower); }
std::string PyUpper(std::string_view s) { return MapCase(s, CaseOp::kUpper); }
std::string PyCapitalize(std::string_view s) { return MapCase(s, CaseOp::kCapitalize); }

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
