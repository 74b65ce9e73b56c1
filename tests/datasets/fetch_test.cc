// `doge data fetch` end to end against a real HTTP server on 127.0.0.1 (http_test_server.h)
// serving archives built here from the bundled samples: download, checksum verification (full,
// truncated prefix/suffix, trust-on-first-use lock), extraction, conversion. The converted files
// must equal the checked-in canonical fixtures, which were produced independently (README of
// tests/data/datasets-canonical). Faults: a flipped byte, a connection dropped mid-file, a 404,
// an archive entry escaping the target directory, a count that differs from the manifest.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "tasks/data/documents.h"
#include "tasks/data/fetch.h"
#include "tasks/data/import.h"
#include "tasks/data/inventory.h"
#include "tasks/data/lock.h"
#include "tests/datasets/http_test_server.h"
#include "tests/datasets/test_util.h"

namespace doge::data {
namespace {

using doge::testing::kCanonical;
using doge::testing::kSamples;
using doge::testing::MakeArchive;
using doge::testing::Slurp;
using doge::testing::Spit;
using doge::testing::TempDir;
using doge::testing::TestHttpServer;
namespace fs = std::filesystem;

std::string Sha(const std::string& data) { return Sha256Hex(data); }

std::string Unknown() { return R"({"value":null,"note":"test: trust on first use"})"; }
std::string Known(const std::string& sha) { return R"({"value":")" + sha + R"("})"; }

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    arc_zip_ = MakeArchive("zip", {
        {"ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Train.jsonl", Slurp(kSamples + "/arc/ARC-Easy-Train.jsonl")},
        {"ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl", Slurp(kSamples + "/arc/ARC-Easy-Test.jsonl")},
        {"ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.csv", "unused,csv\n"},
    });
    server_.Serve("/arc/ARC-V1-Feb2018.zip", arc_zip_);
    for (const char* f : {"valid.jsonl", "valid-labels.lst", "train.jsonl", "train-labels.lst"}) {
      server_.Serve(std::string("/piqa/data/") + f, Slurp(kSamples + "/piqa/" + f));
    }
    server_.Serve("/rowanz/hellaswag_val.jsonl", Slurp(kSamples + "/hellaswag/hellaswag_val.jsonl"));
    server_.Serve("/winogrande/winogrande_1.1.zip", MakeArchive("zip", {
        {"winogrande_1.1/dev.jsonl", Slurp(kSamples + "/winogrande/dev.jsonl")},
        {"winogrande_1.1/dev-labels.lst", Slurp(kSamples + "/winogrande/dev-labels.lst")},
        // train_l standing in for train_xl, as in the canonical fixtures.
        {"winogrande_1.1/train_xl.jsonl", Slurp(kSamples + "/winogrande/train_l.jsonl")},
        {"winogrande_1.1/train_xl-labels.lst", Slurp(kSamples + "/winogrande/train_l-labels.lst")},
    }));
    // MMLU: the three real sample subjects plus a synthetic one-row CSV for each other subject,
    // because fetch extracts all 57 (as the real tar has them).
    std::vector<std::pair<std::string, std::string>> mmlu;
    for (const auto& s : MmluSubjects()) {
      for (const char* split : {"dev", "test"}) {
        std::string sample = kSamples + "/mmlu/" + split + "/" + s + "_" + split + ".csv";
        std::string body = fs::exists(sample) ? Slurp(sample) : "Synthetic " + s + "?,a,b,c,d,B\n";
        mmlu.emplace_back(std::string("data/") + split + "/" + s + "_" + split + ".csv", body);
      }
    }
    server_.Serve("/~hendrycks/data.tar.gz", MakeArchive("tar.gz", mmlu));
    ServeRows();
  }

