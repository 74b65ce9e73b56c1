// Loaders (documents.h) on the checked-in canonical fixtures, with expectations written by hand
// from the original sample files; and malformed canonical input, which must fail with the file,
// the line and the field.
#include <gtest/gtest.h>

#include "engine/base/error.h"
#include "tasks/data/documents.h"
#include "tasks/data/jsonl.h"
#include "tests/datasets/test_util.h"

namespace doge::data {
namespace {

using doge::testing::kCanonical;
using doge::testing::Spit;
using doge::testing::TempDir;

TEST(LoadersTest, ArcEasyTestFirstRow) {
  auto docs = LoadArc(kCanonical, "arc_easy", "test");
  ASSERT_EQ(docs.size(), 25u);
  // ARC-Easy-Test.jsonl line 1.
  EXPECT_EQ(docs[0].id, "Mercury_417466");
  EXPECT_EQ(docs[0].question,
            "Which statement best explains why photosynthesis is the foundation of most food webs?");
  ASSERT_EQ(docs[0].choice_texts.size(), 4u);
  EXPECT_EQ(docs[0].choice_texts[0], "Sunlight is the source of energy for nearly all ecosystems.");
  EXPECT_EQ(docs[0].choice_texts[3], "The producers in all ecosystems are plants.");
  EXPECT_EQ(docs[0].choice_labels, (std::vector<std::string>{"A", "B", "C", "D"}));
  EXPECT_EQ(docs[0].answer_key, "A");
}

TEST(LoadersTest, OpenBookQaTestFirstRow) {
  auto docs = LoadOpenBookQa(kCanonical, "test");
  ASSERT_EQ(docs.size(), 25u);
  EXPECT_EQ(docs[0].id, "8-343");
  EXPECT_EQ(docs[0].question.substr(0, 52), "A person wants to start saving money so that they ca");
  EXPECT_EQ(docs[0].choice_texts[1], "quit eating lunch out");
  EXPECT_EQ(docs[0].answer_key, "B");
}

TEST(LoadersTest, PiqaValidationKeepsRawSpacesAndLabels) {
  auto docs = LoadPiqa(kCanonical, "validation");
  ASSERT_EQ(docs.size(), 25u);
  EXPECT_EQ(docs[0].goal, "How do I ready a guinea pig cage for it's new occupants?");
  EXPECT_EQ(docs[0].label, 0);  // valid-labels.lst line 1
  EXPECT_EQ(docs[1].goal, "dresser");
  EXPECT_EQ(docs[1].sol1, "replace drawer with bobby pin ");   // trailing space kept
  EXPECT_EQ(docs[1].sol2, "finish, woodgrain with  bobby pin ");  // double space kept
  EXPECT_EQ(docs[1].label, 1);
  EXPECT_EQ(docs[2].label, 1);
}

TEST(LoadersTest, WinograndeValidationFirstRows) {
  auto docs = LoadWinogrande(kCanonical, "validation");
  ASSERT_EQ(docs.size(), 25u);
  EXPECT_EQ(docs[0].qid, "3FCO4VKOZ4BJQ6IFC0VAIBK4KTWE7U-2");
  EXPECT_EQ(docs[0].sentence, "Sarah was a much better surgeon than Maria so _ always got the easier cases.");
  EXPECT_EQ(docs[0].option1, "Sarah");
  EXPECT_EQ(docs[0].option2, "Maria");
  EXPECT_EQ(docs[0].answer, 2);
  EXPECT_EQ(docs[1].answer, 1);
  EXPECT_EQ(LoadWinogrande(kCanonical, "train").size(), 40u);
}

TEST(LoadersTest, HellaswagValidationFirstRow) {
  auto docs = LoadHellaswag(kCanonical, "validation");
  ASSERT_EQ(docs.size(), 10u);
  EXPECT_EQ(docs[0].ind, 24);
  EXPECT_EQ(docs[0].activity_label, "Roof shingle removal");
  EXPECT_EQ(docs[0].ctx_a, "A man is sitting on a roof.");
  EXPECT_EQ(docs[0].ctx_b, "he");
  EXPECT_EQ(docs[0].ctx, "A man is sitting on a roof. he");
  EXPECT_EQ(docs[0].endings[3], "starts pulling up roofing on a roof.");
  EXPECT_EQ(docs[0].label, 3);
  EXPECT_EQ(docs[0].split, "val");
  EXPECT_EQ(docs[0].split_type, "indomain");
  EXPECT_EQ(docs[0].source_id, "activitynet~v_-JhWjGDPHMY");
  auto train = LoadHellaswag(kCanonical, "train");
  ASSERT_EQ(train.size(), 5u);
  EXPECT_EQ(train[3].ctx_b, "");  // WikiHow rows have an empty ctx_b
}

TEST(LoadersTest, MmluAnatomyDev) {
  auto docs = LoadMmlu(kCanonical, "anatomy", "dev");
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_EQ(docs[0].subject, "anatomy");
  EXPECT_EQ(docs[0].question, "What is the embryological origin of the hyoid bone?");
  EXPECT_EQ(docs[0].choices[0], "The first pharyngeal arch");
  EXPECT_EQ(docs[0].choices[3], "The second and third pharyngeal arches");
  EXPECT_EQ(docs[0].answer, 3);
  EXPECT_EQ(LoadMmlu(kCanonical, "professional_law", "test").size(), 10u);
  EXPECT_THROW(LoadMmlu(kCanonical, "anatomyy", "dev"), Error);
}

TEST(LoadersTest, TriviaqaValidationAndStrippedTrain) {
  auto docs = LoadTriviaqa(kCanonical, "validation");
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_EQ(docs[0].question, "Which Lloyd Webber musical premiered in the US on 10th December 1993?");
  EXPECT_EQ(docs[0].question_id, "tc_33");
  EXPECT_EQ(docs[0].value, "Sunset Boulevard");
  EXPECT_EQ(docs[0].normalized_value, "sunset boulevard");
  ASSERT_EQ(docs[0].aliases.size(), 5u);
  EXPECT_EQ(docs[0].aliases[4], "Sunset Blvd.");
  ASSERT_EQ(docs[0].normalized_aliases.size(), 4u);
  auto train = LoadTriviaqa(kCanonical, "train");
  ASSERT_EQ(train.size(), 5u);
  // wikipedia-train.json row 5: "  In which Swiss city ... headquarters? " and " Zürich ".
  EXPECT_EQ(train[4].question, "In which Swiss city is the FIFA headquarters?");
  EXPECT_EQ(train[4].aliases[0], "Z\xC3\xBCrich");
  EXPECT_EQ(train[4].value, "Z\xC3\xBCrich");
}

// --- malformed canonical files ---

// Writes `body` as <tmp>/piqa/validation.jsonl and returns the loader's error.
Error PiqaError(const TempDir& tmp, const std::string& body) {
  Spit(tmp.path() + "/piqa/validation.jsonl", body);
  try {
    LoadPiqa(tmp.path(), "validation");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an error";
  return Error(ErrorKind::kInternal, "", "", "");
}

const char* kGoodPiqa = R"({"goal":"g","sol1":"a","sol2":"b","label":0})" "\n";

TEST(LoadersBadInputTest, MissingFieldNamesFileLineAndField) {
  TempDir tmp;
  Error e = PiqaError(tmp, std::string(kGoodPiqa) + kGoodPiqa + R"({"goal":"g","sol1":"a","label":1})" "\n");
  EXPECT_EQ(e.kind(), ErrorKind::kDataset);
  EXPECT_EQ(e.file(), tmp.path() + "/piqa/validation.jsonl");
  EXPECT_EQ(e.field(), "3: field \"sol2\"");
  EXPECT_EQ(e.message(), "missing");
  EXPECT_NE(std::string(e.what()).find("validation.jsonl: 3: field \"sol2\": missing"), std::string::npos);
}

TEST(LoadersBadInputTest, TruncatedLine) {
  TempDir tmp;
  // An interrupted writer's last line: cut mid-object.
  Error e = PiqaError(tmp, std::string(kGoodPiqa) + R"({"goal":"g","sol1":"a","so)");
  EXPECT_EQ(e.field(), "2");
  EXPECT_NE(e.message().find("invalid JSON"), std::string::npos) << e.what();
}

TEST(LoadersBadInputTest, WrongTypes) {
  TempDir tmp;
  Error e = PiqaError(tmp, R"({"goal":"g","sol1":"a","sol2":"b","label":"1"})" "\n");
  EXPECT_EQ(e.field(), "1: field \"label\"");
  EXPECT_EQ(e.message(), "expected an integer, found string \"1\"");
  e = PiqaError(tmp, R"({"goal":["g"],"sol1":"a","sol2":"b","label":1})" "\n");
  EXPECT_EQ(e.field(), "1: field \"goal\"");
  EXPECT_EQ(e.message(), "expected a string, found array");
  e = PiqaError(tmp, R"({"goal":"g","sol1":"a","sol2":"b","label":2})" "\n");
  EXPECT_EQ(e.message(), "expected 0 or 1, found 2");
  e = PiqaError(tmp, "[1,2]\n");
  EXPECT_EQ(e.message(), "expected a JSON object, found array");
}

TEST(LoadersBadInputTest, NonUtf8NamesTheLine) {
  TempDir tmp;
  Error e = PiqaError(tmp, std::string(kGoodPiqa) + kGoodPiqa + "{\"goal\":\"caf\xE9\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0}\n");
  EXPECT_EQ(e.field(), "3");
  EXPECT_NE(e.message().find("not valid UTF-8: byte 0xe9 at column 13"), std::string::npos) << e.what();
}

TEST(LoadersBadInputTest, NestedFieldsAndRanges) {
  TempDir tmp;
  Spit(tmp.path() + "/triviaqa/validation.jsonl",
       R"({"question":"q","question_id":"x","answer":{"aliases":["a",3],"normalized_aliases":[],"value":"v","normalized_value":"v"}})" "\n");
  try {
    LoadTriviaqa(tmp.path(), "validation");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "1: field \"answer.aliases[1]\"");
    EXPECT_EQ(e.message(), "expected a string, found number 3");
  }
  Spit(tmp.path() + "/hellaswag/validation.jsonl",
       R"({"ind":1,"activity_label":"a","ctx_a":"b","ctx_b":"c","ctx":"b c","endings":["1","2","3"],"source_id":"s","split":"val","split_type":"indomain","label":"0"})" "\n");
  EXPECT_THROW(LoadHellaswag(tmp.path(), "validation"), Error);
  Spit(tmp.path() + "/arc_easy/test.jsonl",
       R"({"id":"x","question":"q","choices":{"text":["a","b"],"label":["A","B"]},"answerKey":"C"})" "\n");
  try {
    LoadArc(tmp.path(), "arc_easy", "test");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "1: field \"answerKey\"");
  }
}

// Issue 15, item 4: what the prompt builder and the metrics assume is checked at load, naming
// file, line and field.
template <typename Load>
void ExpectLoadError(const std::string& file, const std::string& text, Load load,
                     const std::string& field, const std::string& message_part) {
  Spit(file, text);
  try {
    load();
    ADD_FAILURE() << "loaded: " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataset) << e.what();
    EXPECT_EQ(e.file(), file) << e.what();
    EXPECT_EQ(e.field(), field) << e.what();
    EXPECT_NE(e.message().find(message_part), std::string::npos) << e.what();
  }
}

