// Unit tests of the tokenizer pieces with hand-computed expectations: UTF-8 repair, the byte
// alphabet, clean-up, the Oniguruma-compatible regex classes, BPE merge order, ignore_merges,
// added-token flags (lstrip / rstrip / single_word / normalized / special), invalid UTF-8 input,
// the cache and concurrent use, and LoadTokenizer's backend choice.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "engine/base/error.h"
#include "engine/tokenizer/hf_tokenizer.h"
#include "engine/tokenizer/pcre2_regex.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/unicode_util.h"
#include "tests/tokenizer/golden_util.h"
#include "tests/tokenizer/tiny_tokenizer.h"

namespace doge {
namespace {

using testing::IdsOf;
using testing::ReadLines;
using testing::TinyAdded;
using testing::TinySpec;
using testing::TokenizerData;

const std::string kFffd = "\xEF\xBF\xBD";

std::string Rep(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Utf8Test, LossyReplacesEachMaximalSubpart) {
  // Expected counts follow Unicode §3.9 "U+FFFD substitution of maximal subparts" (what Rust's
  // from_utf8_lossy does), worked out by hand per byte.
  EXPECT_EQ(Utf8Lossy("\xF0\x9F\x98"), kFffd);                 // truncated emoji: one subpart
  EXPECT_EQ(Utf8Lossy("\xC0\x80"), Rep(kFffd, 2));             // C0 never starts a character
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), Rep(kFffd, 3));         // surrogate: A0 not in 80..9F
  EXPECT_EQ(Utf8Lossy("\xF4\x90\x80\x80"), Rep(kFffd, 4));     // > U+10FFFF: 90 not in 80..8F
  EXPECT_EQ(Utf8Lossy("\xE0\x80\xAF"), Rep(kFffd, 3));         // overlong: 80 not in A0..BF
  EXPECT_EQ(Utf8Lossy("\xE2\x82" "A"), kFffd + "A");           // cut 3-byte char, then ASCII
  EXPECT_EQ(Utf8Lossy("\x80\xBF"), Rep(kFffd, 2));             // stray continuations
  EXPECT_EQ(Utf8Lossy("\xF8\x88\x80\x80\x80"), Rep(kFffd, 5));  // 5-byte form
  EXPECT_EQ(Utf8Lossy("a\xF0\x9F\x98\x80z"), "a\xF0\x9F\x98\x80z");  // valid: unchanged
  EXPECT_EQ(Utf8Lossy(std::string("\0x", 2)), std::string("\0x", 2));  // NUL is a character
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo \xE4\xB8\xAD \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));
}

TEST(Utf8Test, LossyOutputIsAlwaysValid) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 12, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    const std::string fixed = Utf8Lossy(s);
    EXPECT_TRUE(IsValidUtf8(fixed));
    EXPECT_EQ(Utf8Lossy(fixed), fixed);
  }
}

TEST(ByteLevelTest, Gpt2Alphabet) {
  const auto& a = ByteLevelAlphabet();
  EXPECT_EQ(a[' '], 0x120u);   // 'Ġ'
  EXPECT_EQ(a['\n'], 0x10Au);  // 'Ċ'
  EXPECT_EQ(a[0], 0x100u);     // 'Ā'
  EXPECT_EQ(a['!'], static_cast<uint32_t>('!'));
  EXPECT_EQ(a[0xAD], 0x143u);  // soft hyphen is the last remapped byte
  std::string all(256, '\0'), back;
  for (int b = 0; b < 256; ++b) all[b] = static_cast<char>(b);
  ASSERT_TRUE(ByteLevelToBytes(BytesToByteLevel(all), &back));
  EXPECT_EQ(back, all);
  EXPECT_FALSE(ByteLevelToBytes("\xE2\x96\x81", &back));  // '▁' is not in the alphabet
}

TEST(CleanUpTest, TransformersReplacements) {
  EXPECT_EQ(CleanUpTokenization("Hello , world ."), "Hello, world.");
  EXPECT_EQ(CleanUpTokenization("Why ? No !"), "Why? No!");
  EXPECT_EQ(CleanUpTokenization("I do n't know , I 'm sure it 's fine , we 've seen they 're"),
            "I don't know, I'm sure it's fine, we've seen they're");
  EXPECT_EQ(CleanUpTokenization("a ' b"), "a'b");
  EXPECT_EQ(CleanUpTokenization("no change."), "no change.");
}

