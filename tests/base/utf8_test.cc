// engine/base/utf8.h: the validator, the first-bad-byte finder and the decoder agree on the
// Unicode standard's rule (Table 3-7). Expectations are worked out by hand from the bytes.
#include "engine/base/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace doge {
namespace {

TEST(Utf8Test, FindInvalidUtf8NamesTheFirstBadByte) {
  EXPECT_EQ(FindInvalidUtf8(""), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("plain"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\xC0\xAF"), 2u);           // overlong "/" (2 bytes)
  EXPECT_EQ(FindInvalidUtf8("ab\xE0\x80\xAF"), 2u);       // overlong "/" (3 bytes)
  EXPECT_EQ(FindInvalidUtf8("\xF0\x80\x80\xAF"), 0u);     // overlong "/" (4 bytes)
  EXPECT_EQ(FindInvalidUtf8("\xC1\xBF"), 0u);             // overlong U+007F
  EXPECT_EQ(FindInvalidUtf8("\xE0\x9F\xBF"), 0u);         // overlong U+07FF
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1u);        // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("\xED\xBF\xBF"), 0u);         // surrogate U+DFFF
  EXPECT_EQ(FindInvalidUtf8("x\xE2\x82"), 1u);            // truncated at the end
  EXPECT_EQ(FindInvalidUtf8("\xE2\x82x"), 0u);            // truncated before ASCII
  EXPECT_EQ(FindInvalidUtf8("ab\xFF" "cd"), 2u);
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);                 // lone continuation byte
  EXPECT_EQ(FindInvalidUtf8("xy\xF4\x90\x80\x80"), 2u);   // U+110000, past the last code point
  EXPECT_EQ(FindInvalidUtf8("\xF5\x80\x80\x80"), 0u);     // F5..FF never lead
  // The edges that are valid: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF.
  EXPECT_EQ(FindInvalidUtf8("\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"
                            "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"),
            std::string_view::npos);
  // Past the validator's 64-byte blocks: the position is still exact.
  EXPECT_EQ(FindInvalidUtf8(std::string(200, 'a') + "\xC0\xAF"), 200u);
}

TEST(Utf8Test, IsValidUtf8AgreesWithFindInvalidUtf8) {
  for (const std::string s : {"", "a", "\xC3\xA9", "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82",
                              "\xF4\x8F\xBF\xBF", "\xF4\x90\x80\x80"}) {
    EXPECT_EQ(IsValidUtf8(s), FindInvalidUtf8(s) == std::string_view::npos) << s;
  }
}

// The code points and lengths DecodeUtf8At walks `s` in.
std::vector<std::pair<uint32_t, size_t>> Walk(std::string_view s, std::vector<bool>* valid) {
  std::vector<std::pair<uint32_t, size_t>> out;
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = DecodeUtf8At(s, i);
    out.emplace_back(c.cp, c.len);
    valid->push_back(c.valid);
    i += c.len;
  }
  return out;
}

TEST(Utf8Test, DecoderGivesCodePointsAndMaximalSubparts) {
  std::vector<bool> valid;
  // "aé€😀": U+0061, U+00E9 (C3 A9), U+20AC (E2 82 AC), U+1F600 (F0 9F 98 80).
  EXPECT_EQ(Walk("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", &valid),
            (std::vector<std::pair<uint32_t, size_t>>{{0x61, 1}, {0xE9, 2}, {0x20AC, 3}, {0x1F600, 4}}));
  EXPECT_EQ(valid, (std::vector<bool>{true, true, true, true}));
  // Ill-formed: C0 (never a lead) alone, then AF alone; E2 82 (truncated by 'x') as one subpart;
  // ED A0 (surrogate: A0 is outside ED's 80..9F) stops at the lead byte; F4 90 likewise.
  valid.clear();
  EXPECT_EQ(Walk("\xC0\xAF\xE2\x82x\xED\xA0\xF4\x90", &valid),
            (std::vector<std::pair<uint32_t, size_t>>{
                {0xC0, 1}, {0xAF, 1}, {0xE2, 2}, {0x78, 1}, {0xED, 1}, {0xA0, 1}, {0xF4, 1}, {0x90, 1}}));
  EXPECT_EQ(valid, (std::vector<bool>{false, false, false, true, false, false, false, false}));
  size_t pos = 0;
  EXPECT_EQ(NextCodePoint("\xE2\x82\xAC!", &pos), 0x20ACu);
  EXPECT_EQ(pos, 3u);
}

TEST(Utf8Test, LossyRepairIsOneReplacementPerMaximalSubpart) {
  // Rust: String::from_utf8_lossy(b"a\xE2\x82x\xC0\xAF\xED\xA0\x80b") == "a\u{FFFD}x\u{FFFD}\u{FFFD}
  // \u{FFFD}\u{FFFD}\u{FFFD}b" (E2 82 is one subpart; C0, AF, ED, A0, 80 one each).
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(Utf8Lossy("a\xE2\x82x\xC0\xAF\xED\xA0\x80" "b"), "a" + r + "x" + r + r + r + r + r + "b");
  EXPECT_EQ(Utf8Lossy("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(Utf8Test, AppendUtf8EncodesEachLength) {
  std::string s;
  for (uint32_t cp : {0x24u, 0xA2u, 0x20ACu, 0x10348u}) AppendUtf8(s, cp);
  EXPECT_EQ(s, "\x24\xC2\xA2\xE2\x82\xAC\xF0\x90\x8D\x88");
}

}  // namespace
}  // namespace doge
