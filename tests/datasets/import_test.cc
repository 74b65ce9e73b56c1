// `doge data import` and the converters behind it: every original format against canonical rows
// written out by hand, the checked-in canonical fixtures reproduced byte for byte through the
// CLI contract, and bad input (missing / misaligned labels, truncated lines, wrong types,
// non-UTF-8 bytes, unknown names).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "engine/base/error.h"
#include "tasks/data/documents.h"
#include "tasks/data/import.h"
#include "tests/datasets/test_util.h"

namespace doge::data {
namespace {

using doge::testing::kCanonical;
using doge::testing::kSamples;
using doge::testing::Slurp;
using doge::testing::Spit;
using doge::testing::TempDir;

struct CliResult {
  int exit_code;
  std::string output;  // stdout + stderr
};

CliResult RunDoge(const std::string& args) {
  std::string cmd = std::string(DOGE_BINARY) + " " + args + " 2>&1";
  CliResult r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The import commands that produced tests/data/datasets-canonical (its README lists them).
struct ImportCase {
  const char* dataset;
  const char* split;
  const char* from;  // relative to tests/data/datasets
};
const ImportCase kCases[] = {
    {"arc_easy", "train", "arc/ARC-Easy-Train.jsonl"},
    {"arc_easy", "validation", "arc/ARC-Easy-Dev.jsonl"},
    {"arc_easy", "test", "arc/ARC-Easy-Test.jsonl"},
    {"arc_challenge", "train", "arc/ARC-Challenge-Train.jsonl"},
    {"arc_challenge", "test", "arc/ARC-Challenge-Test.jsonl"},
    {"openbookqa", "train", "openbookqa/train.jsonl"},
    {"openbookqa", "validation", "openbookqa/dev.jsonl"},
    {"openbookqa", "test", "openbookqa/test.jsonl"},
    {"piqa", "train", "piqa/train.jsonl"},
    {"piqa", "validation", "piqa/valid.jsonl"},
    {"winogrande", "train", "winogrande/train_l.jsonl"},
    {"winogrande", "validation", "winogrande/dev.jsonl"},
    {"hellaswag", "train", "hellaswag/hellaswag_train.jsonl"},
    {"hellaswag", "validation", "hellaswag/hellaswag_val.jsonl"},
    {"mmlu", "dev", "mmlu/dev"},
    {"mmlu", "test", "mmlu/test"},
    {"triviaqa", "train", "triviaqa/wikipedia-train.json"},
    {"triviaqa", "validation", "triviaqa/wikipedia-dev.json"},
};

TEST(ImportTest, ReproducesCheckedInCanonicalFixtures) {
  TempDir tmp;
  for (const auto& c : kCases) {
    CliResult r = RunDoge(std::string("data import --dataset ") + c.dataset + " --split " + c.split +
                          " --from " + kSamples + "/" + c.from + " --data-dir " + tmp.path());
    // Samples are smaller than the manifest counts: import warns but succeeds. (arc_easy
    // validation is not a split the manifest lists, so it has no count to compare.)
    ASSERT_EQ(r.exit_code, 0) << c.dataset << " " << c.split << "\n" << r.output;
    bool listed = !(std::string(c.dataset) == "arc_easy" && std::string(c.split) == "validation");
    EXPECT_EQ(r.output.find("warning") != std::string::npos, listed) << r.output;
  }
  int compared = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(kCanonical)) {
    if (e.path().extension() != ".jsonl") continue;
    std::string rel = std::filesystem::relative(e.path(), kCanonical).string();
    ASSERT_TRUE(std::filesystem::exists(tmp.path() + "/" + rel)) << rel;
    EXPECT_EQ(Slurp(tmp.path() + "/" + rel), Slurp(e.path().string())) << rel;
    ++compared;
  }
  EXPECT_EQ(compared, 22);
  // And nothing else was written (no stray temp files).
  int written = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp.path())) written += e.is_regular_file();
  EXPECT_EQ(written, 22);
}

