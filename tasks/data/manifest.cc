#include "tasks/data/manifest.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_duplicate_keys.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"

namespace doge::data {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Field-path aware accessors: every error names the manifest file and e.g. "splits[1].count".
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  [[noreturn]] void Fail(const std::string& field, const std::string& msg) const {
    throw Error(ErrorKind::kConfig, path_, field, msg);
  }
  void CheckKeys(element obj, const std::string& where, const std::set<std::string>& allowed) const {
    for (auto [key, value] : object(obj)) {
      if (!allowed.count(std::string(key))) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        Fail(where.empty() ? std::string(key) : where + "." + std::string(key),
             UnknownNameMessage("key", std::string(key), names));
      }
    }
  }
  bool Has(element obj, const char* key) const {
    element v;
    return obj[key].get(v) == simdjson::SUCCESS && !v.is_null();
  }
  std::string Str(element obj, const std::string& where, const char* key, bool required) const {
    element v;
    std::string field = where.empty() ? key : where + "." + key;
    if (obj[key].get(v) != simdjson::SUCCESS || v.is_null()) {
      if (required) Fail(field, "missing");
      return "";
    }
    if (!v.is_string()) Fail(field, "expected string");
    return std::string(std::string_view(v));
  }
  int64_t Int(element obj, const std::string& where, const char* key, int64_t dflt) const {
    element v;
    std::string field = where.empty() ? key : where + "." + key;
    if (obj[key].get(v) != simdjson::SUCCESS || v.is_null()) return dflt;
    int64_t out;
    if (v.get(out) != simdjson::SUCCESS || out < 0) Fail(field, "expected a non-negative integer");
    return out;
  }
  Sha256Spec Sha(element obj, const std::string& where, const char* key) const {
    Sha256Spec s;
    element v;
    std::string field = where.empty() ? key : where + "." + key;
    if (obj[key].get(v) != simdjson::SUCCESS) Fail(field, "missing (write {\"value\": null, \"note\": \"why\"} when unknown)");
    if (!v.is_object()) Fail(field, "expected object {value, prefix, suffix, note}");
    CheckKeys(v, field, {"value", "prefix", "suffix", "note"});
    s.value = Str(v, field, "value", false);
    s.prefix = Str(v, field, "prefix", false);
    s.suffix = Str(v, field, "suffix", false);
    s.note = Str(v, field, "note", false);
    auto hex = [&](const std::string& h, const char* which, bool full) {
      if (full && h.size() != 64) Fail(field + "." + which, "expected 64 hex digits, found " + std::to_string(h.size()) + " characters");
      if (h.size() > 64) Fail(field + "." + which, "longer than a SHA-256");
      for (char c : h) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) Fail(field + "." + which, "expected lower-case hex digits, found '" + h + "'");
      }
    };
    if (!s.value.empty()) hex(s.value, "value", true);
    hex(s.prefix, "prefix", false);
    hex(s.suffix, "suffix", false);
    if (s.value.empty() && s.note.empty()) {
      Fail(field + ".note", "an unknown checksum needs a note saying why (and that the lock file records it)");
    }
    return s;
  }

 private:
  std::string path_;
};

const std::set<std::string> kKinds = {"file", "zip", "tar", "tar.gz", "hf_rows"};

// The original formats a split may name: every adapter's (datasets.h), sorted for the message.
const std::set<std::string>& AcceptedFormats() {
  static const std::set<std::string> kFormats = [] {
    const std::vector<std::string> v = SourceFormatNames();
    return std::set<std::string>(v.begin(), v.end());
  }();
  return kFormats;
}

}  // namespace

const ManifestSource& DatasetManifest::Source(const std::string& id) const {
  for (const auto& s : sources) {
    if (s.id == id) return s;
  }
  throw Error(ErrorKind::kConfig, path, "sources", "no source with id '" + id + "'");
}

const ManifestSplit* DatasetManifest::FindSplit(const std::string& split) const {
  int i = SplitIndex(split);
  return i < 0 ? nullptr : &splits[i];
}

int DatasetManifest::SplitIndex(const std::string& split) const {
  for (size_t i = 0; i < splits.size(); ++i) {
    if (splits[i].split == split) return static_cast<int>(i);
  }
  return -1;
}

std::string DefaultManifestDir() {
  const char* env = std::getenv("DOGE_DATASETS_MANIFEST");
  if (env && *env) return env;
  return std::string(DOGE_SOURCE_DIR) + "/datasets-manifest";
}

