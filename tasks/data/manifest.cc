#include "tasks/data/manifest.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_read.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"

namespace doge::data {

namespace {

// Field-path aware reads over engine/base/json_read.h: every error names the manifest file and
// e.g. "splits[1].count".

// A member of `obj` not in `allowed` is an error naming it (a typo is caught, not ignored).
void CheckKeys(const JsonNode& obj, const std::set<std::string>& allowed) {
  for (const auto& [key, value] : obj.Members()) {
    if (!allowed.count(key)) {
      value.Fail(UnknownNameMessage("key", key, {allowed.begin(), allowed.end()}));
    }
  }
}

// A string member; absent or null is "" (or "missing" when required).
std::string Str(const JsonNode& obj, const char* key, bool required) {
  const std::optional<JsonNode> v = obj.FindValue(key);
  if (!v) {
    if (required) obj.FailAt(key, "missing");
    return "";
  }
  return v->String();
}

// A non-negative integer member; absent or null is `dflt`.
int64_t NonNegativeInt(const JsonNode& v) {
  int64_t out = 0;
  if (v.element().get_int64().get(out) != simdjson::SUCCESS || out < 0) {
    v.Fail("expected a non-negative integer, found " + v.Found());
  }
  return out;
}
int64_t Int(const JsonNode& obj, const char* key, int64_t dflt) {
  const std::optional<JsonNode> v = obj.FindValue(key);
  return v ? NonNegativeInt(*v) : dflt;
}

Sha256Spec Sha(const JsonNode& obj, const char* key) {
  Sha256Spec s;
  const std::optional<JsonNode> v = obj.Find(key);
  if (!v) obj.FailAt(key, "missing (write {\"value\": null, \"note\": \"why\"} when unknown)");
  if (!v->IsObject()) v->Fail("expected object {value, prefix, suffix, note}");
  CheckKeys(*v, {"value", "prefix", "suffix", "note"});
  s.value = Str(*v, "value", false);
  s.prefix = Str(*v, "prefix", false);
  s.suffix = Str(*v, "suffix", false);
  s.note = Str(*v, "note", false);
  auto hex = [&](const std::string& h, const char* which, bool full) {
    if (full && h.size() != 64) v->FailAt(which, "expected 64 hex digits, found " + std::to_string(h.size()) + " characters");
    if (h.size() > 64) v->FailAt(which, "longer than a SHA-256");
    for (char c : h) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) v->FailAt(which, "expected lower-case hex digits, found '" + h + "'");
    }
  };
  if (!s.value.empty()) hex(s.value, "value", true);
  hex(s.prefix, "prefix", false);
  hex(s.suffix, "suffix", false);
  if (s.value.empty() && s.note.empty()) {
    v->FailAt("note", "an unknown checksum needs a note saying why (and that the lock file records it)");
  }
  return s;
}

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
ManifestSource ParseSource(const JsonNode& s, std::set<std::string>* ids) {
  if (!s.IsObject()) s.Fail("expected object");
  CheckKeys(s, {"id", "kind", "url", "sha256", "bytes", "hf_dataset", "hf_config", "hf_split", "page_length", "note"});
  ManifestSource src;
  src.id = Str(s, "id", true);
  if (!ids->insert(src.id).second) s.FailAt("id", "duplicate id '" + src.id + "'");
  src.kind = Str(s, "kind", true);
  if (!kKinds.count(src.kind)) {
    s.FailAt("kind", UnknownNameMessage("source kind", src.kind, {kKinds.begin(), kKinds.end()}));
  }
  src.url = Str(s, "url", true);
  if (src.url.rfind("https://", 0) != 0 && src.url.rfind("http://", 0) != 0) {
    s.FailAt("url", "expected an http(s) URL, found '" + src.url + "'");
  }
  src.bytes = Int(s, "bytes", -1);
  if (src.kind == "hf_rows") {
    src.hf_dataset = Str(s, "hf_dataset", true);
    src.hf_config = Str(s, "hf_config", true);
    src.hf_split = Str(s, "hf_split", true);
    src.page_length = Int(s, "page_length", 100);
    if (src.page_length < 1 || src.page_length > 100) s.FailAt("page_length", "expected 1..100 (the rows API's limit)");
  } else {
    src.sha256 = Sha(s, "sha256");
  }
  return src;
}

// "subject_counts" of a per-subject split: every subject known, the counts summing to "count".
void ParseSubjectCounts(const JsonNode& s, bool per_subject, ManifestSplit* sp) {
  const std::optional<JsonNode> sc = s.FindValue("subject_counts");
  if (!sc) return;
  if (!per_subject) sc->Fail("only for per-subject datasets (mmlu)");
  if (!sc->IsObject()) sc->Fail("expected object");
  int64_t total = 0;
  const auto& subjects = MmluSubjects();
  for (const auto& [subj, value] : sc->Members()) {
    if (std::find(subjects.begin(), subjects.end(), subj) == subjects.end()) {
      value.Fail(UnknownNameMessage("subject", subj, subjects));
    }
    const int64_t n = NonNegativeInt(value);
    sp->subject_counts[subj] = n;
    total += n;
  }
  if (sp->subject_counts.size() == subjects.size() && sp->count >= 0 && total != sp->count) {
    s.FailAt("count", "is " + std::to_string(sp->count) + " but subject_counts sum to " + std::to_string(total));
  }
}