TEST(RegexTest, WhiteSpaceIsOnigurumas) {
  const Pcre2Regex re("\\s+", false, "", "test");
  auto matches_all = [&](const std::string& s) {
    std::vector<std::pair<size_t, size_t>> m;
    re.FindAll(s, &m);
    return m.size() == 1 && m[0].first == 0 && m[0].second == s.size();
  };
  // Included (Unicode White_Space): NEL, NBSP, OGHAM, EN QUAD..HAIR, LS, PS, NNBSP, MMSP, IDSP.
  for (const char* s : {"\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x8A",
                        "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F",
                        "\xE3\x80\x80", "\t\n\v\f\r "}) {
    EXPECT_TRUE(matches_all(s)) << s;
  }
  // Excluded: BOM, ZWSP, the C0 separators 1C..1F.
  for (const char* s : {"\xEF\xBB\xBF", "\xE2\x80\x8B", "\x1C", "\x1F"}) {
    EXPECT_FALSE(matches_all(s));
  }
  EXPECT_THROW(TranslateOnigurumaPattern("[\\S]", "f", "x"), Error);
  EXPECT_EQ(TranslateOnigurumaPattern("a\\\\s", "f", "x"), "a\\\\s");  // escaped backslash
}

TEST(RegexTest, CaseInsensitiveContractionsUseUnicodeFolding) {
  const Pcre2Regex re("(?i:'s|'t|'re|'ve|'m|'ll|'d)", false, "", "test");
  for (const char* s : {"'s", "'S", "'\xC5\xBF", "'RE", "'rE", "'Ll"}) {  // \xC5\xBF = 'ſ'
    std::vector<std::pair<size_t, size_t>> m;
    re.FindAll(s, &m);
    ASSERT_EQ(m.size(), 1u) << s;
    EXPECT_EQ(m[0].second, std::string(s).size()) << s;
  }
}

std::unique_ptr<HfTokenizer> Tiny(const TinySpec& spec, const std::string& name) {
  const std::string dir = testing::MakeTempDir(name);
  return std::make_unique<HfTokenizer>(testing::WriteTinyTokenizer(dir, TinyTokenizerJson(spec)),
                                       dir + "/tokenizer_config.json");
}

TinySpec AbcSpec() {
  TinySpec spec;
  spec.merges = {{"a", "b"}, {"b", "c"}, {"ab", "c"}};  // ab = 256, bc = 257, abc = 258
  return spec;
}

TEST(BpeTest, MergesApplyLowestRankFirstThenLeftmost) {
  const auto tok = Tiny(AbcSpec(), "abc");
  using V = std::vector<int32_t>;
  EXPECT_EQ(tok->Encode("abc", false), (V{258}));       // ab (rank 0), then ab+c (rank 2)
  EXPECT_EQ(tok->Encode("bcab", false), (V{257, 256}));  // a+b (0) before b+c (1)
  EXPECT_EQ(tok->Encode("abab", false), (V{256, 256}));
  EXPECT_EQ(tok->Encode("bca", false), (V{257, 'a'}));
  EXPECT_EQ(tok->Encode(" abc", false), (V{' ', 258}));  // " abc" is one pre-token
  EXPECT_EQ(tok->Encode("", true), V{});                  // no post-processor: nothing added
  EXPECT_EQ(tok->Decode({258, ' ', 257}, false, false), "abc bc");
  EXPECT_EQ(tok->Decode({99999, -1, 'x'}, false, false), "x");  // unknown ids are dropped
}

TEST(BpeTest, IgnoreMergesMapsWholeVocabPieces) {
  TinySpec spec = AbcSpec();
  spec.extra_vocab = {"xyz"};  // id 259, no merge builds it
  spec.ignore_merges = true;
  EXPECT_EQ(Tiny(spec, "im1")->Encode("xyz", false), (std::vector<int32_t>{259}));
  spec.ignore_merges = false;
  EXPECT_EQ(Tiny(spec, "im0")->Encode("xyz", false), (std::vector<int32_t>{'x', 'y', 'z'}));
}

