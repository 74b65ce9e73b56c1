#include "tasks/data/documents.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "tasks/data/canonical.h"
#include "tasks/data/datasets.h"
#include "tasks/data/jsonl.h"
#include "tasks/data/manifest.h"

namespace doge::data {

const std::vector<std::string>& DatasetNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const DatasetAdapter& a : DatasetAdapters()) out.push_back(a.name);
    return out;
  }();
  return kNames;
}

const std::vector<std::string>& MmluSubjects() {
  static const std::vector<std::string> kSubjects = {
      "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
      "college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
      "college_medicine", "college_physics", "computer_security", "conceptual_physics",
      "econometrics", "electrical_engineering", "elementary_mathematics", "formal_logic",
      "global_facts", "high_school_biology", "high_school_chemistry",
      "high_school_computer_science", "high_school_european_history", "high_school_geography",
      "high_school_government_and_politics", "high_school_macroeconomics",
      "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
      "high_school_psychology", "high_school_statistics", "high_school_us_history",
      "high_school_world_history", "human_aging", "human_sexuality", "international_law",
      "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
      "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
      "philosophy", "prehistory", "professional_accounting", "professional_law",
      "professional_medicine", "professional_psychology", "public_relations", "security_studies",
      "sociology", "us_foreign_policy", "virology", "world_religions"};
  return kSubjects;
}

namespace {

// Per-subject datasets keep one file per subject; an unknown name is laid out as one file per split.
bool IsPerSubject(const std::string& dataset) {
  for (const DatasetAdapter& a : DatasetAdapters()) {
    if (a.name == dataset) return a.per_subject();
  }
  return false;
}

}  // namespace

std::string SplitPath(const std::string& dir, const std::string& dataset, const std::string& split,
                      const std::string& subject) {
  if (IsPerSubject(dataset)) return dir + "/" + dataset + "/" + subject + "/" + split + ".jsonl";
  return dir + "/" + dataset + "/" + split + ".jsonl";
}

namespace {

// Reads a canonical split file row by row (streaming; constant memory besides the documents).
template <typename Doc, typename Parse>
std::vector<Doc> LoadRows(const std::string& path, Parse parse) {
  if (!FileExists(path)) {
    throw Error(ErrorKind::kDataset, path, "",
                "split file missing; run `doge data fetch` or `doge data import` (see "
                "datasets-manifest/README.md)");
  }
  std::vector<Doc> out;
  ForEachJsonlRow(path, [&](const JsonRow& row, int64_t) { out.push_back(parse(row)); });
  return out;
}

void CheckArcName(const std::string& dataset) {
  if (dataset != "arc_easy" && dataset != "arc_challenge") {
    throw Error(ErrorKind::kUsage, "", "dataset",
                UnknownNameMessage("ARC dataset", dataset, {"arc_easy", "arc_challenge"}));
  }
}

}  // namespace

std::vector<ArcDoc> LoadArc(const std::string& dir, const std::string& dataset,
                            const std::string& split) {
  CheckArcName(dataset);
  return LoadRows<ArcDoc>(SplitPath(dir, dataset, split),
                          [](const JsonRow& r) { return ParseArcRow(r, false); });
}

std::vector<ArcDoc> LoadOpenBookQa(const std::string& dir, const std::string& split) {
  return LoadRows<ArcDoc>(SplitPath(dir, "openbookqa", split),
                          [](const JsonRow& r) { return ParseArcRow(r, true); });
}

std::vector<PiqaDoc> LoadPiqa(const std::string& dir, const std::string& split) {
  return LoadRows<PiqaDoc>(SplitPath(dir, "piqa", split), ParsePiqaRow);
}

std::vector<HellaswagDoc> LoadHellaswag(const std::string& dir, const std::string& split) {
  return LoadRows<HellaswagDoc>(SplitPath(dir, "hellaswag", split), ParseHellaswagRow);
}

std::vector<WinograndeDoc> LoadWinogrande(const std::string& dir, const std::string& split) {
  return LoadRows<WinograndeDoc>(SplitPath(dir, "winogrande", split), ParseWinograndeRow);
}

std::vector<MmluDoc> LoadMmlu(const std::string& dir, const std::string& subject,
                              const std::string& split) {
  const auto& subjects = MmluSubjects();
  if (std::find(subjects.begin(), subjects.end(), subject) == subjects.end()) {
    throw Error(ErrorKind::kUsage, "", "subject", UnknownNameMessage("MMLU subject", subject, subjects));
  }
  std::string path = SplitPath(dir, "mmlu", split, subject);
  return LoadRows<MmluDoc>(path, [&](const JsonRow& r) {
    MmluDoc d = ParseMmluRow(r);
    if (d.subject != subject) r.FailAt("subject", "expected '" + subject + "' (the folder), found '" + d.subject + "'");
    return d;
  });
}

std::vector<TriviaqaDoc> LoadTriviaqa(const std::string& dir, const std::string& split) {
  return LoadRows<TriviaqaDoc>(SplitPath(dir, "triviaqa", split), ParseTriviaqaRow);
}

std::string DefaultDataDir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/doge/datasets";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/doge/datasets";
}

void CheckSplitCount(const std::string& dir, const std::string& dataset, const std::string& split,
                     const std::string& subject, int64_t n, bool allow_mismatch) {
  DatasetManifest m = LoadDatasetManifest(DefaultManifestDir(), dataset);
  int64_t expected = ExpectedCount(m, split, subject);
  if (expected < 0 || expected == n) return;
  int index = m.SplitIndex(split);
  std::string field = "splits[" + std::to_string(index) + "]." +
                      (subject.empty() ? std::string("count") : "subject_counts." + subject);
  std::string what = "expected " + std::to_string(expected) + " documents in " +
                     (subject.empty() && IsPerSubject(dataset) ? dir + "/" + dataset + "/*/" + split + ".jsonl"
                                                           : SplitPath(dir, dataset, split, subject)) +
                     ", found " + std::to_string(n);
  if (!allow_mismatch) {
    throw Error(ErrorKind::kDataset, m.path, field,
                what + " (a partial or different copy; pass --allow-count-mismatch to run anyway)");
  }
  // One short line per split: evaluating bundled samples prints many of these.
  std::fprintf(stderr, "doge: warning: %s: %lld documents, the manifest expects %lld (allowed by "
               "--allow-count-mismatch)\n",
               (subject.empty() && IsPerSubject(dataset) ? dir + "/" + dataset + "/*/" + split + ".jsonl"
                                                     : SplitPath(dir, dataset, split, subject)).c_str(),
               static_cast<long long>(n), static_cast<long long>(expected));
}

}  // namespace doge::data