  // The dataset viewer's rows API over the TriviaQA sample, with the extra fields the real API
  // returns (they are ignored).
  void ServeRows() {
    std::vector<std::string> rows;
    std::string canon = Slurp(kCanonical + "/triviaqa/validation.jsonl");
    size_t at = 0;
    while (at < canon.size()) {
      size_t nl = canon.find('\n', at);
      std::string line = canon.substr(at, nl - at);
      // {"question":...,"answer":{...}} -> add question_source and answer.type.
      line.insert(line.size() - 2, R"(,"type":"WikipediaEntity","matched_wiki_entity_name":"x")");
      line.insert(1, R"("question_source":"http://www.triviacountry.com/","entity_pages":{"doc_source":[]},)");
      rows.push_back(line);
      at = nl + 1;
    }
    server_.Handle("/rows?", [rows](const std::string& target) {
      auto param = [&](const std::string& k) {
        size_t p = target.find("&" + k + "=");
        return std::stol(target.substr(p + k.size() + 2));
      };
      EXPECT_NE(target.find("dataset=mandarjoshi%2Ftrivia_qa&config=rc.nocontext&split=validation"), std::string::npos) << target;
      long offset = param("offset"), length = param("length");
      std::string body = R"({"features":[],"rows":[)";
      for (long i = offset; i < std::min<long>(offset + length, rows.size()); ++i) {
        if (i > offset) body += ",";
        body += R"({"row_idx":)" + std::to_string(i) + R"(,"row":)" + rows[i] + R"(,"truncated_cells":[]})";
      }
      body += R"(],"num_rows_total":)" + std::to_string(rows.size()) + R"(,"num_rows_per_page":100,"partial":false})";
      return TestHttpServer::Response{200, body};
    });
  }

  void WriteManifests(const std::string& arc_sha, int64_t arc_test_count = 25) {
    const std::string hf = R"("hf":{"id":"test","revision":"test"},"license":"test")";
    auto m = [&](const std::string& name, const std::string& body) {
      Spit(manifests_.path() + "/" + name + ".json", R"({"dataset":")" + name + R"(",)" + hf + "," + body + "}");
    };
    std::string piqa_valid_sha = Sha(Slurp(kSamples + "/piqa/valid.jsonl"));
    m("arc_easy", R"("sources":[{"id":"arc_zip","kind":"zip","url":"https://ai2.example/arc/ARC-V1-Feb2018.zip","sha256":)" + arc_sha + R"(}],
      "splits":[{"split":"train","role":"few-shot pool","format":"arc_jsonl","source":"arc_zip","member":"ARC-Easy/ARC-Easy-Train.jsonl","member_sha256":)" + Unknown() + R"(,"count":25,"canonical_sha256":)" + Unknown() + R"(},
                {"split":"test","role":"evaluation","format":"arc_jsonl","source":"arc_zip","member":"ARC-Easy/ARC-Easy-Test.jsonl","member_sha256":)" + Unknown() + R"(,"count":)" + std::to_string(arc_test_count) + R"(,"canonical_sha256":)" + Unknown() + "}]");
    // PIQA valid: only a truncated prefix/suffix is "documented", as in the real manifest.
    m("piqa", R"("sources":[{"id":"valid_jsonl","kind":"file","url":"https://y.example/piqa/data/valid.jsonl","sha256":{"value":null,"prefix":")" + piqa_valid_sha.substr(0, 8) +
                  R"(","suffix":")" + piqa_valid_sha.substr(59) + R"(","note":"truncated"}},
      {"id":"valid_labels","kind":"file","url":"https://y.example/piqa/data/valid-labels.lst","sha256":)" + Unknown() + R"(},
      {"id":"train_jsonl","kind":"file","url":"https://y.example/piqa/data/train.jsonl","sha256":)" + Unknown() + R"(},
      {"id":"train_labels","kind":"file","url":"https://y.example/piqa/data/train-labels.lst","sha256":)" + Unknown() + R"(}],
      "splits":[{"split":"train","role":"few-shot pool","format":"piqa_jsonl","source":"train_jsonl","labels_source":"train_labels","count":6,"canonical_sha256":)" + Unknown() + R"(},
                {"split":"validation","role":"evaluation","format":"piqa_jsonl","source":"valid_jsonl","labels_source":"valid_labels","count":25,"canonical_sha256":)" + Unknown() + "}]");
    m("hellaswag", R"("sources":[{"id":"val_jsonl","kind":"file","url":"https://raw.example/rowanz/hellaswag_val.jsonl","sha256":)" + Unknown() + R"(}],
      "splits":[{"split":"validation","role":"evaluation","format":"hellaswag_jsonl","source":"val_jsonl","count":10,"canonical_sha256":)" + Unknown() + "}]");
    m("winogrande", R"("sources":[{"id":"zip","kind":"zip","url":"https://g.example/winogrande/winogrande_1.1.zip","sha256":)" + Unknown() + R"(}],
      "splits":[{"split":"train","role":"few-shot pool","format":"winogrande_jsonl","source":"zip","member":"train_xl.jsonl","member_sha256":)" + Unknown() + R"(,"labels_member":"train_xl-labels.lst","labels_sha256":)" + Unknown() + R"(,"count":40,"canonical_sha256":)" + Unknown() + R"(},
                {"split":"validation","role":"evaluation","format":"winogrande_jsonl","source":"zip","member":"dev.jsonl","member_sha256":)" + Unknown() + R"(,"labels_member":"dev-labels.lst","labels_sha256":)" + Unknown() + R"(,"count":25,"canonical_sha256":)" + Unknown() + "}]");
    m("mmlu", R"("sources":[{"id":"tar","kind":"tar.gz","url":"https://b.example/~hendrycks/data.tar.gz","sha256":)" + Unknown() + R"(}],
      "splits":[{"split":"dev","role":"few-shot pool","format":"mmlu_csv","source":"tar","member":"data/dev/{subject}_dev.csv","member_sha256":)" + Unknown() + R"(,"subject_counts":{"anatomy":5,"professional_law":5},"canonical_sha256":)" + Unknown() + R"(},
                {"split":"test","role":"evaluation","format":"mmlu_csv","source":"tar","member":"data/test/{subject}_test.csv","member_sha256":)" + Unknown() + R"(,"subject_counts":{"anatomy":10,"virology":1},"canonical_sha256":)" + Unknown() + "}]");
    m("triviaqa", R"("sources":[{"id":"rows","kind":"hf_rows","url":"https://datasets-server.example/rows","hf_dataset":"mandarjoshi/trivia_qa","hf_config":"rc.nocontext","hf_split":"validation","page_length":2}],
      "splits":[{"split":"validation","role":"evaluation","format":"triviaqa_hf_rows","source":"rows","count":5,"canonical_sha256":)" + Unknown() + "}]");
  }

  FetchOptions Options(std::vector<std::string> datasets) {
    FetchOptions o;
    o.dir = data_.path();
    o.manifest_dir = manifests_.path();
    o.base_url = server_.base_url();
    o.datasets = std::move(datasets);
    o.download.retries = 3;
    o.download.backoff_ms = 10;  // keep the suite fast; the doubling is still exercised
    o.download.terminal = 0;
    return o;
  }

  // No canonical file and no download of `dataset` is left that could look valid.
  void ExpectNothingFor(const std::string& dataset) {
    EXPECT_FALSE(fs::exists(data_.path() + "/" + dataset)) << dataset;
    std::string dl = data_.path() + "/.downloads/" + dataset;
    if (fs::exists(dl)) {
      for (const auto& e : fs::recursive_directory_iterator(dl)) {
        EXPECT_FALSE(e.is_regular_file()) << "left behind: " << e.path();
      }
    }
  }

  TestHttpServer server_;
  TempDir data_, manifests_;
  std::string arc_zip_;
};