TEST(BpeTest, TemplatePrependsBos) {
  TinySpec spec = AbcSpec();
  spec.added = {{"<s>"}};  // id 259
  spec.post_processor =
      R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},)"
      R"({"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<s>":{"id":"<s>",)"
      R"("ids":[259],"tokens":["<s>"]}}})";
  const auto tok = Tiny(spec, "bos");
  EXPECT_EQ(tok->Encode("", true), (std::vector<int32_t>{259}));
  EXPECT_EQ(tok->Encode("abc", true), (std::vector<int32_t>{259, 258}));
  EXPECT_EQ(tok->Encode("abc", false), (std::vector<int32_t>{258}));
  EXPECT_EQ(tok->Decode({259, 258}, false, false), "<s>abc");
  EXPECT_EQ(tok->Decode({259, 258}, true, false), "abc");
}

// Added-token flags, expectations from AddedVocabulary::find_matches worked by hand.
// "<m>" is id 259 after the three merges.
TEST(AddedTokenTest, Flags) {
  using V = std::vector<int32_t>;
  auto with = [](TinyAdded a, const std::string& name) {
    TinySpec spec = AbcSpec();
    spec.added = {std::move(a)};
    return Tiny(spec, name);
  };
  TinyAdded plain{"<m>"};
  // "a " -> "a", " " ; "<m>" ; " b" -> one pre-token " b" = [' ', 'b'].
  EXPECT_EQ(with(plain, "plain")->Encode("a <m> b", false), (V{'a', ' ', 259, ' ', 'b'}));
  TinyAdded l = plain;
  l.lstrip = true;  // the space before belongs to the token
  EXPECT_EQ(with(l, "lstrip")->Encode("a <m> b", false), (V{'a', 259, ' ', 'b'}));
  TinyAdded r = plain;
  r.rstrip = true;  // the space after belongs to the token
  EXPECT_EQ(with(r, "rstrip")->Encode("a <m> b", false), (V{'a', ' ', 259, 'b'}));
  TinyAdded w = plain;
  w.single_word = true;  // inside a word: not split out
  const auto sw = with(w, "single");
  EXPECT_EQ(sw->Encode("a <m> b", false), (V{'a', ' ', 259, ' ', 'b'}));
  const auto no_added = Tiny(AbcSpec(), "noadded");
  EXPECT_EQ(sw->Encode("a<m>b", false), no_added->Encode("a<m>b", false));
  EXPECT_EQ(sw->Encode("<m>", false), (V{259}));
  TinyAdded n = plain;
  n.normalized = true;  // no normalizer: matched the same way, in the second pass
  EXPECT_EQ(with(n, "norm")->Encode("x<m>y", false), (V{'x', 259, 'y'}));
  TinyAdded ns = plain;
  ns.special = false;  // not special: skip_special_tokens keeps it
  EXPECT_EQ(with(ns, "nonspecial")->Decode({259, 'a'}, true, false), "<m>a");
  EXPECT_EQ(with(plain, "special")->Decode({259, 'a'}, true, false), "a");
}

TEST(AddedTokenTest, NonNormalizedPassComesFirst) {
  // Rust splits on non-normalized added tokens before normalized ones, so "<m>" (not normalized)
  // wins over the longer "<m>x" (normalized); within one pass the longest match wins.
  TinySpec spec = AbcSpec();
  TinyAdded m{"<m>"}, mx{"<m>x"};
  mx.normalized = true;
  spec.added = {m, mx};  // ids 259, 260
  EXPECT_EQ(Tiny(spec, "pass")->Encode("<m>x", false), (std::vector<int32_t>{259, 'x'}));
  mx.normalized = false;
  spec.added = {m, mx};
  EXPECT_EQ(Tiny(spec, "longest")->Encode("<m>x", false), (std::vector<int32_t>{260}));
}

TEST(DogeTokenizerTest, Metadata) {
  const auto tok = LoadTokenizer(TokenizerData("doge"));
  EXPECT_EQ(tok->vocab_size(), 32768);
  EXPECT_EQ(tok->bos_id(), 0);
  EXPECT_EQ(tok->eos_id(), 1);
  EXPECT_EQ(tok->eos_token(), "<|end_of_text|>");
  EXPECT_TRUE(tok->clean_up_tokenization_spaces());
  EXPECT_EQ(tok->backend_name(), "tokenizer.json (byte-level BPE)");
  EXPECT_EQ(tok->path(), TokenizerData("doge") + "/tokenizer.json");
  const auto gpt2 = LoadTokenizer(TokenizerData("gpt2/tokenizer.json"));  // a file path
  EXPECT_EQ(gpt2->vocab_size(), 50257);
  EXPECT_EQ(gpt2->bos_id(), 50256);
  EXPECT_EQ(gpt2->eos_id(), 50256);
  EXPECT_EQ(gpt2->Encode("Hello world", true), (std::vector<int32_t>{15496, 995}));
}