// One entry of "splits", checked against the dataset's adapter and the manifest's sources.
ManifestSplit ParseSplit(const JsonNode& s, const DatasetManifest& m, const std::set<std::string>& ids,
                         std::set<std::string>* seen_splits) {
  if (!s.IsObject()) s.Fail("expected object");
  CheckKeys(s, {"split", "role", "format", "source", "member", "member_sha256", "labels_source", "labels_member", "labels_sha256", "count", "subject_counts", "canonical_sha256", "note"});
  ManifestSplit sp;
  sp.split = Str(s, "split", true);
  const DatasetAdapter& adapter = FindDatasetAdapter(m.dataset);
  const bool per_subject = adapter.per_subject();
  const std::vector<std::string>& allowed = adapter.splits;
  if (std::find(allowed.begin(), allowed.end(), sp.split) == allowed.end()) {
    s.FailAt("split", UnknownNameMessage("split", sp.split, allowed));
  }
  if (!seen_splits->insert(sp.split).second) s.FailAt("split", "duplicate split '" + sp.split + "'");
  sp.role = Str(s, "role", true);
  sp.format = Str(s, "format", true);
  const std::set<std::string>& formats = AcceptedFormats();
  if (!formats.count(sp.format)) {
    s.FailAt("format", UnknownNameMessage("format", sp.format, {formats.begin(), formats.end()}));
  }
  sp.source = Str(s, "source", true);
  if (!ids.count(sp.source)) s.FailAt("source", "no source with id '" + sp.source + "'");
  const ManifestSource& src = m.Source(sp.source);
  bool archive = src.kind == "zip" || src.kind == "tar" || src.kind == "tar.gz";
  sp.member = Str(s, "member", archive);
  if (!archive && !sp.member.empty()) s.FailAt("member", "only archives have members");
  if (per_subject && sp.member.find("{subject}") == std::string::npos) {
    s.FailAt("member", m.dataset + " members must contain {subject}");
  }
  if (archive) sp.member_sha256 = Sha(s, "member_sha256");
  sp.labels_source = Str(s, "labels_source", false);
  sp.labels_member = Str(s, "labels_member", false);
  if (!sp.labels_source.empty() && !ids.count(sp.labels_source)) {
    s.FailAt("labels_source", "no source with id '" + sp.labels_source + "'");
  }
  bool needs_labels =
      adapter.labels_file == DatasetAdapter::Labels::kRequired && sp.format == adapter.source_format;
  if (needs_labels && sp.labels_source.empty() && sp.labels_member.empty()) {
    s.Fail(m.dataset + " needs labels_source or labels_member (the .lst file)");
  }
  if (!sp.labels_member.empty()) sp.labels_sha256 = Sha(s, "labels_sha256");
  sp.count = Int(s, "count", -1);
  ParseSubjectCounts(s, per_subject, &sp);
  sp.canonical_sha256 = Sha(s, "canonical_sha256");
  return sp;
}

}  // namespace

DatasetManifest LoadManifest(const std::string& path) {
  const std::unique_ptr<JsonDocument> doc = LoadJsonFile(path, ErrorKind::kConfig, "invalid JSON");
  const JsonNode root = doc->root();
  if (!root.IsObject()) throw Error(ErrorKind::kConfig, path, "", "expected a JSON object");
  CheckKeys(root, {"dataset", "description", "license", "homepage", "hf", "sources", "splits", "notes"});
  DatasetManifest m;
  m.path = path;
  m.dataset = Str(root, "dataset", true);
  const auto& names = DatasetNames();
  if (std::find(names.begin(), names.end(), m.dataset) == names.end()) {
    root.FailAt("dataset", UnknownNameMessage("dataset", m.dataset, names));
  }
  m.license = Str(root, "license", true);
  m.homepage = Str(root, "homepage", false);
  const std::optional<JsonNode> hf = root.Find("hf");
  if (!hf || !hf->IsObject()) root.FailAt("hf", "missing (Hugging Face id + revision, for provenance)");
  CheckKeys(*hf, {"id", "config", "revision", "note"});
  m.hf_id = Str(*hf, "id", true);
  m.hf_config = Str(*hf, "config", false);
  m.hf_revision = Str(*hf, "revision", true);

  const std::optional<JsonNode> sources = root.Find("sources"), splits = root.Find("splits");
  if (!sources || !sources->IsArray()) root.FailAt("sources", "missing or not an array");
  if (!splits || !splits->IsArray()) root.FailAt("splits", "missing or not an array");
  std::set<std::string> ids;
  for (const JsonNode& s : sources->Items()) m.sources.push_back(ParseSource(s, &ids));
  std::set<std::string> seen_splits;
  for (const JsonNode& s : splits->Items()) m.splits.push_back(ParseSplit(s, m, ids, &seen_splits));
  if (m.splits.empty()) root.FailAt("splits", "expected at least one split");
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
