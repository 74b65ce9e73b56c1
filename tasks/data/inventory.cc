#include "tasks/data/inventory.h"

#include <sys/stat.h>

#include <memory>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "tasks/data/canonical.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"
#include "tasks/data/import.h"
#include "tasks/data/jsonl.h"
#include "tasks/data/lock.h"
#include "tasks/data/manifest.h"

namespace doge::data {

namespace {

int64_t CountLines(const std::string& path) {
  LineReader reader(path);
  std::string_view line;
  int64_t n = 0;
  while (reader.Next(&line)) {
    if (line.find_first_not_of(" \t") != std::string_view::npos) ++n;
  }
  return n;
}

std::string LockKey(const std::string& dataset, const std::string& split, const std::string& subject) {
  return subject.empty() ? dataset + "/" + split : dataset + "/" + subject + "/" + split;
}

}  // namespace

std::vector<SplitReport> InspectDataDir(const std::string& dir, const std::string& manifest_dir,
                                        bool validate, bool allow_count_mismatch) {
  LockFile lock = LockFile::Load(dir);
  std::vector<SplitReport> out;
  for (const DatasetAdapter& adapter : DatasetAdapters()) {
    const std::string& dataset = adapter.name;
    // The manifest is loaded only for datasets with files present (a partial manifest folder,
    // as in tests, is fine for datasets that are absent).
    std::unique_ptr<DatasetManifest> manifest;
    auto m_of = [&]() -> const DatasetManifest& {
      if (!manifest) manifest = std::make_unique<DatasetManifest>(LoadDatasetManifest(manifest_dir, dataset));
      return *manifest;
    };
    std::vector<std::string> subjects = adapter.per_subject() ? adapter.subjects() : std::vector<std::string>{""};
    for (const std::string& split : adapter.splits) {
      int64_t mmlu_total = 0;
      int mmlu_present = 0;
      for (const std::string& subject : subjects) {
        std::string path = SplitPath(dir, dataset, split, subject);
        if (!FileExists(path)) continue;
        SplitReport r;
        r.dataset = dataset, r.split = split, r.subject = subject, r.path = path;
        struct stat st;
        if (::stat(path.c_str(), &st) == 0) r.bytes = st.st_size;
        const DatasetManifest& m = m_of();
        r.expected = ExpectedCount(m, split, subject);
        try {
          r.rows = validate ? ValidateCanonicalFile(dataset, path) : CountLines(path);
          r.sha256 = Sha256File(path);
        } catch (const Error& e) {
          r.problem = e.what();
        }
        if (const LockEntry* e = lock.Find(LockKey(dataset, split, subject))) r.locked_sha256 = e->sha256;
        if (r.problem.empty() && !r.locked_sha256.empty() && r.locked_sha256 != r.sha256) {
          r.problem = "sha256 " + r.sha256 + " differs from " + LockFile::PathFor(dir) + " (" +
                      r.locked_sha256 + "): the file changed after it was fetched";
        }
        if (r.problem.empty() && r.expected >= 0 && r.rows != r.expected) {
          r.count_mismatch = true;
          std::string what = "expected " + std::to_string(r.expected) + " documents (" + m.path +
                             "), found " + std::to_string(r.rows);
          if (!allow_count_mismatch) r.problem = what + "; pass --allow-count-mismatch for partial copies";
        }
        if (r.rows > 0) mmlu_total += r.rows, ++mmlu_present;
        out.push_back(r);
      }
      // The whole-split count of a per-subject dataset (MMLU) can only be checked when every
      // subject is present.
      if (adapter.per_subject() && mmlu_present == static_cast<int>(subjects.size())) {
        int64_t expected = ExpectedCount(m_of(), split, "");
        if (expected >= 0 && expected != mmlu_total && !allow_count_mismatch) {
          SplitReport r;
          r.dataset = dataset, r.split = split, r.path = dir + "/" + dataset + "/*/" + split + ".jsonl";
          r.rows = mmlu_total, r.expected = expected, r.count_mismatch = true;
          r.problem = "expected " + std::to_string(expected) + " documents over all subjects, found " +
                      std::to_string(mmlu_total);
          out.push_back(r);
        }
      }
    }
  }
  return out;
}

}  // namespace doge::data
