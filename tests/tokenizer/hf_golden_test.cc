// Acceptance test of issue #3: every line of corpus.jsonl and decode.jsonl of the four
// tokenizer.json fixtures (doge, synthetic-512, synthetic-768, gpt2) must match the Rust
// `tokenizers` goldens exactly: ids, ids_no_special, decoded, decoded_skip_special,
// decoded_cleanup, plus tokens and pretokens as diagnostics of where a mismatch comes from.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "engine/tokenizer/hf_tokenizer.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/tokenizer/golden_util.h"

namespace doge {
namespace {

using testing::IdsOf;
using testing::ReadLines;
using testing::Show;
using testing::StringsOf;
using testing::TokenizerData;

class HfGoldenTest : public ::testing::TestWithParam<std::string> {};

// Pass counts per field, printed so the closing note can quote them.
struct Tally {
  std::map<std::string, std::pair<int, int>> fields;  // field -> (passed, total)
  void Add(const std::string& field, bool ok) {
    auto& [pass, total] = fields[field];
    pass += ok;
    ++total;
  }
  void Print(const std::string& what) const {
    for (const auto& [field, pt] : fields) {
      std::printf("[golden] %s %s: %d/%d\n", what.c_str(), field.c_str(), pt.first, pt.second);
    }
  }
};

TEST_P(HfGoldenTest, CorpusMatchesRustTokenizers) {
  const std::string dir = TokenizerData(GetParam());
  const auto tokenizer = LoadTokenizer(dir);
  const auto* hf = dynamic_cast<const HfTokenizer*>(tokenizer.get());
  ASSERT_NE(hf, nullptr) << "a folder with tokenizer.json must load the tokenizer.json backend";
  const bool has_cleanup_field = tokenizer->clean_up_tokenization_spaces();
  simdjson::dom::parser parser;
  Tally tally;
  const auto lines = ReadLines(dir + "/corpus.jsonl");
  ASSERT_EQ(lines.size(), 440u);
  for (const std::string& line : lines) {
    simdjson::dom::element rec = parser.parse(line);
    const std::string id(rec["id"].get_string().value());
    const std::string text(rec["text"].get_string().value());
    SCOPED_TRACE(id);

    const auto ids = tokenizer->Encode(text, true);
    const auto want_ids = IdsOf(rec["ids"]);
    tally.Add("ids", ids == want_ids);
    EXPECT_EQ(Show(ids), Show(want_ids));

    const auto ids_ns = tokenizer->Encode(text, false);
    const auto want_ns = IdsOf(rec["ids_no_special"]);
    tally.Add("ids_no_special", ids_ns == want_ns);
    EXPECT_EQ(Show(ids_ns), Show(want_ns));

    std::vector<std::string> tokens;
    for (int32_t t : ids_ns) tokens.push_back(hf->IdToToken(t));
    const bool tokens_ok = tokens == StringsOf(rec["tokens"]);
    tally.Add("tokens", tokens_ok);
    EXPECT_TRUE(tokens_ok);

    // Decoding is checked on the golden ids, so a decode bug is not masked by an encode bug.
    const std::string decoded = tokenizer->Decode(want_ids, false, false);
    const std::string want_decoded(rec["decoded"].get_string().value());
    tally.Add("decoded", decoded == want_decoded);
    EXPECT_EQ(decoded, want_decoded);

    const std::string skip = tokenizer->Decode(want_ids, true, false);
    const std::string want_skip(rec["decoded_skip_special"].get_string().value());
    tally.Add("decoded_skip_special", skip == want_skip);
    EXPECT_EQ(skip, want_skip);

    simdjson::dom::element cleanup_field;
    if (rec["decoded_cleanup"].get(cleanup_field) == simdjson::SUCCESS) {
      ASSERT_TRUE(has_cleanup_field) << "golden has decoded_cleanup but config disables clean-up";
      const std::string cleaned = tokenizer->Decode(want_ids, false, true);
      const std::string want_cleaned(cleanup_field.get_string().value());
      tally.Add("decoded_cleanup", cleaned == want_cleaned);
      EXPECT_EQ(cleaned, want_cleaned);
    }

    // Round trip: decoding ids_no_special gives the text back (README: true for every fixture).
    EXPECT_EQ(tokenizer->Decode(want_ns, false, false), text);
  }
  tally.Print(GetParam() + " corpus");
}

TEST_P(HfGoldenTest, PreTokensMatchRustTokenizers) {
  // The pieces the BPE sees. Known, documented difference (README note 3): the reference's regex
  // engine has Unicode 16.0 tables, Debian's PCRE2 10.42 has Unicode 14.0, so the letters and
  // digits added in Unicode 15.0-16.0 (cases unicode_version-002 ... -008) are not \p{L} / \p{N}
  // here and split off differently. Their ids still match (checked above) because no merge joins
  // an ASCII letter to those code points' bytes. Every other case must agree, and the set of
  // disagreeing cases must be exactly that one, so a new divergence fails.
  const std::set<std::string> kUnicode15To16Cases = {
      "unicode_version-002", "unicode_version-003", "unicode_version-004", "unicode_version-005",
      "unicode_version-006", "unicode_version-007", "unicode_version-008"};
  const std::string dir = TokenizerData(GetParam());
  const auto tokenizer = LoadTokenizer(dir);
  const auto& hf = dynamic_cast<const HfTokenizer&>(*tokenizer);
  simdjson::dom::parser parser;
  std::set<std::string> mismatched;
  int total = 0;
  for (const std::string& line : ReadLines(dir + "/corpus.jsonl")) {
    simdjson::dom::element rec = parser.parse(line);
    const std::string id(rec["id"].get_string().value());
    const auto got = hf.PreTokens(std::string(rec["text"].get_string().value()));
    if (got != StringsOf(rec["pretokens"])) mismatched.insert(id);
    ++total;
  }
  EXPECT_EQ(mismatched, kUnicode15To16Cases);
  std::printf("[golden] %s corpus pretokens: %d/%d (the rest: Unicode 15-16 letters, see test)\n",
              GetParam().c_str(), total - static_cast<int>(mismatched.size()), total);
}

TEST_P(HfGoldenTest, DecodeCasesMatchRustTokenizers) {
  const std::string dir = TokenizerData(GetParam());
  const auto tokenizer = LoadTokenizer(dir);
  const auto& hf = dynamic_cast<const HfTokenizer&>(*tokenizer);
  simdjson::dom::parser parser;
  Tally tally;
  const auto lines = ReadLines(dir + "/decode.jsonl");
  ASSERT_GT(lines.size(), 400u);
  for (const std::string& line : lines) {
    simdjson::dom::element rec = parser.parse(line);
    const std::string id(rec["id"].get_string().value());
    SCOPED_TRACE(id);
    const auto ids = IdsOf(rec["ids"]);
    std::vector<std::string> tokens;
    for (int32_t t : ids) tokens.push_back(hf.IdToToken(t));
    const bool tokens_ok = tokens == StringsOf(rec["tokens"]);
    tally.Add("tokens", tokens_ok);
    EXPECT_TRUE(tokens_ok);
    const std::string decoded = tokenizer->Decode(ids, false, false);
    const std::string want(rec["decoded"].get_string().value());
    tally.Add("decoded", decoded == want);
    EXPECT_EQ(decoded, want);
    const std::string skip = tokenizer->Decode(ids, true, false);
    const std::string want_skip(rec["decoded_skip_special"].get_string().value());
    tally.Add("decoded_skip_special", skip == want_skip);
    EXPECT_EQ(skip, want_skip);
  }
  tally.Print(GetParam() + " decode");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HfGoldenTest,
                         ::testing::Values("doge", "synthetic-512", "synthetic-768", "gpt2"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace doge