TEST(ImportTest, CliErrorsAndExitCodes) {
  TempDir tmp;
  CliResult r = RunDoge("data import --dataset arc_esay --split test --from x --data-dir " + tmp.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("did you mean arc_easy"), std::string::npos) << r.output;
  r = RunDoge("data import --dataset piqa --split valid --from " + kSamples + "/piqa/valid.jsonl --data-dir " + tmp.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--split validation"), std::string::npos) << r.output;
  r = RunDoge("data import --dataset piqa --split validation --data-dir " + tmp.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--from"), std::string::npos) << r.output;
  r = RunDoge("data import --dataset piqa --split validation --from /nonexistent/valid.jsonl --data-dir " + tmp.path());
  EXPECT_EQ(r.exit_code, 3);
}

TEST(ImportTest, VerifyAndLsOnTheSampleCanonicalDir) {
  CliResult r = RunDoge("data verify --data-dir " + kCanonical);
  EXPECT_EQ(r.exit_code, 3) << r.output;  // samples are partial copies
  EXPECT_NE(r.output.find("expected 2376 documents"), std::string::npos) << r.output;
  r = RunDoge("data verify --allow-count-mismatch --data-dir " + kCanonical);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunDoge("data ls --data-dir " + kCanonical);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("professional_law/test"), std::string::npos) << r.output;
  TempDir empty;
  EXPECT_EQ(RunDoge("data verify --data-dir " + empty.path()).exit_code, 3);
}

// --- each original format against hand-written canonical rows ---

std::string ImportOne(const std::string& dataset, const std::string& split, const std::string& from,
                      const std::string& dir) {
  auto files = ImportSplit(dataset, split, from, dir);
  EXPECT_EQ(files.size(), 1u);
  return Slurp(SplitPath(dir, dataset, split));
}

TEST(ImportFormatTest, ArcJsonl) {
  TempDir tmp;
  // Numeric labels (some ARC questions use "1".."4") and a 5-choice question.
  Spit(tmp.path() + "/ARC-Challenge-Test.jsonl",
       R"({"id":"q1","question":{"stem":"Pick \"one\"","choices":[{"text":"a","label":"1"},{"text":"b","label":"2"}]},"answerKey":"2"})" "\n"
       R"({"id":"q2","question":{"stem":"Five","choices":[{"text":"v","label":"A"},{"text":"w","label":"B"},{"text":"x","label":"C"},{"text":"y","label":"D"},{"text":"z","label":"E"}]},"answerKey":"E"})" "\n");
  EXPECT_EQ(ImportOne("arc_challenge", "test", tmp.path() + "/ARC-Challenge-Test.jsonl", tmp.path() + "/out"),
            R"({"id":"q1","question":"Pick \"one\"","choices":{"text":["a","b"],"label":["1","2"]},"answerKey":"2"})" "\n"
            R"({"id":"q2","question":"Five","choices":{"text":["v","w","x","y","z"],"label":["A","B","C","D","E"]},"answerKey":"E"})" "\n");
}

TEST(ImportFormatTest, OpenBookQaJsonlUsesQuestionStem) {
  TempDir tmp;
  // The original file's spacing (", " / ": ") must not matter.
  Spit(tmp.path() + "/test.jsonl",
       R"({"id": "7-980", "question": {"stem": "The sun is responsible for", "choices": [{"text": "puppies learning new tricks", "label": "A"}, {"text": "plants sprouting, blooming and wilting", "label": "D"}]}, "answerKey": "D"})" "\n");
  EXPECT_EQ(ImportOne("openbookqa", "test", tmp.path() + "/test.jsonl", tmp.path() + "/out"),
            R"({"id":"7-980","question_stem":"The sun is responsible for","choices":{"text":["puppies learning new tricks","plants sprouting, blooming and wilting"],"label":["A","D"]},"answerKey":"D"})" "\n");
}

TEST(ImportFormatTest, PiqaJsonlWithLabelsBeside) {
  TempDir tmp;
  // Escapes that must survive: quote, backslash, tab, carriage return, non-ASCII. (Other control
  // bytes are refused at import since they would corrupt a prompt: EmptySourceAndSemanticErrorsFailWithoutOutput and the loaders test.)
  Spit(tmp.path() + "/valid.jsonl",
       R"({"goal": "Say \"hi\"\t\\", "sol1": "caf\u00e9 ", "sol2": "x\ry"})" "\n"
       R"({"goal": "g2", "sol1": "a", "sol2": "b"})" "\n");
  Spit(tmp.path() + "/valid-labels.lst", "1\n0\n");
  EXPECT_EQ(ImportOne("piqa", "validation", tmp.path() + "/valid.jsonl", tmp.path() + "/out"),
            "{\"goal\":\"Say \\\"hi\\\"\\t\\\\\",\"sol1\":\"caf\xC3\xA9 \",\"sol2\":\"x\\ry\",\"label\":1}\n"
            "{\"goal\":\"g2\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0}\n");
}

