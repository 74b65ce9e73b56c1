// The `doge tokenize` / `doge detokenize` contract, checked from outside through the built
// binary (DOGE_BINARY), with the doge goldens as the expected values.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "engine/base/file_util.h"
#include "tests/tokenizer/golden_util.h"
#include "tests/tokenizer/tiny_tokenizer.h"

namespace doge {
namespace {

using testing::TokenizerData;

struct CliResult {
  int exit_code;
  std::string out, err;
};

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

CliResult RunDoge(const std::vector<std::string>& args) {
  static const std::string dir = testing::MakeTempDir("cli");
  std::string cmd = ShellQuote(DOGE_BINARY);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  cmd += " 2>" + dir + "/stderr.txt";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFileToString(dir + "/stderr.txt");
  return r;
}

const std::string kDoge = TokenizerData("doge");

TEST(TokenizeCliTest, TextWithAndWithoutSpecial) {
  auto r = RunDoge({"tokenize", "--tokenizer", kDoge, "--text", "Hello world"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[0,15916,1158]}\n");
  r = RunDoge({"tokenize", "--tokenizer", kDoge, "--text", "Hello world", "--no-special"});
  EXPECT_EQ(r.out, "{\"ids\":[15916,1158]}\n");
  // A tokenizer file instead of a folder.
  r = RunDoge({"tokenize", "--tokenizer", kDoge + "/tokenizer.json", "--text", ""});
  EXPECT_EQ(r.out, "{\"ids\":[0]}\n");
}

TEST(TokenizeCliTest, InputFileGivesOneLinePerRecordInOrder) {
  const std::string dir = testing::MakeTempDir("cli_in");
  // First 50 corpus records: the goldens' text and ids, in file order.
  simdjson::dom::parser parser;
  std::string input, want, want_ns;
  int count = 0;
  for (const auto& line : testing::ReadLines(kDoge + "/corpus.jsonl")) {
    if (count++ == 50) break;
    simdjson::dom::element rec = parser.parse(line);
    JsonWriter w;
    w.BeginObject().Field("text", std::string(rec["text"].get_string().value())).EndObject();
    input += w.str() + "\n";
    JsonWriter a, b;
    a.BeginObject().Key("ids").IntArray(testing::IdsOf(rec["ids"])).EndObject();
    b.BeginObject().Key("ids").IntArray(testing::IdsOf(rec["ids_no_special"])).EndObject();
    want += a.str() + "\n";
    want_ns += b.str() + "\n";
  }
  WriteFileAtomic(dir + "/in.jsonl", input);
  auto r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir + "/in.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want);
  r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir + "/in.jsonl", "--no-special"});
  EXPECT_EQ(r.out, want_ns);
}

TEST(TokenizeCliTest, BadInputLinesNameFileAndLine) {
  const std::string dir = testing::MakeTempDir("cli_bad");
  WriteFileAtomic(dir + "/in.jsonl", "{\"text\":\"ok\"}\n{\"txt\":\"no\"}\n");
  auto r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir + "/in.jsonl"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(dir + "/in.jsonl: 2: field \"text\": missing"), std::string::npos) << r.err;
  WriteFileAtomic(dir + "/in2.jsonl", "{\"text\": 5}\n");
  r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir + "/in2.jsonl"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("1: field \"text\": expected a string, found number 5"), std::string::npos) << r.err;
  WriteFileAtomic(dir + "/in3.jsonl", "{\"text\": \"a\"\n");
  r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir + "/in3.jsonl"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("in3.jsonl: 1: invalid JSON (truncated or malformed line)"), std::string::npos) << r.err;
  // Usage errors: exit code 2.
  EXPECT_EQ(RunDoge({"tokenize", "--text", "x"}).exit_code, 2);
  EXPECT_EQ(RunDoge({"tokenize", "--tokenizer", kDoge}).exit_code, 2);
  EXPECT_EQ(RunDoge({"tokenize", "--tokenizer", kDoge, "--text", "x", "--input", "f"}).exit_code, 2);
  // A missing tokenizer: input-data error.
  r = RunDoge({"tokenize", "--tokenizer", dir + "/nothing", "--text", "x"});
  EXPECT_EQ(r.exit_code, 3);
}