TEST(LoadersBadInputTest, SemanticChecksOfEveryDatasetNameLineAndField) {
  TempDir tmp;
  const std::string d = tmp.path();
  auto piqa = [&] { LoadPiqa(d, "validation"); };
  ExpectLoadError(d + "/piqa/validation.jsonl",
                  std::string(kGoodPiqa) + R"({"goal":"bad\u0001goal","sol1":"a","sol2":"b","label":0})" "\n",
                  piqa, "2: field \"goal\"", "control byte 0x01 at byte 4");
  ExpectLoadError(d + "/piqa/validation.jsonl", R"({"goal":"  ","sol1":"a","sol2":"b","label":0})" "\n",
                  piqa, "1: field \"goal\"", "is empty");
  ExpectLoadError(d + "/piqa/validation.jsonl", R"({"goal":"g","sol1":"a\u007f","sol2":"b","label":0})" "\n",
                  piqa, "1: field \"sol1\"", "control byte 0x7F");
  // Tabs and newlines are text, not control bytes that corrupt a prompt.
  Spit(d + "/piqa/validation.jsonl", R"({"goal":"a\tb\nc\r","sol1":"","sol2":"b","label":0})" "\n");
  EXPECT_EQ(LoadPiqa(d, "validation").size(), 1u);

  auto arc = [&] { LoadArc(d, "arc_easy", "test"); };
  ExpectLoadError(d + "/arc_easy/test.jsonl",
                  R"({"id":"x","question":"q","choices":{"text":["a","b"],"label":["A","A"]},"answerKey":"A"})" "\n",
                  arc, "1: field \"choices.label\"", "label 'A' appears twice");
  ExpectLoadError(d + "/arc_easy/test.jsonl",
                  R"({"id":"x","question":"","choices":{"text":["a","b"],"label":["A","B"]},"answerKey":"A"})" "\n",
                  arc, "1: field \"question\"", "is empty");

  auto wino = [&] { LoadWinogrande(d, "validation"); };
  ExpectLoadError(d + "/winogrande/validation.jsonl",
                  R"({"qID":"q","sentence":"A _ and _.","option1":"x","option2":"y","answer":"1"})" "\n",
                  wino, "1: field \"sentence\"", "more than one \"_\"");
  ExpectLoadError(d + "/winogrande/validation.jsonl",
                  R"({"qID":"q","sentence":"A _.","option1":"x","option2":"","answer":"1"})" "\n",
                  wino, "1: field \"option2\"", "is empty");

  auto hella = [&] { LoadHellaswag(d, "validation"); };
  ExpectLoadError(d + "/hellaswag/validation.jsonl",
                  R"({"ind":1,"activity_label":"a","ctx_a":"b","ctx_b":"c\u0000","ctx":"b c","endings":["1","2","3","4"],"source_id":"s","split":"val","split_type":"indomain","label":"0"})" "\n",
                  hella, "1: field \"ctx_b\"", "control byte 0x00");

  auto trivia = [&] { LoadTriviaqa(d, "validation"); };
  ExpectLoadError(d + "/triviaqa/validation.jsonl",
                  R"({"question":"","question_id":"x","answer":{"aliases":["a"],"normalized_aliases":["a"],"value":"a","normalized_value":"a"}})" "\n",
                  trivia, "1: field \"question\"", "is empty");
}

