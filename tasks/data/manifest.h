// datasets-manifest/<dataset>.json: what `doge data fetch` downloads for each dataset, how each
// split is found inside it, how many documents each split has, and the checksums that are known.
// LoadManifest() validates the whole schema up front (fail early), naming the file and the field
// ("splits[2].count") of any problem. The format is documented in datasets-manifest/README.md.
#ifndef DOGE_TASKS_DATA_MANIFEST_H_
#define DOGE_TASKS_DATA_MANIFEST_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace doge::data {

// A SHA-256 expectation. `value` is the full lower-case hex digest when it is known; otherwise
// empty, and `prefix`/`suffix` may hold the truncated forms quoted in the docs ("93503cc9…ef72d"),
// which are still checked. `note` says where the value comes from or why it is unknown.
struct Sha256Spec {
  std::string value;
  std::string prefix;
  std::string suffix;
  std::string note;
  bool known() const { return !value.empty(); }
};

// One thing to download.
struct ManifestSource {
  std::string id;    // referenced by splits[].source
  std::string kind;  // "file" | "zip" | "tar" | "tar.gz" | "hf_rows"
  std::string url;   // file/archive URL; for hf_rows the rows endpoint (".../rows")
  Sha256Spec sha256;  // of the downloaded bytes (not used for hf_rows)
  int64_t bytes = -1;  // expected size, -1 when unknown
  // hf_rows only: the dataset viewer's JSON rows API, fetched page by page.
  std::string hf_dataset, hf_config, hf_split;
  int64_t page_length = 100;  // rows per request (the API's maximum is 100)
};

struct ManifestSplit {
  std::string split;   // canonical name: train | validation | test | dev
  std::string role;    // "evaluation" | "few-shot pool" | "evaluation and few-shot pool"
  std::string format;  // original format: arc_jsonl obqa_jsonl piqa_jsonl winogrande_jsonl
                       // hellaswag_jsonl mmlu_csv triviaqa_rc_json triviaqa_hf_rows
  std::string source;  // ManifestSource::id
  // Path of the data file inside an archive (matched exactly or as a "/"-suffix), or "" when
  // the source is the file itself. mmlu: contains "{subject}", expanded for all 57 subjects.
  std::string member;
  Sha256Spec member_sha256;
  std::string labels_source;  // piqa/winogrande: the labels file (.lst) source id, or ""
  std::string labels_member;  // ... or its path inside the same archive
  Sha256Spec labels_sha256;
  int64_t count = -1;  // expected documents, -1 when unknown
  std::map<std::string, int64_t> subject_counts;  // mmlu: per subject, where known
  Sha256Spec canonical_sha256;  // of the canonical JSONL we write (hf_rows: what gets hashed)
};

struct DatasetManifest {
  std::string path;  // the manifest file, for error messages
  std::string dataset;
  std::string license;
  std::string homepage;
  std::string hf_id, hf_config, hf_revision;  // provenance
  std::vector<ManifestSource> sources;
  std::vector<ManifestSplit> splits;

  const ManifestSource& Source(const std::string& id) const;  // throws when absent
  // nullptr when the split is not listed.
  const ManifestSplit* FindSplit(const std::string& split) const;
  // Index in `splits`, or -1.
  int SplitIndex(const std::string& split) const;
};

// $DOGE_DATASETS_MANIFEST if set, else <source tree>/datasets-manifest.
std::string DefaultManifestDir();

// Parses and validates one manifest file.
DatasetManifest LoadManifest(const std::string& path);
// Loads <dir>/<dataset>.json.
DatasetManifest LoadDatasetManifest(const std::string& dir, const std::string& dataset);

// Expected document count for a split (`subject` "" = whole split); -1 when unknown.
int64_t ExpectedCount(const DatasetManifest& m, const std::string& split,
                      const std::string& subject);

// Replaces "scheme://host[:port]" of `url` with `base` (e.g. "http://127.0.0.1:8080"); the path
// and query are kept. Empty `base` returns `url` unchanged. This is how tests (and users with a
// local mirror) point fetch at another server: --base-url or $DOGE_DATA_MIRROR.
std::string RewriteUrlHost(const std::string& url, const std::string& base);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_MANIFEST_H_
