// Schema check of datasets-manifest/ (every file parses and validates, every dataset and the
// splits its tasks evaluate and draw shots from are listed, counts agree with
// eval-protocol.md), and the schema errors a broken manifest gets.
#include <gtest/gtest.h>

#include <numeric>

#include "engine/base/error.h"
#include "tasks/data/documents.h"
#include "tasks/data/lock.h"
#include "tasks/data/manifest.h"
#include "tests/datasets/test_util.h"

namespace doge::data {
namespace {

using doge::testing::Spit;
using doge::testing::TempDir;

const std::string kManifestDir = std::string(DOGE_SOURCE_DIR) + "/datasets-manifest";

TEST(ManifestTest, EveryDatasetHasAValidManifest) {
  for (const auto& name : DatasetNames()) {
    SCOPED_TRACE(name);
    DatasetManifest m = LoadDatasetManifest(kManifestDir, name);
    EXPECT_EQ(m.dataset, name);
    EXPECT_FALSE(m.license.empty());
    EXPECT_FALSE(m.hf_id.empty());
    EXPECT_FALSE(m.hf_revision.empty());
    for (const auto& sp : m.splits) {
      EXPECT_GT(sp.count, 0) << sp.split << ": every needed split's size is documented";
      const ManifestSource& src = m.Source(sp.source);
      // A checksum is either a full digest or comes with a note (trust on first use).
      if (src.kind != "hf_rows") {
        EXPECT_TRUE(src.sha256.known() || !src.sha256.note.empty());
      }
      EXPECT_TRUE(sp.canonical_sha256.known() || !sp.canonical_sha256.note.empty());
    }
  }
}

// The evaluation split and the few-shot pool of each task (eval-protocol.md §3 / appendix).
TEST(ManifestTest, ListsTheSplitsTheTasksNeedWithDocumentedCounts) {
  struct Need {
    const char* dataset;
    const char* split;
    int64_t count;
  };
  const Need kNeeds[] = {
      {"arc_easy", "test", 2376},      {"arc_easy", "train", 2251},
      {"arc_challenge", "test", 1172}, {"arc_challenge", "train", 1119},
      {"piqa", "validation", 1838},    {"piqa", "train", 16113},
      {"hellaswag", "validation", 10042}, {"hellaswag", "train", 39905},
      {"openbookqa", "test", 500},     {"openbookqa", "train", 4957},
      {"openbookqa", "validation", 500},
      {"winogrande", "validation", 1267}, {"winogrande", "train", 40398},
      {"mmlu", "test", 14042},         {"mmlu", "dev", 285},
      {"mmlu", "validation", 1531},
      {"triviaqa", "validation", 17944}, {"triviaqa", "train", 138384},
  };
  for (const auto& n : kNeeds) {
    DatasetManifest m = LoadDatasetManifest(kManifestDir, n.dataset);
    EXPECT_EQ(ExpectedCount(m, n.split, ""), n.count) << n.dataset << " " << n.split;
  }
}

TEST(ManifestTest, MmluSubjectCountsSumToTheTotal) {
  DatasetManifest m = LoadDatasetManifest(kManifestDir, "mmlu");
  const ManifestSplit* test = m.FindSplit("test");
  ASSERT_NE(test, nullptr);
  ASSERT_EQ(test->subject_counts.size(), 57u);
  int64_t total = 0;
  for (const auto& [s, n] : test->subject_counts) total += n;
  EXPECT_EQ(total, 14042);
  EXPECT_EQ(ExpectedCount(m, "test", "professional_law"), 1534);
  EXPECT_EQ(ExpectedCount(m, "dev", "anatomy"), 5);
  EXPECT_EQ(ExpectedCount(m, "validation", "anatomy"), -1);  // not documented per subject
}

TEST(ManifestTest, DocumentedTruncatedChecksumsAreCarried) {
  DatasetManifest piqa = LoadDatasetManifest(kManifestDir, "piqa");
  const ManifestSource& valid = piqa.Source("valid_jsonl");
  EXPECT_FALSE(valid.sha256.known());
  EXPECT_EQ(valid.sha256.prefix, "93503cc9");
  EXPECT_EQ(valid.sha256.suffix, "ef72d");
  EXPECT_EQ(valid.bytes, 495929);
  DatasetManifest obqa = LoadDatasetManifest(kManifestDir, "openbookqa");
  EXPECT_EQ(obqa.FindSplit("test")->member_sha256.prefix, "feb2bd9b");
  DatasetManifest wino = LoadDatasetManifest(kManifestDir, "winogrande");
  EXPECT_EQ(wino.FindSplit("validation")->member_sha256.suffix, "d2e8");
}

TEST(ManifestTest, UrlRewriteForMirrors) {
  EXPECT_EQ(RewriteUrlHost("https://people.eecs.berkeley.edu/~hendrycks/data.tar", "http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/~hendrycks/data.tar");
  EXPECT_EQ(RewriteUrlHost("https://h.example/rows", "http://m/"), "http://m/rows");
  EXPECT_EQ(RewriteUrlHost("https://h.example/a", ""), "https://h.example/a");
}

// Loads `json` as <tmp>/piqa.json and returns the error.
Error BadManifest(const std::string& json) {
  TempDir tmp;
  Spit(tmp.path() + "/piqa.json", json);
  try {
    LoadDatasetManifest(tmp.path(), "piqa");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an error for " << json;
  return Error(ErrorKind::kInternal, "", "", "");
}

const char* kGood = R"({"dataset":"piqa","license":"AFL-3.0","hf":{"id":"ybisk/piqa","revision":"x"},
  "sources":[{"id":"v","kind":"file","url":"https://h/valid.jsonl","sha256":{"value":null,"note":"tofu"}},
             {"id":"l","kind":"file","url":"https://h/valid-labels.lst","sha256":{"value":null,"note":"tofu"}}],
  "splits":[{"split":"validation","role":"evaluation","format":"piqa_jsonl","source":"v","labels_source":"l","count":25,
             "canonical_sha256":{"value":null,"note":"tofu"}}]})";

TEST(ManifestSchemaTest, GoodMinimalManifestLoads) {
  TempDir tmp;
  Spit(tmp.path() + "/piqa.json", kGood);
  DatasetManifest m = LoadDatasetManifest(tmp.path(), "piqa");
  EXPECT_EQ(m.splits.size(), 1u);
  EXPECT_EQ(ExpectedCount(m, "validation", ""), 25);
}

TEST(ManifestSchemaTest, ErrorsNameTheField) {
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  Error e = BadManifest(replace(kGood, R"("count":25)", R"("count":"25")"));
  EXPECT_EQ(e.field(), "splits[0].count");
  e = BadManifest(replace(kGood, R"("split":"validation")", R"("split":"valid")"));
  EXPECT_EQ(e.field(), "splits[0].split");
  EXPECT_NE(e.message().find("unknown split 'valid'"), std::string::npos) << e.what();
  e = BadManifest(replace(kGood, R"("source":"v")", R"("source":"nope")"));
  EXPECT_EQ(e.field(), "splits[0].source");
  e = BadManifest(replace(kGood, R"({"value":null,"note":"tofu"}}],)", R"({"value":"abc"}}],)"));
  EXPECT_EQ(e.field(), "sources[1].sha256.value");
  e = BadManifest(replace(kGood, R"("sha256":{"value":null,"note":"tofu"}},)", R"("sha256":{"value":null}},)"));
  EXPECT_EQ(e.field(), "sources[0].sha256.note");
  e = BadManifest(replace(kGood, R"("kind":"file")", R"("kind":"rar")"));
  EXPECT_EQ(e.field(), "sources[0].kind");
  e = BadManifest(replace(kGood, R"("license":"AFL-3.0",)", ""));
  EXPECT_EQ(e.field(), "license");
  e = BadManifest(replace(kGood, R"("license")", R"("licence")"));
  EXPECT_EQ(e.field(), "licence");  // unknown key: a typo is caught, not ignored
  e = BadManifest(replace(kGood, R"("labels_source":"l",)", ""));
  EXPECT_EQ(e.field(), "splits[0]");
  e = BadManifest(replace(kGood, R"("dataset":"piqa")", R"("dataset":"hellaswag")"));
  EXPECT_EQ(e.field(), "dataset");
  e = BadManifest("{not json");
  EXPECT_NE(e.message().find("invalid JSON"), std::string::npos);
}

TEST(ManifestSchemaTest, KeyGivenTwiceWithDifferentValuesIsNamed) {
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  Error e = BadManifest(replace(kGood, R"("count":25)", R"("count":25,"count":26)"));
  EXPECT_EQ(e.kind(), ErrorKind::kConfig);
  EXPECT_EQ(e.field(), "splits[0].count");
  EXPECT_NE(e.message().find("25, then 26"), std::string::npos) << e.what();
  e = BadManifest(replace(kGood, R"("license":"AFL-3.0")", R"("license":"AFL-3.0","license":"MIT")"));
  EXPECT_EQ(e.field(), "license");
  e = BadManifest(replace(kGood, R"("id":"l",)", R"("id":"l","url":"https://h/other",)"));
  EXPECT_EQ(e.field(), "sources[1].url");
  // The same value twice: loads.
  TempDir tmp;
  Spit(tmp.path() + "/piqa.json", replace(kGood, R"("count":25)", R"("count":25,"count":25)"));
  EXPECT_EQ(ExpectedCount(LoadDatasetManifest(tmp.path(), "piqa"), "validation", ""), 25);
}

TEST(LockFileTest, KeyGivenTwiceWithDifferentValuesIsNamed) {
  TempDir tmp;
  const std::string sha(64, 'a'), other(64, 'b');
  const std::string entry = R"({"sha256":")" + sha + R"(","bytes":10,"rows":-1,"url":"u"})";
  Spit(LockFile::PathFor(tmp.path()), R"({"entries":{"piqa:v":)" + entry + R"(,"piqa:v":{"sha256":")" +
                                          other + R"(","bytes":10,"rows":-1,"url":"u"}}})");
  try {
    LockFile::Load(tmp.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataset);
    EXPECT_EQ(e.file(), LockFile::PathFor(tmp.path()));
    EXPECT_EQ(e.field(), "entries[\"piqa:v\"]");
  }
  Spit(LockFile::PathFor(tmp.path()), R"({"entries":{"piqa:v":{"sha256":")" + sha +
                                          R"(","bytes":10,"bytes":11,"rows":-1,"url":"u"}}})");
  try {
    LockFile::Load(tmp.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "entries[\"piqa:v\"].bytes");
  }
  Spit(LockFile::PathFor(tmp.path()), R"({"entries":{"piqa:v":)" + entry + ",\"piqa:v\":" + entry + "}}");
  ASSERT_NE(LockFile::Load(tmp.path()).Find("piqa:v"), nullptr);
}

}  // namespace
}  // namespace doge::data