TEST(LoadersBadInputTest, MissingSplitFile) {
  TempDir tmp;
  try {
    LoadWinogrande(tmp.path(), "validation");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataset);
    EXPECT_EQ(e.file(), tmp.path() + "/winogrande/validation.jsonl");
  }
}

TEST(CheckSplitCountTest, ManifestCountsAreEnforcedUnlessAllowed) {
  // arc_easy test has 2,376 documents (eval-protocol.md §3.3); the sample has 25.
  EXPECT_NO_THROW(CheckSplitCount(kCanonical, "arc_easy", "test", "", 2376, false));
  try {
    CheckSplitCount(kCanonical, "arc_easy", "test", "", 25, false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataset);
    EXPECT_NE(e.file().find("datasets-manifest/arc_easy.json"), std::string::npos);
    EXPECT_EQ(e.field(), "splits[1].count");
    EXPECT_NE(e.message().find("expected 2376 documents"), std::string::npos);
    EXPECT_NE(e.message().find("found 25"), std::string::npos);
  }
  EXPECT_NO_THROW(CheckSplitCount(kCanonical, "arc_easy", "test", "", 25, true));
  // MMLU per subject: anatomy test has 135.
  EXPECT_THROW(CheckSplitCount(kCanonical, "mmlu", "test", "anatomy", 10, false), Error);
  EXPECT_NO_THROW(CheckSplitCount(kCanonical, "mmlu", "test", "anatomy", 135, false));
  EXPECT_NO_THROW(CheckSplitCount(kCanonical, "mmlu", "test", "", 14042, false));
  // A split the manifest does not list (arc_easy validation) is not checked.
  EXPECT_NO_THROW(CheckSplitCount(kCanonical, "arc_easy", "validation", "", 25, false));
}