TEST(TokenizeCliTest, InputKeyGivenTwiceWithDifferentValuesNamesTheLine) {
  const std::string dir = testing::MakeTempDir("cli_dup");
  WriteFileAtomic(dir + "/in.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"ok\"}\n{\"text\":\"a\",\"text\":\"b\"}\n");
  auto r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir + "/in.jsonl"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(dir + "/in.jsonl: 3: field \"text\": appears twice in one object with different values: "
                             "\"a\", then \"b\""),
            std::string::npos)
      << r.err;
  WriteFileAtomic(dir + "/ids.jsonl", "{\"ids\":[1],\"meta\":{\"k\":1,\"k\":2}}\n");
  r = RunDoge({"detokenize", "--tokenizer", kDoge, "--input", dir + "/ids.jsonl"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("ids.jsonl: 1: field \"meta.k\": appears twice"), std::string::npos) << r.err;
  // The same value twice is one value.
  WriteFileAtomic(dir + "/same.jsonl", "{\"text\":\"ok\",\"text\":\"ok\"}\n");
  r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir + "/same.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Issue 15: an --input that is a folder or an empty file used to exit 0 with no output.
TEST(TokenizeCliTest, FolderOrEmptyInputIsAnError) {
  const std::string dir = testing::MakeTempDir("cli_nothing");
  auto r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(dir + ": is a directory, expected a JSONL file"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  WriteFileAtomic(dir + "/empty.jsonl", "");
  r = RunDoge({"tokenize", "--tokenizer", kDoge, "--input", dir + "/empty.jsonl"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("empty.jsonl: no lines (empty file)"), std::string::npos) << r.err;
  r = RunDoge({"detokenize", "--tokenizer", kDoge, "--input", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
}

TEST(DetokenizeCliTest, DefaultsSkipAndCleanup) {
  auto r = RunDoge({"detokenize", "--tokenizer", kDoge, "--ids", "0,15916,1158"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"<|begin_of_text|>Hello world\"}\n");
  r = RunDoge({"detokenize", "--tokenizer", kDoge, "--ids", "0,15916,1158", "--skip-special"});
  EXPECT_EQ(r.out, "{\"text\":\"Hello world\"}\n");
  // "Hello , world ." : clean-up is on by default for Doge (tokenizer_config.json).
  const auto enc = RunDoge({"tokenize", "--tokenizer", kDoge, "--text", "Hello , world .", "--no-special"});
  simdjson::dom::parser parser;
  simdjson::dom::element rec = parser.parse(enc.out);
  std::string ids;
  for (int32_t id : testing::IdsOf(rec["ids"])) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  r = RunDoge({"detokenize", "--tokenizer", kDoge, "--ids", ids});
  EXPECT_EQ(r.out, "{\"text\":\"Hello, world.\"}\n");
  r = RunDoge({"detokenize", "--tokenizer", kDoge, "--ids", ids, "--no-cleanup"});
  EXPECT_EQ(r.out, "{\"text\":\"Hello , world .\"}\n");
}

TEST(DetokenizeCliTest, InputFileAndErrors) {
  const std::string dir = testing::MakeTempDir("cli_detok");
  WriteFileAtomic(dir + "/in.jsonl", "{\"ids\":[15916,1158]}\n{\"ids\":[]}\n{\"ids\":[444]}\n");
  auto r = RunDoge({"detokenize", "--tokenizer", kDoge, "--input", dir + "/in.jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"Hello world\"}\n{\"text\":\"\"}\n{\"text\":\"\\u0000\"}\n");
  WriteFileAtomic(dir + "/bad.jsonl", "{\"ids\":[1]}\n{\"ids\":[1,-3]}\n");
  r = RunDoge({"detokenize", "--tokenizer", kDoge, "--input", dir + "/bad.jsonl"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(dir + "/bad.jsonl: 2: field \"ids[1]\": expected a token id in [0, 2147483647], found -3"), std::string::npos) << r.err;
  r = RunDoge({"detokenize", "--tokenizer", kDoge, "--ids", "1,x"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace doge