TEST(ImportFormatTest, WinograndeAnswersFromLabelsOrRows) {
  TempDir tmp;
  Spit(tmp.path() + "/dev.jsonl",
       R"({"qID": "A-1", "sentence": "Tom gave Ben _ book.", "option1": "Tom", "option2": "Ben", "answer": "2"})" "\n");
  Spit(tmp.path() + "/dev-labels.lst", "2\n");
  const std::string expected = R"({"qID":"A-1","sentence":"Tom gave Ben _ book.","option1":"Tom","option2":"Ben","answer":"2"})" "\n";
  EXPECT_EQ(ImportOne("winogrande", "validation", tmp.path() + "/dev.jsonl", tmp.path() + "/out"), expected);
  // Without the labels file the row's own answer is used.
  std::filesystem::remove(tmp.path() + "/dev-labels.lst");
  EXPECT_EQ(ImportOne("winogrande", "validation", tmp.path() + "/dev.jsonl", tmp.path() + "/out2"), expected);
  // A labels file that disagrees with the rows is an error.
  Spit(tmp.path() + "/dev-labels.lst", "1\n");
  EXPECT_THROW(ImportSplit("winogrande", "validation", tmp.path() + "/dev.jsonl", tmp.path() + "/out3"), Error);
  // The test split has neither.
  Spit(tmp.path() + "/test.jsonl", R"({"qID": "B", "sentence": "_ x", "option1": "a", "option2": "b"})" "\n");
  try {
    ImportSplit("winogrande", "test", tmp.path() + "/test.jsonl", tmp.path() + "/out4");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "1: field \"answer\"");
  }
}

TEST(ImportFormatTest, HellaswagIntegerLabelBecomesString) {
  TempDir tmp;
  Spit(tmp.path() + "/hellaswag_val.jsonl",
       R"({"ind": 7, "activity_label": "Act", "ctx_a": "A b.", "ctx_b": "c", "ctx": "A b. c", "split": "val", "split_type": "zeroshot", "label": 2, "endings": ["e0", "e1", "e2", "e3"], "source_id": "s~1"})" "\n");
  EXPECT_EQ(ImportOne("hellaswag", "validation", tmp.path() + "/hellaswag_val.jsonl", tmp.path() + "/out"),
            R"({"ind":7,"activity_label":"Act","ctx_a":"A b.","ctx_b":"c","ctx":"A b. c","endings":["e0","e1","e2","e3"],"source_id":"s~1","split":"val","split_type":"zeroshot","label":"2"})" "\n");
}

TEST(ImportFormatTest, MmluBerkeleyCsvLettersNoHeaderQuotedFields) {
  TempDir tmp;
  // The Berkeley tar layout: data/val/<subject>_val.csv, no header, answer letters; RFC 4180
  // quoting with a comma, a doubled quote and a newline inside fields; CRLF line ends.
  Spit(tmp.path() + "/data/val/virology_val.csv",
       "\"Which, of these?\",\"say \"\"a\"\"\",b,c,\"d\nline2\",D\r\n"
       "Plain question,1,2,3,4,A\r\n");
  auto files = ImportSplit("mmlu", "validation", tmp.path() + "/data", tmp.path() + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].subject, "virology");
  EXPECT_EQ(files[0].rows, 2);
  EXPECT_EQ(Slurp(tmp.path() + "/out/mmlu/virology/validation.jsonl"),
            R"({"question":"Which, of these?","subject":"virology","choices":["say \"a\"","b","c","d\nline2"],"answer":3})" "\n"
            R"({"question":"Plain question","subject":"virology","choices":["1","2","3","4"],"answer":0})" "\n");
}