namespace {

// One entry of "sources": its id is added to `ids` (ids are unique within a manifest).
ManifestSource ParseSource(Reader& r, element s, const std::string& where, std::set<std::string>* ids_out) {
  std::set<std::string>& ids = *ids_out;
  if (!s.is_object()) r.Fail(where, "expected object");
  r.CheckKeys(s, where, {"id", "kind", "url", "sha256", "bytes", "hf_dataset", "hf_config", "hf_split", "page_length", "note"});
  ManifestSource src;
  src.id = r.Str(s, where, "id", true);
  if (!ids.insert(src.id).second) r.Fail(where + ".id", "duplicate id '" + src.id + "'");
  src.kind = r.Str(s, where, "kind", true);
  if (!kKinds.count(src.kind)) {
    r.Fail(where + ".kind", UnknownNameMessage("source kind", src.kind, {kKinds.begin(), kKinds.end()}));
  }
  src.url = r.Str(s, where, "url", true);
  if (src.url.rfind("https://", 0) != 0 && src.url.rfind("http://", 0) != 0) {
    r.Fail(where + ".url", "expected an http(s) URL, found '" + src.url + "'");
  }
  src.bytes = r.Int(s, where, "bytes", -1);
  if (src.kind == "hf_rows") {
    src.hf_dataset = r.Str(s, where, "hf_dataset", true);
    src.hf_config = r.Str(s, where, "hf_config", true);
    src.hf_split = r.Str(s, where, "hf_split", true);
    src.page_length = r.Int(s, where, "page_length", 100);
    if (src.page_length < 1 || src.page_length > 100) r.Fail(where + ".page_length", "expected 1..100 (the rows API's limit)");
  } else {
    src.sha256 = r.Sha(s, where, "sha256");
  }
  return src;
}

// One entry of "splits", checked against the dataset's adapter and the manifest's sources.
ManifestSplit ParseSplit(Reader& r, element s, const std::string& where, const DatasetManifest& m,
                         const std::set<std::string>& ids, std::set<std::string>* seen_splits) {
  if (!s.is_object()) r.Fail(where, "expected object");
  r.CheckKeys(s, where, {"split", "role", "format", "source", "member", "member_sha256", "labels_source", "labels_member", "labels_sha256", "count", "subject_counts", "canonical_sha256", "note"});
  ManifestSplit sp;
  sp.split = r.Str(s, where, "split", true);
  const DatasetAdapter& adapter = FindDatasetAdapter(m.dataset);
  const bool per_subject = adapter.per_subject();
  const std::vector<std::string>& allowed = adapter.splits;
  if (std::find(allowed.begin(), allowed.end(), sp.split) == allowed.end()) {
    r.Fail(where + ".split", UnknownNameMessage("split", sp.split, allowed));
  }
  if (!seen_splits->insert(sp.split).second) r.Fail(where + ".split", "duplicate split '" + sp.split + "'");
  sp.role = r.Str(s, where, "role", true);
  sp.format = r.Str(s, where, "format", true);
  const std::set<std::string>& formats = AcceptedFormats();
  if (!formats.count(sp.format)) {
    r.Fail(where + ".format", UnknownNameMessage("format", sp.format, {formats.begin(), formats.end()}));
  }
  sp.source = r.Str(s, where, "source", true);
  if (!ids.count(sp.source)) r.Fail(where + ".source", "no source with id '" + sp.source + "'");
  const ManifestSource& src = m.Source(sp.source);
  bool archive = src.kind == "zip" || src.kind == "tar" || src.kind == "tar.gz";
  sp.member = r.Str(s, where, "member", archive);
  if (!archive && !sp.member.empty()) r.Fail(where + ".member", "only archives have members");
  if (per_subject && sp.member.find("{subject}") == std::string::npos) {
    r.Fail(where + ".member", m.dataset + " members must contain {subject}");
  }
  if (archive) sp.member_sha256 = r.Sha(s, where, "member_sha256");
  sp.labels_source = r.Str(s, where, "labels_source", false);
  sp.labels_member = r.Str(s, where, "labels_member", false);
  if (!sp.labels_source.empty() && !ids.count(sp.labels_source)) {
    r.Fail(where + ".labels_source", "no source with id '" + sp.labels_source + "'");
  }
  bool needs_labels =
      adapter.labels_file == DatasetAdapter::Labels::kRequired && sp.format == adapter.source_format;
  if (needs_labels && sp.labels_source.empty() && sp.labels_member.empty()) {
    r.Fail(where, m.dataset + " needs labels_source or labels_member (the .lst file)");
  }
  if (!sp.labels_member.empty()) sp.labels_sha256 = r.Sha(s, where, "labels_sha256");
  sp.count = r.Int(s, where, "count", -1);
  element sc;
  if (s["subject_counts"].get(sc) == simdjson::SUCCESS && !sc.is_null()) {
    if (!per_subject) r.Fail(where + ".subject_counts", "only for per-subject datasets (mmlu)");
    if (!sc.is_object()) r.Fail(where + ".subject_counts", "expected object");
    int64_t total = 0;
    for (auto [key, value] : object(sc)) {
      std::string subj(key);
      const auto& subjects = MmluSubjects();
      if (std::find(subjects.begin(), subjects.end(), subj) == subjects.end()) {
        r.Fail(where + ".subject_counts." + subj, UnknownNameMessage("subject", subj, subjects));
      }
      int64_t n;
      if (value.get(n) != simdjson::SUCCESS || n < 0) r.Fail(where + ".subject_counts." + subj, "expected a non-negative integer");
      sp.subject_counts[subj] = n;
      total += n;
    }
    if (sp.subject_counts.size() == MmluSubjects().size() && sp.count >= 0 && total != sp.count) {
      r.Fail(where + ".count", "is " + std::to_string(sp.count) + " but subject_counts sum to " + std::to_string(total));
    }
  }
  sp.canonical_sha256 = r.Sha(s, where, "canonical_sha256");
  return sp;
}

}  // namespace

