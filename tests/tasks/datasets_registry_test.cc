// The dataset adapter registry (tasks/data/datasets.h) against the rest of the tree: every
// adapter is complete, has a manifest whose formats and splits it accepts, is reached by a spec
// of each protocol, and reads its bundled fixture through the same entry points `doge data
// verify` (validate_row) and the prompt builder (load_fields) use. A dataset added to one place
// but not the others fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "tasks/data/canonical.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"
#include "tasks/data/jsonl.h"
#include "tasks/data/manifest.h"
#include "tasks/spec.h"

namespace doge::data {
namespace {

const std::string kCanonical = std::string(DOGE_TEST_DATA) + "/datasets-canonical";
const std::string kManifests = std::string(DOGE_SOURCE_DIR) + "/datasets-manifest";

// Non-empty lines of a file, counted here rather than by the code under test.
int64_t CountRows(const std::string& path) {
  const std::string text = ReadFileToString(path);
  int64_t n = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) ++n;
    start = end + 1;
  }
  return n;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(DatasetRegistryTest, EveryAdapterIsCompleteAndNamedOnce) {
  std::set<std::string> names;
  for (const DatasetAdapter& a : DatasetAdapters()) {
    SCOPED_TRACE(a.name);
    EXPECT_TRUE(names.insert(a.name).second) << "dataset named twice";
    EXPECT_FALSE(a.doc_hook.empty());
    EXPECT_FALSE(a.splits.empty());
    EXPECT_NE(a.convert, nullptr);
    EXPECT_NE(a.validate_row, nullptr);
    EXPECT_NE(a.load_fields, nullptr);
    EXPECT_EQ(&FindDatasetAdapter(a.name), &a);
    // ConvertOriginal finds the converter by format alone: datasets sharing one (arc_easy and
    // arc_challenge: arc_jsonl) must convert it the same way.
    ASSERT_NE(FindAdapterByFormat(a.source_format), nullptr);
    EXPECT_EQ(FindAdapterByFormat(a.source_format)->convert, a.convert);
  }
  // DatasetNames() is the table's order, which `doge data ls` and `fetch` follow.
  std::vector<std::string> in_order;
  for (const DatasetAdapter& a : DatasetAdapters()) in_order.push_back(a.name);
  EXPECT_EQ(DatasetNames(), in_order);
  EXPECT_EQ(DatasetNames(),
            (std::vector<std::string>{"arc_easy", "arc_challenge", "piqa", "hellaswag",
                                      "openbookqa", "winogrande", "mmlu", "triviaqa"}));
}

TEST(DatasetRegistryTest, UnknownNamesAreUsageErrorsWithASuggestion) {
  try {
    FindDatasetAdapter("hellaswg", "--dataset");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_EQ(e.field(), "--dataset");
    EXPECT_NE(std::string(e.what()).find("hellaswag"), std::string::npos) << e.what();
  }
  EXPECT_EQ(FindAdapterByFormat("parquet"), nullptr);
  EXPECT_EQ(FindAdapterByDocHook("boolq"), nullptr);
  // The two ARC datasets share one prompt hook; it is listed once.
  const std::vector<std::string> hooks = DocHookNames();
  EXPECT_EQ(std::count(hooks.begin(), hooks.end(), "arc"), 1);
  EXPECT_EQ(hooks.size(), DatasetAdapters().size() - 1);
}

TEST(DatasetRegistryTest, EveryManifestSplitIsOneTheAdapterAccepts) {
  for (const DatasetAdapter& a : DatasetAdapters()) {
    SCOPED_TRACE(a.name);
    DatasetManifest m = LoadDatasetManifest(kManifests, a.name);
    ASSERT_FALSE(m.splits.empty());
    for (const ManifestSplit& sp : m.splits) {
      EXPECT_TRUE(Contains(a.splits, sp.split)) << sp.split;
      EXPECT_TRUE(sp.format == a.source_format || Contains(a.fetch_formats, sp.format))
          << sp.format;
    }
  }
}

TEST(DatasetRegistryTest, EverySpecReachesAnAdapterAndEveryAdapterHasASpecPerProtocol) {
  for (const tasks::TaskSpec& s : tasks::AllTaskSpecs()) {
    SCOPED_TRACE(s.spec_file);
    const DatasetAdapter* by_hook = FindAdapterByDocHook(s.doc_hook);
    ASSERT_NE(by_hook, nullptr) << s.doc_hook;
    // The hook's fields are read from the spec's own dataset, which must use the same hook.
    EXPECT_EQ(FindDatasetAdapter(s.dataset).doc_hook, s.doc_hook);
  }
  for (const std::string& protocol : tasks::ProtocolNames()) {
    for (const DatasetAdapter& a : DatasetAdapters()) {
      const bool found = std::any_of(
          tasks::AllTaskSpecs().begin(), tasks::AllTaskSpecs().end(),
          [&](const tasks::TaskSpec& s) { return s.protocol == protocol && s.dataset == a.name; });
      EXPECT_TRUE(found) << a.name << " has no " << protocol << " spec";
    }
  }
}

// The bundled samples (tests/data/datasets-canonical): each adapter validates every row of every
// split present and builds one field set per row. Counts are the fixture's line counts, taken
// independently of the adapter.
TEST(DatasetRegistryTest, BundledFixturesValidateAndLoadAsFields) {
  for (const DatasetAdapter& a : DatasetAdapters()) {
    SCOPED_TRACE(a.name);
    const std::vector<std::string> subjects =
        a.per_subject() ? a.subjects() : std::vector<std::string>{""};
    int files = 0;
    for (const std::string& split : a.splits) {
      for (const std::string& subject : subjects) {
        const std::string path = SplitPath(kCanonical, a.name, split, subject);
        if (!FileExists(path)) continue;
        ++files;
        const int64_t lines = CountRows(path);
        EXPECT_EQ(ValidateCanonicalFile(a.name, path), lines) << path;
        EXPECT_EQ(static_cast<int64_t>(a.load_fields(kCanonical, a.name, split, subject).size()),
                  lines)
            << path;
      }
    }
    EXPECT_GT(files, 0) << "no bundled sample for " << a.name;
  }
}

// A row the prompt cannot be built from fails in load_fields naming the file and line.
TEST(DatasetRegistryTest, WinograndeFieldsNameTheRowWithoutABlank) {
  const std::string dir = ::testing::TempDir() + "/registry_wg";
  MakeDirs(dir + "/winogrande");
  // Canonical validation already refuses a sentence without "_", so the error comes from the
  // row validator inside the loader: file and line 2 are named either way.
  WriteFileAtomic(dir + "/winogrande/validation.jsonl",
                  "{\"qID\":\"a\",\"sentence\":\"The _ "
                  "fell.\",\"option1\":\"x\",\"option2\":\"y\",\"answer\":\"1\"}\n"
                  "{\"qID\":\"b\",\"sentence\":\"No "
                  "blank.\",\"option1\":\"x\",\"option2\":\"y\",\"answer\":\"2\"}\n");
  try {
    FindDatasetAdapter("winogrande").load_fields(dir, "winogrande", "validation", "");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDataset);
    const std::string what = e.what();
    EXPECT_NE(what.find("validation.jsonl"), std::string::npos) << what;
    EXPECT_NE(what.find('2'), std::string::npos) << what;
    EXPECT_NE(what.find("sentence"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace doge::data
