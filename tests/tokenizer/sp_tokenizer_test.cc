// The sentencepiece backend against Debian's sentencepiece tools: a real model is trained with
// `spm_train` on the tokenizer corpus texts during the test run (small vocabulary: ~1 s), then
// our Encode / Decode are compared with `spm_encode` / `spm_decode` on every line.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/tokenizer/sp_tokenizer.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/tokenizer/golden_util.h"
#include "tests/tokenizer/tiny_tokenizer.h"

namespace doge {
namespace {

using testing::ReadLines;
using testing::TokenizerData;

int Shell(const std::string& cmd) { return std::system(cmd.c_str()); }

std::vector<std::vector<int32_t>> ParseIdLines(const std::string& path) {
  std::vector<std::vector<int32_t>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (ss >> id) ids.push_back(id);
    out.push_back(ids);
  }
  return out;
}

class SpTokenizerTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Texts: the corpus strings without line breaks (spm_encode reads one text per line).
  static std::vector<std::string> Texts() {
    std::vector<std::string> texts;
    simdjson::dom::parser parser;
    for (const auto& line : ReadLines(TokenizerData("corpus_input.jsonl"))) {
      simdjson::dom::element rec = parser.parse(line);
      std::string t(rec["text"].get_string().value());
      if (t.empty() || t.find_first_of("\r\n") != std::string::npos) continue;
      // sentencepiece's own normalizer may treat other controls specially; keep printable text.
      bool printable = true;
      for (unsigned char c : t) printable &= c >= 0x20 && c != 0x7F;
      if (printable) texts.push_back(t);
    }
    return texts;
  }
};

TEST_P(SpTokenizerTest, MatchesSpmEncodeAndDecode) {
  ASSERT_EQ(Shell("command -v spm_train >/dev/null && command -v spm_encode >/dev/null"), 0)
      << "spm_train / spm_encode missing: run scripts/install-deps.sh (package sentencepiece)";
  const std::string dir = testing::MakeTempDir("spm_" + GetParam());
  ASSERT_FALSE(dir.empty());
  const auto texts = Texts();
  ASSERT_GT(texts.size(), 300u);
  std::string joined;
  for (const auto& t : texts) joined += t + "\n";
  WriteFileAtomic(dir + "/input.txt", joined);
  const std::string train = "spm_train --input=" + dir + "/input.txt --model_prefix=" + dir +
                            "/tokenizer --vocab_size=400 --model_type=" + GetParam() +
                            " --character_coverage=1.0 --hard_vocab_limit=false"
                            " --minloglevel=2 > " + dir + "/train.log 2>&1";
  ASSERT_EQ(Shell(train), 0) << ReadFileToString(dir + "/train.log");
  ASSERT_EQ(Shell("spm_encode --model=" + dir + "/tokenizer.model --output_format=id < " + dir +
                "/input.txt > " + dir + "/ids.txt"), 0);
  ASSERT_EQ(Shell("spm_decode --model=" + dir + "/tokenizer.model --input_format=id < " + dir +
                "/ids.txt > " + dir + "/decoded.txt"), 0);
  const auto want_ids = ParseIdLines(dir + "/ids.txt");
  std::vector<std::string> want_text;  // every line, empty ones included
  {
    std::ifstream in(dir + "/decoded.txt");
    std::string line;
    while (std::getline(in, line)) want_text.push_back(line);
  }
  ASSERT_EQ(want_text.size(), texts.size());
  ASSERT_EQ(want_ids.size(), texts.size());

  // The folder holds only tokenizer.model, so LoadTokenizer must pick sentencepiece.
  const auto tok = LoadTokenizer(dir);
  EXPECT_EQ(tok->backend_name(), "sentencepiece");
  int pass = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto ids = tok->Encode(texts[i], false);
    EXPECT_EQ(ids, want_ids[i]) << texts[i];
    pass += ids == want_ids[i];
    EXPECT_EQ(tok->Decode(want_ids[i], true, false), want_text[i]);
    // add_special_tokens: BOS (spm_train's default id 1) first, as LlamaTokenizer does.
    auto with_bos = tok->Encode(texts[i], true);
    ASSERT_FALSE(with_bos.empty());
    EXPECT_EQ(with_bos[0], tok->bos_id());
  }
  std::printf("[golden] sentencepiece %s vs spm_encode: %d/%zu\n", GetParam().c_str(), pass,
              texts.size());
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->eos_token(), "</s>");
  // Control tokens: written as text unless skipped.
  EXPECT_EQ(tok->Decode({1}, false, false), "<s>");
  EXPECT_EQ(tok->Decode({1}, true, false), "");
  // Invalid UTF-8 is repaired first, as in the tokenizer.json backend.
  EXPECT_EQ(tok->Encode("a\xFF" "b", false), tok->Encode("a\xEF\xBF\xBD" "b", false));

  // A folder with both files reads tokenizer.json first.
  const std::string both = testing::MakeTempDir("both");
  WriteFileAtomic(both + "/tokenizer.model", ReadFileToString(dir + "/tokenizer.model"));
  testing::TinySpec spec;
  WriteFileAtomic(both + "/tokenizer.json", testing::TinyTokenizerJson(spec));
  EXPECT_EQ(LoadTokenizer(both)->backend_name(), "tokenizer.json (byte-level BPE)");
  EXPECT_EQ(LoadTokenizer(both + "/tokenizer.model")->backend_name(), "sentencepiece");
}

INSTANTIATE_TEST_SUITE_P(ModelTypes, SpTokenizerTest, ::testing::Values("bpe", "unigram"));

TEST(SpTokenizerLoadTest, GarbageModelIsAClearError) {
  const std::string dir = testing::MakeTempDir("spbad");
  WriteFileAtomic(dir + "/tokenizer.model", "not a model proto");
  try {
    LoadTokenizer(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_EQ(e.file(), dir + "/tokenizer.model");
  }
}

// Found by fuzz/fuzz_sentencepiece: a BPE model (spm_train's, with a few bytes changed) that
// sentencepiece loads but cannot encode "café 中文 😀" with ("all normalized characters are not
// consumed"). Encode used to DOGE_CHECK the status and abort the process.
TEST(SpTokenizerLoadTest, ModelThatLoadsButCannotEncodeIsAClearError) {
  const std::string model = TokenizerData("fuzz-regressions/sp-bpe-encode-fails.model");
  std::unique_ptr<Tokenizer> tok = LoadTokenizer(model);
  EXPECT_FALSE(tok->Encode("Hello world", true).empty());  // other text still encodes
  try {
    tok->Encode("caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_EQ(e.file(), model);
    EXPECT_NE(std::string(e.what()).find("sentencepiece cannot encode"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not consumed"), std::string::npos) << e.what();
  }
}

// Found by fuzz/fuzz_sentencepiece: a unigram model with an empty piece. libsentencepiece's trie
// builder throws Darts::Details::Exception ("zero-length key") out of Load instead of returning
// a status; it used to escape LoadTokenizer as a foreign exception and end the process.
TEST(SpTokenizerLoadTest, ModelWhoseLoadThrowsIsAClearError) {
  const std::string model = TokenizerData("fuzz-regressions/sp-unigram-empty-piece.model");
  try {
    LoadTokenizer(model);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_EQ(e.file(), model);
    EXPECT_NE(std::string(e.what()).find("zero-length key"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace doge