DatasetManifest LoadManifest(const std::string& path) {
  Reader r(path);
  std::string text = ReadFileToString(path);
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(text).get(root)) {
    throw Error(ErrorKind::kConfig, path, "", std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  CheckDuplicateKeys(root, ErrorKind::kConfig, path);
  if (!root.is_object()) r.Fail("", "expected a JSON object");
  r.CheckKeys(root, "", {"dataset", "description", "license", "homepage", "hf", "sources", "splits", "notes"});
  DatasetManifest m;
  m.path = path;
  m.dataset = r.Str(root, "", "dataset", true);
  const auto& names = DatasetNames();
  if (std::find(names.begin(), names.end(), m.dataset) == names.end()) {
    r.Fail("dataset", UnknownNameMessage("dataset", m.dataset, names));
  }
  m.license = r.Str(root, "", "license", true);
  m.homepage = r.Str(root, "", "homepage", false);
  element hf;
  if (root["hf"].get(hf) != simdjson::SUCCESS || !hf.is_object()) r.Fail("hf", "missing (Hugging Face id + revision, for provenance)");
  r.CheckKeys(hf, "hf", {"id", "config", "revision", "note"});
  m.hf_id = r.Str(hf, "hf", "id", true);
  m.hf_config = r.Str(hf, "hf", "config", false);
  m.hf_revision = r.Str(hf, "hf", "revision", true);

  simdjson::dom::array sources, splits;
  if (root["sources"].get(sources) != simdjson::SUCCESS) r.Fail("sources", "missing or not an array");
  if (root["splits"].get(splits) != simdjson::SUCCESS) r.Fail("splits", "missing or not an array");
  size_t i = 0;
  std::set<std::string> ids;
  for (element s : sources) {
    m.sources.push_back(ParseSource(r, s, "sources[" + std::to_string(i++) + "]", &ids));
  }
  i = 0;
  std::set<std::string> seen_splits;
  for (element s : splits) {
    m.splits.push_back(ParseSplit(r, s, "splits[" + std::to_string(i++) + "]", m, ids, &seen_splits));
  }
  if (m.splits.empty()) r.Fail("splits", "expected at least one split");
  return m;
}

DatasetManifest LoadDatasetManifest(const std::string& dir, const std::string& dataset) {
  const auto& names = DatasetNames();
  if (std::find(names.begin(), names.end(), dataset) == names.end()) {
    throw Error(ErrorKind::kUsage, "", "dataset", UnknownNameMessage("dataset", dataset, names));
  }
  std::string path = dir + "/" + dataset + ".json";
  if (!FileExists(path)) {
    throw Error(ErrorKind::kConfig, path, "", "manifest missing (set DOGE_DATASETS_MANIFEST or --manifest-dir)");
  }
  DatasetManifest m = LoadManifest(path);
  if (m.dataset != dataset) {
    throw Error(ErrorKind::kConfig, path, "dataset", "expected '" + dataset + "', found '" + m.dataset + "'");
  }
  return m;
}

int64_t ExpectedCount(const DatasetManifest& m, const std::string& split, const std::string& subject) {
  const ManifestSplit* sp = m.FindSplit(split);
  if (!sp) return -1;
  if (subject.empty()) return sp->count;
  auto it = sp->subject_counts.find(subject);
  return it == sp->subject_counts.end() ? -1 : it->second;
}

std::string RewriteUrlHost(const std::string& url, const std::string& base) {
  if (base.empty()) return url;
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t path = url.find('/', scheme + 3);
  std::string rest = path == std::string::npos ? "" : url.substr(path);
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + rest;
}

}  // namespace doge::data