TEST(DogeTokenizerTest, InvalidUtf8IsRepairedNotCrashedOn) {
  // Documented behaviour: invalid input is first repaired as String::from_utf8_lossy would, so
  // it tokenizes exactly like the repaired text.
  const auto tok = LoadTokenizer(TokenizerData("doge"));
  for (const std::string& bad :
       {std::string("a\xFF" "b"), std::string("\xF0\x9F\x98"), std::string("x\xED\xA0\x80y"),
        std::string("<|end_of_text|>\xC3"), std::string("\x80\x80\x80 hello")}) {
    const auto ids = tok->Encode(bad, true);
    EXPECT_EQ(ids, tok->Encode(Utf8Lossy(bad), true));
    EXPECT_EQ(tok->Decode(ids, false, false), "<|begin_of_text|>" + Utf8Lossy(bad));
  }
  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 == 0 ? 0x80 | (rng() & 0x7F) : rng() & 0xFF);
    EXPECT_EQ(tok->Decode(tok->Encode(s, false), false, false), Utf8Lossy(s));
  }
}

TEST(DogeTokenizerTest, CacheDoesNotChangeIdsAndIsThreadSafe) {
  const auto loaded = LoadTokenizer(TokenizerData("doge"));
  auto& tok = dynamic_cast<HfTokenizer&>(*loaded);
  simdjson::dom::parser parser;
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> want;
  for (const auto& line : ReadLines(TokenizerData("doge/corpus.jsonl"))) {
    simdjson::dom::element rec = parser.parse(line);
    texts.emplace_back(rec["text"].get_string().value());
    want.push_back(IdsOf(rec["ids"]));
  }
  tok.SetCacheEnabled(false);
  for (size_t i = 0; i < texts.size(); ++i) ASSERT_EQ(tok.Encode(texts[i], true), want[i]);
  EXPECT_EQ(tok.CacheSize(), 0u);
  tok.SetCacheEnabled(true);
  // Four threads share one tokenizer and fill its cache concurrently, each in its own order.
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t k = 0; k < texts.size(); ++k) {
          const size_t i = (k * (2 * t + 1) + round) % texts.size();
          if (tok.Encode(texts[i], true) != want[i]) ++failures[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
  EXPECT_GT(tok.CacheSize(), 100u);
}

TEST(DogeTokenizerTest, TokenizersSharingAThreadDoNotSeeEachOthersCache) {
  // The per-thread first-level cache is shared by every tokenizer a thread uses; entries are
  // tagged per instance. Alternate two vocabularies on the same texts, and a re-created one.
  simdjson::dom::parser parser;
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> want_doge, want_syn;
  for (const auto& line : ReadLines(TokenizerData("doge/corpus.jsonl"))) {
    simdjson::dom::element rec = parser.parse(line);
    texts.emplace_back(rec["text"].get_string().value());
    want_doge.push_back(IdsOf(rec["ids"]));
  }
  for (const auto& line : ReadLines(TokenizerData("synthetic-512/corpus.jsonl"))) {
    simdjson::dom::element rec = parser.parse(line);
    want_syn.push_back(IdsOf(rec["ids"]));
  }
  ASSERT_EQ(want_syn.size(), texts.size());
  const auto doge = LoadTokenizer(TokenizerData("doge"));
  for (int round = 0; round < 2; ++round) {
    const auto syn = LoadTokenizer(TokenizerData("synthetic-512"));  // new instance each round
    for (size_t i = 0; i < texts.size(); ++i) {
      ASSERT_EQ(doge->Encode(texts[i], true), want_doge[i]) << i;
      ASSERT_EQ(syn->Encode(texts[i], true), want_syn[i]) << i;
    }
  }
}

TEST(LoadTokenizerTest, PicksBackendAndReportsMissingFiles) {
  const std::string empty = testing::MakeTempDir("empty");
  try {
    LoadTokenizer(empty);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("no tokenizer.json or tokenizer.model"), std::string::npos);
  }
  EXPECT_THROW(LoadTokenizer(empty + "/nope.json"), Error);
}

}  // namespace
}  // namespace doge