TEST_F(FetchTest, DownloadsVerifiesExtractsAndConverts) {
  WriteManifests(Known(Sha(arc_zip_)));
  auto files = FetchDatasets(Options({"arc_easy", "piqa", "hellaswag", "winogrande", "mmlu", "triviaqa"}));
  // 2 + 2 + 1 + 2 + 57*2 + 1 canonical files.
  EXPECT_EQ(files.size(), 122u);
  for (const char* rel : {"arc_easy/train.jsonl", "arc_easy/test.jsonl", "piqa/train.jsonl", "piqa/validation.jsonl",
                          "hellaswag/validation.jsonl", "winogrande/train.jsonl", "winogrande/validation.jsonl",
                          "mmlu/anatomy/dev.jsonl", "mmlu/anatomy/test.jsonl", "mmlu/professional_law/test.jsonl",
                          "mmlu/high_school_mathematics/dev.jsonl", "triviaqa/validation.jsonl"}) {
    ASSERT_TRUE(fs::exists(data_.path() + "/" + rel)) << rel;
    EXPECT_EQ(Slurp(data_.path() + "/" + rel), Slurp(kCanonical + "/" + rel)) << rel;
  }
  EXPECT_EQ(Slurp(data_.path() + "/mmlu/virology/test.jsonl"),
            R"({"question":"Synthetic virology?","subject":"virology","choices":["a","b","c","d"],"answer":1})" "\n");
  // The rows API was paged 2 at a time: offsets 0, 2, 4.
  int pages = 0;
  for (const auto& r : server_.requests()) pages += r.rfind("GET /rows?", 0) == 0;
  EXPECT_EQ(pages, 3);
  // Trust on first use: every download and split is now in the lock file.
  LockFile lock = LockFile::Load(data_.path());
  ASSERT_NE(lock.Find("arc_easy:arc_zip"), nullptr);
  EXPECT_EQ(lock.Find("arc_easy:arc_zip")->sha256, Sha(arc_zip_));
  ASSERT_NE(lock.Find("piqa/validation"), nullptr);
  EXPECT_EQ(lock.Find("piqa/validation")->sha256, Sha256File(kCanonical + "/piqa/validation.jsonl"));
  EXPECT_EQ(lock.Find("piqa/validation")->count, 25);
  ASSERT_NE(lock.Find("mmlu/anatomy/test"), nullptr);
  ASSERT_NE(lock.Find("triviaqa/validation"), nullptr);
  // No staging files are left; verify finds every split consistent with manifest and lock.
  for (const auto& e : fs::recursive_directory_iterator(data_.path())) {
    EXPECT_EQ(e.path().string().find("staging"), std::string::npos) << e.path();
    EXPECT_EQ(e.path().string().find(".part"), std::string::npos) << e.path();
  }
  auto reports = InspectDataDir(data_.path(), manifests_.path(), /*validate=*/true, false);
  EXPECT_EQ(reports.size(), 122u);
  for (const auto& r : reports) EXPECT_EQ(r.problem, "") << r.path;

  // A second fetch reuses the verified downloads (no new file GETs) and reproduces the bytes.
  size_t before = server_.requests().size();
  FetchDatasets(Options({"arc_easy", "piqa"}));
  EXPECT_EQ(server_.requests().size(), before);

  // A canonical file edited after the fetch is caught by verify (hash differs from the lock).
  Spit(data_.path() + "/arc_easy/test.jsonl", Slurp(kCanonical + "/arc_easy/test.jsonl") + "\n");
  reports = InspectDataDir(data_.path(), manifests_.path(), true, false);
  bool flagged = false;
  for (const auto& r : reports) {
    if (r.path == data_.path() + "/arc_easy/test.jsonl") flagged = r.problem.find("differs from") != std::string::npos;
  }
  EXPECT_TRUE(flagged);
}