TEST(DefaultDataDirTest, FollowsXdgCacheHome) {
  const char* old = std::getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  EXPECT_EQ(DefaultDataDir(), "/x/cache/doge/datasets");
  unsetenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  EXPECT_EQ(DefaultDataDir(), std::string(home ? home : ".") + "/.cache/doge/datasets");
  if (old) setenv("XDG_CACHE_HOME", saved.c_str(), 1);
}

TEST(LoadersBadInputTest, KeyGivenTwiceWithDifferentValuesNamesLineAndField) {
  TempDir tmp;
  Error e = PiqaError(tmp, std::string(kGoodPiqa) + R"({"goal":"g","sol1":"a","sol2":"b","label":0,"label":1})" "\n");
  EXPECT_EQ(e.kind(), ErrorKind::kDataset);
  EXPECT_EQ(e.file(), tmp.path() + "/piqa/validation.jsonl");
  EXPECT_EQ(e.field(), "2: field \"label\"");
  EXPECT_NE(e.message().find("twice in one object with different values: 0, then 1"), std::string::npos)
      << e.what();
  e = PiqaError(tmp, std::string(kGoodPiqa) + kGoodPiqa + kGoodPiqa +
                         R"({"goal":"g","goal":"h","sol1":"a","sol2":"b","label":0})" "\n");
  EXPECT_EQ(e.field(), "4: field \"goal\"");
  // Nested: TriviaQA's answer object.
  Spit(tmp.path() + "/triviaqa/validation.jsonl",
       R"({"question":"q","question_id":"i","answer":{"aliases":["a"],"normalized_aliases":["a"],)"
       R"("value":"a","normalized_value":"a","value":"b"}})" "\n");
  try {
    LoadTriviaqa(tmp.path(), "validation");
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.field(), "1: field \"answer.value\"");
  }
  // An identical repeat loads.
  Spit(tmp.path() + "/piqa/validation.jsonl", R"({"goal":"g","sol1":"a","label":0,"sol2":"b","label":0})" "\n");
  EXPECT_EQ(LoadPiqa(tmp.path(), "validation").size(), 1u);
}

}  // namespace
}  // namespace doge::data