TEST(ImportFormatTest, MmluHeaderAndIndexAnswers) {
  TempDir tmp;
  Spit(tmp.path() + "/dev/anatomy_dev.csv", "question,choice0,choice1,choice2,choice3,answer\nQ,w,x,y,z,2\n");
  auto files = ImportSplit("mmlu", "dev", tmp.path() + "/dev", tmp.path() + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(Slurp(tmp.path() + "/out/mmlu/anatomy/dev.jsonl"),
            R"({"question":"Q","subject":"anatomy","choices":["w","x","y","z"],"answer":2})" "\n");
}

TEST(ImportFormatTest, TriviaqaRcJsonStripsAndHandlesMissingAnswer) {
  TempDir tmp;
  Spit(tmp.path() + "/web-test-without-answers.json",
       R"({"Data": [{"Question": " Who? ", "QuestionId": "q_1"}], "Domain": "Web", "Split": "test", "Version": 1.0})");
  EXPECT_EQ(ImportOne("triviaqa", "test", tmp.path() + "/web-test-without-answers.json", tmp.path() + "/out"),
            R"({"question":"Who?","question_id":"q_1","answer":{"aliases":[],"normalized_aliases":[],"value":"<unk>","normalized_value":"<unk>"}})" "\n");
}

// --- bad input ---

TEST(ImportBadInputTest, MissingLabelsFile) {
  TempDir tmp;
  Spit(tmp.path() + "/valid.jsonl", R"({"goal": "g", "sol1": "a", "sol2": "b"})" "\n");
  try {
    ImportSplit("piqa", "validation", tmp.path() + "/valid.jsonl", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), tmp.path() + "/valid-labels.lst");
    EXPECT_NE(e.message().find("labels file missing"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/out/piqa/validation.jsonl"));
}

TEST(ImportBadInputTest, LabelsLineCountMismatch) {
  TempDir tmp;
  Spit(tmp.path() + "/valid.jsonl", R"({"goal": "g", "sol1": "a", "sol2": "b"})" "\n" R"({"goal": "h", "sol1": "a", "sol2": "b"})" "\n");
  Spit(tmp.path() + "/valid-labels.lst", "0\n1\n1\n");
  try {
    ImportSplit("piqa", "validation", tmp.path() + "/valid.jsonl", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), tmp.path() + "/valid-labels.lst");
    EXPECT_NE(e.message().find("has 3 lines but"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("has 2 rows"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/out/piqa/validation.jsonl"));
}

TEST(ImportBadInputTest, TruncatedOriginalLineLeavesNoOutput) {
  TempDir tmp;
  std::string good = Slurp(kSamples + "/arc/ARC-Easy-Test.jsonl");
  // Cut the file in the middle of line 3.
  size_t second_newline = good.find('\n', good.find('\n') + 1);
  Spit(tmp.path() + "/ARC-Easy-Test.jsonl", good.substr(0, second_newline + 40));
  try {
    ImportSplit("arc_easy", "test", tmp.path() + "/ARC-Easy-Test.jsonl", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "3");
    EXPECT_NE(e.message().find("invalid JSON"), std::string::npos);
  }
  // Atomic write: neither the split nor a temp file is left.
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/out/arc_easy/test.jsonl"));
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path() + "/out/arc_easy"));
}

TEST(ImportBadInputTest, WrongTypesInOriginal) {
  TempDir tmp;
  Spit(tmp.path() + "/t.jsonl", R"({"id": "x", "question": {"stem": "s", "choices": {"text": "a"}}, "answerKey": "A"})" "\n");
  try {
    ImportSplit("arc_easy", "test", tmp.path() + "/t.jsonl", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "1: field \"question.choices\"");
    EXPECT_EQ(e.message(), "expected an array of objects, found object");
  }
  Spit(tmp.path() + "/h.jsonl", R"({"ind": "7", "activity_label": "A"})" "\n");
  try {
    ImportSplit("hellaswag", "validation", tmp.path() + "/h.jsonl", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "1: field \"ind\"");
    EXPECT_EQ(e.message(), "expected an integer, found string \"7\"");
  }
}

TEST(ImportBadInputTest, NonUtf8Bytes) {
  TempDir tmp;
  Spit(tmp.path() + "/dev.jsonl", std::string(R"({"qID": "a", "sentence": "x _ y", "option1": "p", "option2": "q", "answer": "1"})") +
                                      "\n{\"qID\": \"b\", \"sentence\": \"\xff _\", \"option1\": \"p\", \"option2\": \"q\", \"answer\": \"1\"}\n");
  try {
    ImportSplit("winogrande", "validation", tmp.path() + "/dev.jsonl", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "2");
    EXPECT_NE(e.message().find("not valid UTF-8"), std::string::npos);
  }
  Spit(tmp.path() + "/m/anatomy_test.csv", "Q\xC3,a,b,c,d,A\n");
  try {
    ImportSplit("mmlu", "test", tmp.path() + "/m", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), tmp.path() + "/m/anatomy_test.csv");
    EXPECT_EQ(e.field(), "1");
    EXPECT_NE(e.message().find("not valid UTF-8"), std::string::npos);
  }
}

TEST(ImportBadInputTest, MmluBadRowsAndNames) {
  TempDir tmp;
  Spit(tmp.path() + "/m/anatomy_test.csv", "Q,a,b,c,d,A\nQ2,a,b,c,E\n");
  try {
    ImportSplit("mmlu", "test", tmp.path() + "/m", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "2");
    EXPECT_NE(e.message().find("expected 6 columns"), std::string::npos);
  }
  Spit(tmp.path() + "/m/anatomy_test.csv", "Q,a,b,c,d,A\nQ2,a,b,c,d,F\n");
  EXPECT_THROW(ImportSplit("mmlu", "test", tmp.path() + "/m", tmp.path() + "/out"), Error);
  Spit(tmp.path() + "/n/anatomyy_test.csv", "Q,a,b,c,d,A\n");
  try {
    ImportSplit("mmlu", "test", tmp.path() + "/n", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("did you mean anatomy"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ImportSplit("mmlu", "train", tmp.path() + "/n", tmp.path() + "/out"), Error);
}

// Issue 15: an import that would write zero documents is an error naming the source (it used to
// exit 0 with an empty file); semantic checks run at import too, naming the original's field.
TEST(ImportTest, EmptySourceAndSemanticErrorsFailWithoutOutput) {
  TempDir tmp;
  const std::string src = tmp.path() + "/ARC-Easy-Test.jsonl";
  Spit(src, "");
  CliResult r = RunDoge("data import --dataset arc_easy --split test --from " + src + " --data-dir " +
                        tmp.path() + "/out");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find(src + ": no documents: the import would write an empty"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/out/arc_easy/test.jsonl"));

  Spit(src, R"({"id":"x","question":{"stem":"q","choices":[{"text":"a","label":"A"},{"text":"b","label":"A"}]},"answerKey":"A"})" "\n");
  r = RunDoge("data import --dataset arc_easy --split test --from " + src + " --data-dir " + tmp.path() + "/out");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("1: field \"question.choices[].label\": label 'A' appears twice"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/out/arc_easy/test.jsonl"));

  const std::string wino = tmp.path() + "/dev.jsonl";
  Spit(wino, R"({"qID":"q","sentence":"A _ and _.","option1":"x","option2":"y","answer":"1"})" "\n");
  r = RunDoge("data import --dataset winogrande --split validation --from " + wino + " --data-dir " +
              tmp.path() + "/out");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("1: field \"sentence\": has more than one \"_\""), std::string::npos) << r.output;
}

TEST(ImportBadInputTest, KeyGivenTwiceWithDifferentValuesInTheSource) {
  TempDir tmp;
  // JSONL source (ARC): the answer key given twice.
  std::string arc = Slurp(kSamples + "/arc/ARC-Easy-Test.jsonl");
  const size_t second = arc.find('\n') + 1;
  const size_t key = arc.find("\"answerKey\"", second);
  ASSERT_NE(key, std::string::npos);
  arc.insert(key, "\"answerKey\": \"Z\", ");
  Spit(tmp.path() + "/ARC-Easy-Test.jsonl", arc);
  try {
    ImportSplit("arc_easy", "test", tmp.path() + "/ARC-Easy-Test.jsonl", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), tmp.path() + "/ARC-Easy-Test.jsonl");
    EXPECT_EQ(e.field(), "2: field \"answerKey\"");
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/out/arc_easy/test.jsonl"));
  // JSON source (TriviaQA rc): inside the Data array.
  Spit(tmp.path() + "/web-test.json",
       R"({"Data": [{"Question": "A?", "QuestionId": "q_0"}, {"Question": "Who?", "QuestionId": "q_1", "QuestionId": "q_2"}]})");
  try {
    ImportOne("triviaqa", "test", tmp.path() + "/web-test.json", tmp.path() + "/out");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), tmp.path() + "/web-test.json");
    EXPECT_EQ(e.field(), "Data[1].QuestionId");
  }
}

}  // namespace
}  // namespace doge::data