// TriviaQA from the UW release equals TriviaQA from Hugging Face's rows. The rows fixture
// (tests/data/datasets/triviaqa/hf-rows-rc.nocontext-validation.jsonl) is what the HF loading
// script yields for rc.nocontext validation over web-dev.json then wikipedia-dev.json (its
// README says how it was made); it is served through the rows API and fetched as `doge data
// fetch` does, then the question files are imported as `doge data import` does.
TEST_F(FetchTest, TriviaqaFromTheUwQuestionFilesEqualsTheHfRows) {
  const std::string uw = kSamples + "/triviaqa";
  std::vector<std::string> rows;
  {
    std::string all = Slurp(uw + "/hf-rows-rc.nocontext-validation.jsonl");
    for (size_t at = 0, nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1) rows.push_back(all.substr(at, nl - at));
  }
  ASSERT_EQ(rows.size(), 8u);  // 3 web + 5 wikipedia questions
  server_.Handle("/rows_uw?", [rows](const std::string& target) {
    auto param = [&](const std::string& k) {
      size_t p = target.find("&" + k + "=");
      return std::stol(target.substr(p + k.size() + 2));
    };
    long offset = param("offset"), length = param("length");
    std::string body = R"({"features":[],"rows":[)";
    for (long i = offset; i < std::min<long>(offset + length, rows.size()); ++i) {
      if (i > offset) body += ",";
      body += R"({"row_idx":)" + std::to_string(i) + R"(,"row":)" + rows[i] + R"(,"truncated_cells":[]})";
    }
    body += R"(],"num_rows_total":)" + std::to_string(rows.size()) + "}";
    return TestHttpServer::Response{200, body};
  });
  Spit(manifests_.path() + "/triviaqa.json",
       R"({"dataset":"triviaqa","hf":{"id":"test","revision":"test"},"license":"test",
       "sources":[{"id":"rows","kind":"hf_rows","url":"https://datasets-server.example/rows_uw","hf_dataset":"mandarjoshi/trivia_qa","hf_config":"rc.nocontext","hf_split":"validation","page_length":3}],
       "splits":[{"split":"validation","role":"evaluation","format":"triviaqa_hf_rows","source":"rows","count":8,"canonical_sha256":)" +
           Unknown() + "}]}");
  FetchDatasets(Options({"triviaqa"}));
  const std::string from_hf = Slurp(data_.path() + "/triviaqa/validation.jsonl");

  TempDir out;
  // The release folder (verified-web-dev.json beside them is not read) ...
  auto files = ImportSplit("triviaqa", "validation", std::vector<std::string>{uw}, out.path() + "/a");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rows, 8);
  EXPECT_EQ(Slurp(out.path() + "/a/triviaqa/validation.jsonl"), from_hf);
  // ... a release laid out as extracted (<root>/qa/) ...
  Spit(out.path() + "/rc/qa/web-dev.json", Slurp(uw + "/web-dev.json"));
  Spit(out.path() + "/rc/qa/wikipedia-dev.json", Slurp(uw + "/wikipedia-dev.json"));
  ImportSplit("triviaqa", "validation", std::vector<std::string>{out.path() + "/rc"}, out.path() + "/b");
  EXPECT_EQ(Slurp(out.path() + "/b/triviaqa/validation.jsonl"), from_hf);
  // ... and the two files named in the other order all give the HF rows, web first.
  ImportSplit("triviaqa", "validation", std::vector<std::string>{uw + "/wikipedia-dev.json", uw + "/web-dev.json"},
              out.path() + "/c");
  EXPECT_EQ(Slurp(out.path() + "/c/triviaqa/validation.jsonl"), from_hf);
  // One domain alone is the matching run of rows.
  files = ImportSplit("triviaqa", "validation", std::vector<std::string>{uw + "/web-dev.json"}, out.path() + "/d");
  EXPECT_EQ(files[0].rows, 3);
  const std::string web_only = Slurp(out.path() + "/d/triviaqa/validation.jsonl");
  EXPECT_EQ(from_hf.substr(0, web_only.size()), web_only);
  // Stripping as the HF script does (Python's whitespace set: U+3000 included).
  EXPECT_NE(web_only.find(R"({"question":"Which country has Athens as its capital?","question_id":"synthetic_web_1")"),
            std::string::npos);
  EXPECT_NE(web_only.find(R"("aliases":["Timișoara","TIMIȘOARA","Temesvár"])"), std::string::npos);
}

