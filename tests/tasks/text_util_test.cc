// Python str semantics on UTF-8. The first tests hold values worked out by hand from the CPython
// docs; the case-mapping table below was produced by CPython 3.11.7 (Unicode 14.0) with
//   for s in inputs: print(s.lower(), s.upper(), s.capitalize())
// and written here literally (the test never runs Python).
#include "tasks/text_util.h"

#include <unicode/uchar.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/tokenizer/unicode_util.h"

namespace doge::tasks {
namespace {

TEST(TextUtilTest, CodePointLength) {
  EXPECT_EQ(CodePointLength(""), 0);
  EXPECT_EQ(CodePointLength(" Zürich"), 7);           // ü is 2 bytes, 1 code point
  EXPECT_EQ(CodePointLength("\xe2\x82\xac" "5"), 2);   // €5
  EXPECT_EQ(CodePointLength("\xf0\x9f\x98\x80"), 1);   // one emoji, 4 bytes
  EXPECT_EQ(CodePointLength("a\xff" "b"), 3);          // an invalid byte counts once
}

TEST(TextUtilTest, StripFamily) {
  EXPECT_EQ(PyRstrip("abc \n\t "), "abc");
  EXPECT_EQ(TrailingWhitespaceBytes("x\n\n"), 2u);
  EXPECT_EQ(TrailingWhitespaceBytes("x\xc2\xa0"), 2u);  // U+00A0 is whitespace for str.isspace
  EXPECT_EQ(TrailingWhitespaceBytes("x"), 0u);
  EXPECT_EQ(PyStrip("  a b  "), "a b");
  EXPECT_EQ(PyStrip(" \n "), "");
  // Python: "\u00a0 x y\u3000\n".strip() == "x y"; \x1c-\x1f are whitespace to Python.
  EXPECT_EQ(PyStrip("\xC2\xA0 x y\xE3\x80\x80\n"), "x y");
  EXPECT_EQ(PyStrip("Z\xC3\xBCrich "), "Z\xC3\xBCrich");
  EXPECT_EQ(PyStrip("\x1f" "a\x1c"), "a");
}

TEST(TextUtilTest, CaseAndPunctuation) {
  EXPECT_EQ(PyCapitalize("the lady"), "The lady");
  EXPECT_EQ(PyCapitalize("tHE BOY"), "The boy");
  EXPECT_EQ(PyCapitalize(""), "");
  EXPECT_EQ(PyCapitalize("élan"), "Élan");
  EXPECT_EQ(PyLower("ZÜRICH Łódź"), "zürich łódź");
  EXPECT_EQ(RemoveAsciiPunctuation("U.S.A., (1930s)! it's"), "USA 1930s its");
  EXPECT_EQ(ReplaceAll("a  b   c", "  ", " "), "a b  c");
}

struct PyCaseRow {
  const char* name;
  const char* input;
  const char* lower;       // CPython input.lower()
  const char* upper;       // CPython input.upper()
  const char* capitalize;  // CPython input.capitalize()
};

// Every row's three outputs come from CPython 3.11.7. The rows cover what a hand table gets wrong:
// context (final sigma, also before a combining mark), one-to-many mappings (İ, ß, ligatures,
// ŉ, ǰ, Greek iota subscript), title case distinct from upper case (ǅ, ᾼ), capitalize leaving a
// non-letter first code point alone, and scripts outside Latin.
const PyCaseRow kPyCaseRows[] = {
    {"greek_final_sigma", "ΟΔΥΣΣΕΥΣ", "οδυσσευς", "ΟΔΥΣΣΕΥΣ", "Οδυσσευς"},
    {"greek_sigma_words", "ΣΑ Σ ΑΣ. ΑΣ1", "σα σ ας. ας1", "ΣΑ Σ ΑΣ. ΑΣ1", "Σα σ ας. ας1"},
    {"greek_accent", "Ελλάδα ΆΣ\u0301", "ελλάδα άς\u0301", "ΕΛΛΆΔΑ ΆΣ\u0301", "Ελλάδα άς\u0301"},
    {"greek_iota_subscript", "ᾳ ᾼ ΐ", "ᾳ ᾳ ΐ", "ΑΙ ΑΙ Ι\u0308\u0301", "ᾼ ᾳ ΐ"},
    {"cyrillic", "Россия МОСКВА ёЖ", "россия москва ёж", "РОССИЯ МОСКВА ЁЖ", "Россия москва ёж"},
    {"turkish", "İstanbul ıi DIYARBAKIR", "i\u0307stanbul ıi diyarbakir", "İSTANBUL II DIYARBAKIR",
     "İstanbul ıi diyarbakir"},
    {"romanian", "TIMIȘOARA ș ț Ț", "timișoara ș ț ț", "TIMIȘOARA Ș Ț Ț", "Timișoara ș ț ț"},
    {"romanian_first", "ștefan", "ștefan", "ȘTEFAN", "Ștefan"},
    {"german", "straße STRASSE ẞ", "straße strasse ß", "STRASSE STRASSE ẞ", "Straße strasse ß"},
    {"german_first", "ßa", "ßa", "SSA", "Ssa"},
    {"ligatures", "ﬁnance ﬂ ﬀ", "ﬁnance ﬂ ﬀ", "FINANCE FL FF", "Finance ﬂ ﬀ"},
    {"digraphs", "ǆemal ǅ Ǆ ǉ", "ǆemal ǆ ǆ ǉ", "ǄEMAL Ǆ Ǆ Ǉ", "ǅemal ǆ ǆ ǉ"},
    {"combining", "e\u0301cole E\u0301COLE", "e\u0301cole e\u0301cole", "E\u0301COLE E\u0301COLE",
     "E\u0301cole e\u0301cole"},
    {"emoji", "🙂 emoji 🇷🇴 👍🏽", "🙂 emoji 🇷🇴 👍🏽", "🙂 EMOJI 🇷🇴 👍🏽", "🙂 emoji 🇷🇴 👍🏽"},
    {"nonletter_first", "'hello WORLD", "'hello world", "'HELLO WORLD", "'hello world"},
    {"special_latin", "ŉ ǰ", "ŉ ǰ", "ʼN J\u030c", "ʼN ǰ"},
    {"armenian", "ﬓ և", "ﬓ և", "ՄՆ ԵՒ", "Մն և"},
    {"empty", "", "", "", ""},
};

TEST(TextUtilTest, CaseMappingMatchesCPython) {
  for (const PyCaseRow& r : kPyCaseRows) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(PyLower(r.input), r.lower);
    EXPECT_EQ(PyUpper(r.input), r.upper);
    EXPECT_EQ(PyCapitalize(r.input), r.capitalize);
  }
}

TEST(TextUtilTest, IllFormedBytesDecodeOneEscapePerByte) {
  // Python: b"a\xc0\xaf".decode("utf-8", "surrogateescape") == "a\udcc0\udcaf" (an overlong "/"
  // is not "/"), b"\xed\xa0\x80" (an encoded surrogate) gives three escapes, and each comes back
  // as its byte.
  EXPECT_EQ(DecodeUtf8("a\xC0\xAF"), (std::vector<uint32_t>{0x61, 0xDCC0, 0xDCAF}));
  EXPECT_EQ(DecodeUtf8("\xED\xA0\x80"), (std::vector<uint32_t>{0xDCED, 0xDCA0, 0xDC80}));
  EXPECT_EQ(DecodeUtf8("\xE2\x82"), (std::vector<uint32_t>{0xDCE2, 0xDC82}));
  EXPECT_EQ(EncodeUtf8(DecodeUtf8("a\xC0\xAF\xED\xA0\x80")), "a\xC0\xAF\xED\xA0\x80");
  EXPECT_EQ(CodePointLength("\xC0\xAF"), 2);
  EXPECT_EQ(PyStrip(" \xC0\xA0 "), "\xC0\xA0");  // C0 A0 is not an overlong space
}

TEST(TextUtilTest, CaseMappingKeepsInvalidBytes) {
  // CPython with surrogateescape: b"a\xffB".decode(errors="surrogateescape").lower() encodes back
  // to b"a\xffb"; a truncated sequence is kept byte for byte too.
  EXPECT_EQ(PyLower("a\xff" "B"), "a\xff" "b");
  EXPECT_EQ(PyUpper("a\xe2\x82" "b"), "A\xe2\x82" "B");
}

TEST(TextUtilTest, WhitespaceSetIsCPythonsDefinition) {
  // CPython's str.isspace() table is generated (Tools/unicode/makeunicodedata.py) from: bidi class
  // WS, B or S, or general category Zs. Check the hand table against that rule for every code point,
  // with ICU's Unicode data as the independent source, and PyStrip against it too.
  int n_space = 0;
  for (UChar32 cp = 0; cp <= 0x10FFFF; ++cp) {
    const int bidi = u_charDirection(cp);
    const bool expected = bidi == U_WHITE_SPACE_NEUTRAL || bidi == U_BLOCK_SEPARATOR ||
                          bidi == U_SEGMENT_SEPARATOR || u_charType(cp) == U_SPACE_SEPARATOR;
    ASSERT_EQ(IsPyWhitespace(static_cast<uint32_t>(cp)), expected) << "U+" << std::hex << cp;
    n_space += expected;
    if (expected) {
      std::string s;
      AppendUtf8(s, static_cast<uint32_t>(cp));
      ASSERT_EQ(PyStrip(s + "x" + s), "x") << "U+" << std::hex << cp;
    }
  }
  EXPECT_EQ(n_space, 29);  // len([c for c in map(chr, range(0x110000)) if c.isspace()]) in CPython
}

TEST(TextUtilTest, SplitOnPythonWhitespace) {
  // CPython: " \x1c a\u3000b\u00a0c\u200bd\x85 ".split() == ['a', 'b', 'c\u200bd'] (U+200B, zero
  // width space, is not whitespace to Python).
  EXPECT_EQ(PySplit(" \x1c a\u3000b\u00a0c\u200bd\u0085 "), (std::vector<std::string>{"a", "b", "c\u200bd"}));
  EXPECT_EQ(PySplit(""), std::vector<std::string>{});
  EXPECT_EQ(PySplit("  \t\n"), std::vector<std::string>{});
  EXPECT_EQ(PySplit("one"), std::vector<std::string>{"one"});
  EXPECT_EQ(PyStrip("\u200b x \u200b"), "\u200b x \u200b");
}

}  // namespace
}  // namespace doge::tasks
