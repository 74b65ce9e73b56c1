// Python str semantics on UTF-8 (values worked out by hand from the CPython docs).
#include "tasks/text_util.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace doge::tasks