TEST(TriviaqaQuestionFilesTest, RefusesWhatIsNotRcNocontext) {
  const std::string uw = kSamples + "/triviaqa";
  auto usage_error = [](const std::vector<std::string>& from, const std::string& split, const std::string& says) {
    try {
      TriviaqaQuestionFiles(from, split);
      ADD_FAILURE() << "no error for " << from[0];
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  usage_error({uw + "/verified-web-dev.json"}, "validation", "verified-* files");
  usage_error({uw + "/wikipedia-train.json"}, "validation", "is the UW 'train' split");
  usage_error({uw + "/web-dev.json", uw + "/web-dev.json"}, "validation", "two web-dev.json files");
  usage_error({uw, uw + "/web-dev.json"}, "validation", "must be the only --from");
  // A folder with only one domain's file for the split: named, not silently half-imported.
  usage_error({uw}, "train", "web-train.json");
  EXPECT_EQ(TriviaqaQuestionFiles({uw}, "validation"),
            (std::vector<std::string>{uw + "/web-dev.json", uw + "/wikipedia-dev.json"}));
}

TEST_F(FetchTest, CorruptedByteGivesChecksumErrorAndLeavesNoOutput) {
  WriteManifests(Known(Sha(arc_zip_)));
  std::string bad = arc_zip_;
  bad[bad.size() / 2] ^= 0x01;
  server_.Serve("/arc/ARC-V1-Feb2018.zip", bad);
  try {
    FetchDatasets(Options({"arc_easy"}));
    FAIL() << "expected a checksum error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataset);
    EXPECT_EQ(e.file(), manifests_.path() + "/arc_easy.json");
    EXPECT_EQ(e.field(), "sources[0].sha256.value");
    EXPECT_NE(e.message().find("checksum mismatch"), std::string::npos) << e.what();
  }
  ExpectNothingFor("arc_easy");
}

TEST_F(FetchTest, TruncatedDocumentedChecksumIsChecked) {
  WriteManifests(Known(Sha(arc_zip_)));
  std::string valid = Slurp(kSamples + "/piqa/valid.jsonl");
  valid[10] = 'X';
  server_.Serve("/piqa/data/valid.jsonl", valid);
  try {
    FetchDatasets(Options({"piqa"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "sources[0].sha256.prefix");
  }
  EXPECT_FALSE(fs::exists(data_.path() + "/piqa/validation.jsonl"));
}

TEST_F(FetchTest, TrustOnFirstUseLockCatchesAChangedUpstreamFile) {
  WriteManifests(Known(Sha(arc_zip_)));
  FetchDatasets(Options({"hellaswag"}));
  std::string first = Slurp(data_.path() + "/hellaswag/validation.jsonl");
  std::string changed = Slurp(kSamples + "/hellaswag/hellaswag_val.jsonl");
  changed.replace(changed.find("Roof shingle"), 4, "Rxof");
  server_.Serve("/rowanz/hellaswag_val.jsonl", changed);
  FetchOptions o = Options({"hellaswag"});
  o.force = true;
  try {
    FetchDatasets(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), LockFile::PathFor(data_.path()));
    EXPECT_NE(e.message().find("first fetch recorded"), std::string::npos) << e.what();
  }
  // The earlier, verified split is untouched and the bad download is gone.
  EXPECT_EQ(Slurp(data_.path() + "/hellaswag/validation.jsonl"), first);
  for (const auto& e : fs::recursive_directory_iterator(data_.path() + "/.downloads/hellaswag")) {
    EXPECT_FALSE(e.is_regular_file()) << e.path();
  }
}

TEST_F(FetchTest, ConnectionDroppedMidFileIsResumed) {
  WriteManifests(Known(Sha(arc_zip_)));
  size_t half = arc_zip_.size() / 2;
  server_.DropAfter("/arc/ARC-V1-Feb2018.zip", half);
  auto files = FetchDatasets(Options({"arc_easy"}));
  EXPECT_EQ(files.size(), 2u);
  EXPECT_EQ(Slurp(data_.path() + "/arc_easy/test.jsonl"), Slurp(kCanonical + "/arc_easy/test.jsonl"));
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0], "GET /arc/ARC-V1-Feb2018.zip");
  EXPECT_EQ(reqs[1], "GET /arc/ARC-V1-Feb2018.zip range=" + std::to_string(half) + "-");
}

TEST_F(FetchTest, InterruptedFetchLeavesOnlyAPartThatTheNextRunResumes) {
  WriteManifests(Known(Sha(arc_zip_)));
  size_t third = arc_zip_.size() / 3;
  server_.DropAfter("/arc/ARC-V1-Feb2018.zip", third, /*times=*/1);
  FetchOptions o = Options({"arc_easy"});
  o.download.retries = 0;  // give up at the first drop, as a killed run would
  EXPECT_THROW(FetchDatasets(o), Error);
  EXPECT_FALSE(fs::exists(data_.path() + "/arc_easy"));
  std::string part;
  for (const auto& e : fs::recursive_directory_iterator(data_.path() + "/.downloads")) {
    if (e.is_regular_file()) {
      EXPECT_EQ(e.path().extension(), ".part") << e.path();
      part = e.path().string();
    }
  }
  ASSERT_FALSE(part.empty());
  EXPECT_EQ(fs::file_size(part), third);
  FetchDatasets(Options({"arc_easy"}));
  EXPECT_EQ(server_.requests().back(), "GET /arc/ARC-V1-Feb2018.zip range=" + std::to_string(third) + "-");
  EXPECT_EQ(Slurp(data_.path() + "/arc_easy/train.jsonl"), Slurp(kCanonical + "/arc_easy/train.jsonl"));
}

TEST_F(FetchTest, ServerErrorsAreRetriedWithBackoff) {
  TempDir tmp;
  auto calls = std::make_shared<int>(0);
  server_.Handle("/flaky", [calls](const std::string&) {
    ++*calls;
    // 503, then 429 (rate limited), then the body.
    if (*calls == 1) return TestHttpServer::Response{503, "busy"};
    if (*calls == 2) return TestHttpServer::Response{429, "slow down"};
    return TestHttpServer::Response{200, "payload"};
  });
  DownloadOptions o;
  o.retries = 2;
  o.backoff_ms = 5;
  o.terminal = 0;
  EXPECT_EQ(DownloadFile(server_.base_url() + "/flaky", tmp.path() + "/f", o), 7);
  EXPECT_EQ(*calls, 3);
  EXPECT_EQ(Slurp(tmp.path() + "/f"), "payload");
  // With fewer retries than failures the error names the URL and the last status.
  *calls = 0;
  o.retries = 1;
  try {
    DownloadFile(server_.base_url() + "/flaky", tmp.path() + "/g", o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNetwork);
    EXPECT_EQ(e.file(), server_.base_url() + "/flaky");
    EXPECT_EQ(e.field(), "HTTP 429");
  }
  EXPECT_FALSE(fs::exists(tmp.path() + "/g"));
}

TEST_F(FetchTest, DownloadFileResumesAnExistingPartAndRestartsWhenRangeIsIgnored) {
  TempDir tmp;
  std::string body(100000, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  server_.Serve("/f.bin", body);
  Spit(tmp.path() + "/f.bin.part", body.substr(0, 1234));  // left by an interrupted run
  DownloadOptions o;
  o.terminal = 0;
  EXPECT_EQ(DownloadFile(server_.base_url() + "/f.bin", tmp.path() + "/f.bin", o), 100000);
  EXPECT_EQ(Slurp(tmp.path() + "/f.bin"), body);
  EXPECT_FALSE(fs::exists(tmp.path() + "/f.bin.part"));
  EXPECT_EQ(server_.requests().back(), "GET /f.bin range=1234-");
  // A server answering 200 to a Range request: the part is rewritten from the start.
  server_.Handle("/norange", [body](const std::string&) { return TestHttpServer::Response{200, body}; });
  Spit(tmp.path() + "/g.bin.part", "garbage");
  EXPECT_EQ(DownloadFile(server_.base_url() + "/norange", tmp.path() + "/g.bin", o), 100000);
  EXPECT_EQ(Slurp(tmp.path() + "/g.bin"), body);
}

TEST_F(FetchTest, NotFoundIsAClearErrorNamingTheUrl) {
  WriteManifests(Known(Sha(arc_zip_)));
  std::string m = Slurp(manifests_.path() + "/hellaswag.json");
  m.replace(m.find("hellaswag_val.jsonl"), 19, "missing_val.jsonl");
  Spit(manifests_.path() + "/hellaswag.json", m);
  try {
    FetchDatasets(Options({"hellaswag"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNetwork);
    EXPECT_EQ(e.file(), server_.base_url() + "/rowanz/missing_val.jsonl");
    EXPECT_EQ(e.field(), "HTTP 404");
    EXPECT_NE(std::string(e.what()).find("/rowanz/missing_val.jsonl: HTTP 404: not found"), std::string::npos);
  }
  EXPECT_EQ(server_.requests().size(), 1u);  // a 404 is not retried
  ExpectNothingFor("hellaswag");
}

TEST_F(FetchTest, ArchiveEntryEscapingTheTargetDirIsRejected) {
  for (const std::string& evil : {std::string("../../evil.jsonl"), std::string("ARC-Easy/../../x.jsonl"),
                                  std::string("/tmp/doge-evil-abs.jsonl")}) {
    SCOPED_TRACE(evil);
    std::string zip = MakeArchive("zip", {
        {"ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Train.jsonl", Slurp(kSamples + "/arc/ARC-Easy-Train.jsonl")},
        {evil, "{}\n"},
        {"ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl", Slurp(kSamples + "/arc/ARC-Easy-Test.jsonl")},
    });
    server_.Serve("/arc/ARC-V1-Feb2018.zip", zip);
    WriteManifests(Unknown());
    try {
      FetchDatasets(Options({"arc_easy"}));
      FAIL() << "expected the archive to be rejected";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kDataset);
      EXPECT_NE(e.message().find("escapes the target directory"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(data_.path() + "/arc_easy/train.jsonl"));
    EXPECT_FALSE(fs::exists(data_.path() + "/evil.jsonl"));
    EXPECT_FALSE(fs::exists(data_.path() + "/.downloads/evil.jsonl"));
    EXPECT_FALSE(fs::exists("/tmp/doge-evil-abs.jsonl"));
    EXPECT_FALSE(fs::exists(data_.path() + "/.downloads/arc_easy/staging"));
    fs::remove(LockFile::PathFor(data_.path()));
  }
}

TEST_F(FetchTest, CountDifferentFromManifestIsAnErrorUnlessAllowed) {
  WriteManifests(Known(Sha(arc_zip_)), /*arc_test_count=*/2376);
  try {
    FetchDatasets(Options({"arc_easy"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "splits[1].count");
    EXPECT_NE(e.message().find("expected 2376 documents, converted 25"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(data_.path() + "/arc_easy/test.jsonl"));
  FetchOptions o = Options({"arc_easy"});
  o.allow_count_mismatch = true;
  EXPECT_EQ(FetchDatasets(o).size(), 2u);
  EXPECT_TRUE(fs::exists(data_.path() + "/arc_easy/test.jsonl"));
}

// A fetch that fetched nothing never succeeds: a source with no rows (even with
// --allow-count-mismatch), an empty --tasks list, a 404.
TEST_F(FetchTest, FetchThatFetchedNothingIsAnError) {
  WriteManifests(Known(Sha(arc_zip_)));
  std::string m = Slurp(manifests_.path() + "/triviaqa.json");
  m.replace(m.find("datasets-server.example/rows\""), 29, "datasets-server.example/empty-rows\"");
  Spit(manifests_.path() + "/triviaqa.json", m);
  server_.Handle("/empty-rows?", [](const std::string&) {
    return TestHttpServer::Response{200, R"({"features":[],"rows":[],"num_rows_total":0,"partial":false})"};
  });
  FetchOptions o = Options({"triviaqa"});
  o.allow_count_mismatch = true;
  try {
    FetchDatasets(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataset);
    EXPECT_EQ(e.file(), manifests_.path() + "/triviaqa.json");
    EXPECT_EQ(e.field(), "splits[0]");
    EXPECT_NE(e.message().find("no documents"), std::string::npos) << e.what();
  }
  ExpectNothingFor("triviaqa");
  // An empty source file: the same, through the file path of fetch.
  server_.Serve("/rowanz/empty_val.jsonl", "");
  m = Slurp(manifests_.path() + "/hellaswag.json");
  m.replace(m.find("hellaswag_val.jsonl"), 19, "empty_val.jsonl");
  Spit(manifests_.path() + "/hellaswag.json", m);
  o.datasets = {"hellaswag"};
  EXPECT_THROW(FetchDatasets(o), Error);
  EXPECT_FALSE(fs::exists(data_.path() + "/hellaswag/validation.jsonl"));

  // The CLI: exit 3 for both, 2 for a --tasks that names nothing (it would otherwise mean all
  // eight), and no request made for the latter.
  const std::string common = std::string(DOGE_BINARY) + " data fetch --retry-backoff-ms 10 --allow-count-mismatch --dir " +
                             data_.path() + " --manifest-dir " + manifests_.path() + " --base-url " + server_.base_url();
  auto exit_code = [](const std::string& cmd) {
    const int status = std::system((cmd + " > /dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(exit_code(common + " --tasks triviaqa"), 3);
  EXPECT_EQ(exit_code(common + " --tasks hellaswag"), 3);
  const size_t requests = server_.requests().size();
  EXPECT_EQ(exit_code(common + " --tasks ''"), 2);
  EXPECT_EQ(exit_code(common + " --tasks ' , '"), 2);
  EXPECT_EQ(server_.requests().size(), requests);
  m.replace(m.find("empty_val.jsonl"), 15, "missing_val.jsonl");
  Spit(manifests_.path() + "/hellaswag.json", m);
  EXPECT_EQ(exit_code(common + " --tasks hellaswag --retries 0"), 3);
  ExpectNothingFor("triviaqa");
  EXPECT_FALSE(fs::exists(data_.path() + "/hellaswag/validation.jsonl"));
}

TEST_F(FetchTest, RowsApiKeyGivenTwiceWithDifferentValuesIsNamed) {
  WriteManifests(Known(Sha(arc_zip_)));
  std::string m = Slurp(manifests_.path() + "/triviaqa.json");
  m.replace(m.find("datasets-server.example/rows\""), 29, "datasets-server.example/dup-rows\"");
  Spit(manifests_.path() + "/triviaqa.json", m);
  server_.Handle("/dup-rows?", [](const std::string&) {
    return TestHttpServer::Response{200, R"({"rows":[],"num_rows_total":5,"num_rows_total":0})"};
  });
  try {
    FetchDatasets(Options({"triviaqa"}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNetwork);
    EXPECT_NE(e.file().find("/dup-rows?"), std::string::npos) << e.what();
    EXPECT_EQ(e.field(), "num_rows_total");
  }
  ExpectNothingFor("triviaqa");
}

TEST_F(FetchTest, CliFetchWithMirrorEnvThenVerifyAndLs) {
  WriteManifests(Known(Sha(arc_zip_)));
  std::string common = " --data-dir " + data_.path() + " --manifest-dir " + manifests_.path();
  std::string cmd = "DOGE_DATA_MIRROR=" + server_.base_url() + " " + DOGE_BINARY +
                    " data fetch --tasks hellaswag,triviaqa --retry-backoff-ms 10" + common + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(Slurp(data_.path() + "/triviaqa/validation.jsonl"), Slurp(kCanonical + "/triviaqa/validation.jsonl"));
  cmd = std::string(DOGE_BINARY) + " data verify" + common + " > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  // The same fetch without the mirror would go to the manifest's (unreachable) hosts; with a
  // bad --base-url it fails with a network error (exit 3 = bad input data, named URL).
  cmd = std::string(DOGE_BINARY) + " data fetch --tasks hellaswag --force --retries 0 --base-url http://127.0.0.1:1" + common + " > /dev/null 2>&1";
  int status = std::system(cmd.c_str());
  EXPECT_NE(status, 0);
}

TEST_F(FetchTest, UnknownDatasetFailsBeforeAnyDownload) {
  WriteManifests(Known(Sha(arc_zip_)));
  EXPECT_THROW(FetchDatasets(Options({"arc_easy", "hellaswagg"})), Error);
  EXPECT_TRUE(server_.requests().empty());
}

}  // namespace
}  // namespace doge::data
