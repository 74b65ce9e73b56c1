#include "tasks/data/fetch.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/progress.h"
#include "tasks/data/canonical.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"
#include "tasks/data/jsonl.h"
#include "tasks/data/lock.h"
#include "tasks/data/manifest.h"

namespace doge::data {

namespace {

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void EnsureCurlInit() {
  static bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// Owns a curl_slist of request headers for one transfer.
struct HeaderList {
  explicit HeaderList(const std::vector<std::string>& headers) {
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  }
  ~HeaderList() { curl_slist_free_all(list); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  curl_slist* list = nullptr;
};

bool RetryableStatus(long code) { return code == 408 || code == 429 || code >= 500; }

// State shared with the libcurl callbacks of one transfer.
struct Transfer {
  CURL* curl = nullptr;
  std::FILE* file = nullptr;  // download target (append mode), or null for memory
  std::string* memory = nullptr;
  int64_t offset = 0;         // bytes already on disk before this transfer (resume)
  bool checked_status = false;
  long status = 0;
  // Created once the size is known (Content-Length arrives with the headers), so the bar can
  // show percent and ETA; null when progress is off.
  std::unique_ptr<Progress> progress;
  std::string label;
  const DownloadOptions* opt = nullptr;
  bool write_failed = false;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (!t->checked_status) {
    t->checked_status = true;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
    // A server that ignores Range answers 200 with the whole file: start over.
    if (t->file && t->offset > 0 && t->status == 200) {
      if (std::fflush(t->file) != 0 || ::ftruncate(::fileno(t->file), 0) != 0) {
        t->write_failed = true;
        return 0;
      }
      std::fseek(t->file, 0, SEEK_SET);
      t->offset = 0;
    }
  }
  if (t->status >= 400) return bytes;  // an error page: discard, reported after the transfer
  if (t->memory) {
    t->memory->append(data, bytes);
    return bytes;
  }
  if (std::fwrite(data, 1, bytes, t->file) != bytes) {
    t->write_failed = true;
    return 0;
  }
  return bytes;
}

int OnProgress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->opt || !t->opt->log || t->status >= 400 || (dltotal <= 0 && dlnow <= 0)) return 0;
  if (!t->progress) {
    int64_t total = dltotal > 0 ? t->offset + dltotal : 0;
    t->progress = std::make_unique<Progress>(t->label, total, Progress::Unit::kBytes, "bytes", t->opt->log);
    if (t->opt->terminal >= 0) t->progress->set_terminal(t->opt->terminal == 1);
  }
  t->progress->Set(t->offset + dlnow);
  return 0;
}

void Backoff(const DownloadOptions& opt, int attempt, const std::string& url, const std::string& why) {
  int64_t wait = std::min<int64_t>(int64_t{opt.backoff_ms} << std::min(attempt, 15), 30000);
  if (opt.log) {
    std::fprintf(opt.log, "doge: %s: %s; retry %d/%d in %.1f s\n", url.c_str(), why.c_str(),
                 attempt + 1, opt.retries, wait / 1000.0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(wait));
}

void SetCommon(CURL* c, const DownloadOptions& opt, Transfer* t, const std::string& url) {
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(opt.connect_timeout_s));
  // Abort a stalled transfer (< 1 byte/s for low_speed_time_s); it is then retried/resumed.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(opt.low_speed_time_s));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "doge-data-fetch/1 (+libcurl)");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

std::string BaseName(const std::string& url) {
  std::string path = url.substr(0, url.find('?'));
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int64_t DownloadFile(const std::string& url, const std::string& dest, const DownloadOptions& opt) {
  EnsureCurlInit();
  std::string part = dest + opt.part_suffix;
  auto parent = std::filesystem::path(dest).parent_path();
  if (!parent.empty()) MakeDirs(parent.string());
  std::string last_error;
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) throw Error(ErrorKind::kInternal, url, "", "curl_easy_init failed");
    Transfer t;
    t.curl = curl.get();
    t.offset = std::max<int64_t>(FileSize(part), 0);
    t.file = std::fopen(part.c_str(), "ab");
    if (!t.file) throw Error(ErrorKind::kIo, part, "", std::string("cannot open: ") + std::strerror(errno));
    SetCommon(curl.get(), opt, &t, url);
    HeaderList headers(opt.headers);
    if (headers.list) curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.list);
    std::string range;
    if (t.offset > 0) {
      range = std::to_string(t.offset) + "-";
      curl_easy_setopt(curl.get(), CURLOPT_RANGE, range.c_str());
      if (opt.log) {
        std::fprintf(opt.log, "doge: resuming %s at byte %lld\n", url.c_str(), static_cast<long long>(t.offset));
      }
    }
    t.label = BaseName(url);
    t.opt = &opt;
    CURLcode res = curl_easy_perform(curl.get());
    bool close_ok = std::fclose(t.file) == 0;
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (t.write_failed || !close_ok) {
      throw Error(ErrorKind::kIo, part, "", std::string("write failed: ") + std::strerror(errno));
    }
    if (status == 416 && t.offset > 0) {
      // Range not satisfiable: the partial file is not a prefix of what the server has now.
      RemoveQuietly(part);
      last_error = "HTTP 416 on resume (partial file discarded)";
    } else if (status >= 400) {
      std::string what = "HTTP " + std::to_string(status);
      if (!RetryableStatus(status) || attempt >= opt.retries) {
        RemoveQuietly(part);
        throw Error(ErrorKind::kNetwork, url, what,
                    status == 404 ? "not found (is the manifest URL or the mirror right?)"
                                  : "request failed");
      }
      last_error = what;
    } else if (res == CURLE_OK) {
      if (t.progress) t.progress->Finish();
      if (opt.verify) {
        try {
          opt.verify(part);
        } catch (...) {
          RemoveQuietly(part);
          throw;
        }
      }
      if (std::rename(part.c_str(), dest.c_str()) != 0) {
        throw Error(ErrorKind::kIo, dest, "", std::string("cannot rename: ") + std::strerror(errno));
      }
      return FileSize(dest);
    } else {
      last_error = curl_easy_strerror(res);
    }
    if (attempt >= opt.retries) {
      throw Error(ErrorKind::kNetwork, url, "",
                  "download failed after " + std::to_string(attempt + 1) + " attempts: " + last_error +
                      " (the partial file " + part + " is kept; running fetch again resumes it)");
    }
    Backoff(opt, attempt, url, last_error);
  }
}

std::string HttpGet(const std::string& url, const DownloadOptions& opt) {
  EnsureCurlInit();
  std::string last_error;
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    Transfer t;
    std::string body;
    t.curl = curl.get();
    t.memory = &body;
    SetCommon(curl.get(), opt, &t, url);
    HeaderList headers(opt.headers);
    if (headers.list) curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.list);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 1L);
    CURLcode res = curl_easy_perform(curl.get());
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status >= 400) {
      std::string what = "HTTP " + std::to_string(status);
      if (!RetryableStatus(status) || attempt >= opt.retries) {
        throw Error(ErrorKind::kNetwork, url, what, status == 404 ? "not found" : "request failed");
      }
      last_error = what;
    } else if (res == CURLE_OK) {
      return body;
    } else {
      last_error = curl_easy_strerror(res);
    }
    if (attempt >= opt.retries) {
      throw Error(ErrorKind::kNetwork, url, "", "request failed after " + std::to_string(attempt + 1) +
                                                    " attempts: " + last_error);
    }
    Backoff(opt, attempt, url, last_error);
  }
}

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

// True when `path` stays inside the extraction folder: relative, no ".." component.
bool SafeEntryPath(const std::string& path) {
  if (path.empty() || path[0] == '/' || path[0] == '\\') return false;
  if (path.size() >= 2 && path[1] == ':') return false;  // C:\...
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find_first_of("/\\", i);
    if (j == std::string::npos) j = path.size();
    if (path.compare(i, j - i, "..") == 0 && j - i == 2) return false;
    i = j + 1;
  }
  return true;
}

bool MemberMatches(const std::string& entry, const std::string& member) {
  return entry == member ||
         (entry.size() > member.size() && entry.compare(entry.size() - member.size(), member.size(), member) == 0 &&
          entry[entry.size() - member.size() - 1] == '/');
}

}  // namespace

std::map<std::string, std::string> ExtractMembers(const std::string& archive_path,
                                                  const std::vector<std::string>& members,
                                                  const std::string& out_dir) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw Error(ErrorKind::kDataset, archive_path, "", std::string("cannot open archive: ") + archive_error_string(a.get()));
  }
  std::map<std::string, std::string> found;
  archive_entry* entry;
  while (true) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      throw Error(ErrorKind::kDataset, archive_path, "", std::string("corrupt archive: ") + archive_error_string(a.get()));
    }
    const char* raw = archive_entry_pathname(entry);
    std::string name = raw ? raw : "";
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    if (!SafeEntryPath(name)) {
      throw Error(ErrorKind::kDataset, archive_path, name,
                  "archive entry escapes the target directory (absolute path or '..'); archive rejected");
    }
    const char* link = archive_entry_symlink(entry);
    const char* hard = archive_entry_hardlink(entry);
    std::string wanted;
    for (const auto& m : members) {
      if (MemberMatches(name, m)) {
        if (found.count(m)) {
          throw Error(ErrorKind::kDataset, archive_path, name, "matches member '" + m + "' a second time");
        }
        wanted = m;
      }
    }
    if (wanted.empty()) continue;
    if (link || hard || archive_entry_filetype(entry) != AE_IFREG) {
      throw Error(ErrorKind::kDataset, archive_path, name, "expected a regular file, found a link or folder");
    }
    std::string out_path = out_dir + "/" + name;
    AtomicFileWriter w(out_path);
    const void* buf;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(a.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
      w.Write(std::string_view(static_cast<const char*>(buf), size));
    }
    if (r != ARCHIVE_EOF) {
      throw Error(ErrorKind::kDataset, archive_path, name, std::string("corrupt entry: ") + archive_error_string(a.get()));
    }
    w.Commit();
    found[wanted] = out_path;
  }
  for (const auto& m : members) {
    if (!found.count(m)) throw Error(ErrorKind::kDataset, archive_path, m, "member not found in the archive");
  }
  return found;
}

namespace {

// Checks `sha` (of a file of `bytes` bytes) against what is expected of it: the manifest's full
// value, else the lock file's first-use record, plus any documented truncated prefix/suffix.
// `field` names the manifest field for errors. Returns normally when it passes.
void CheckSha(const std::string& manifest, const std::string& field, const Sha256Spec& spec,
              const LockEntry* locked, const std::string& lock_path, const std::string& what,
              const std::string& sha) {
  if (spec.known() && spec.value != sha) {
    throw Error(ErrorKind::kDataset, manifest, field + ".value",
                "checksum mismatch for " + what + ": expected " + spec.value + ", got " + sha);
  }
  if (!spec.prefix.empty() && sha.compare(0, spec.prefix.size(), spec.prefix) != 0) {
    throw Error(ErrorKind::kDataset, manifest, field + ".prefix",
                "checksum mismatch for " + what + ": expected " + spec.prefix + "..., got " + sha);
  }
  if (!spec.suffix.empty() &&
      (sha.size() < spec.suffix.size() || sha.compare(sha.size() - spec.suffix.size(), spec.suffix.size(), spec.suffix) != 0)) {
    throw Error(ErrorKind::kDataset, manifest, field + ".suffix",
                "checksum mismatch for " + what + ": expected ..." + spec.suffix + ", got " + sha);
  }
  if (!spec.known() && locked && locked->sha256 != sha) {
    throw Error(ErrorKind::kDataset, lock_path, "entries",
                "checksum mismatch for " + what + ": first fetch recorded " + locked->sha256 + ", got " + sha +
                    " (upstream changed or the download is corrupt; delete the lock entry to accept it)");
  }
}

class Fetcher {
 public:
  Fetcher(const FetchOptions& opt, const DatasetManifest& m, LockFile* lock)
      : opt_(opt), m_(m), lock_(lock) {
    dl_dir_ = opt.dir + "/.downloads/" + m.dataset;
    lock_path_ = LockFile::PathFor(opt.dir);
  }

  std::vector<ImportedFile> Run() {
    std::vector<ImportedFile> out;
    try {
      for (size_t i = 0; i < m_.splits.size(); ++i) {
        auto files = FetchSplit(m_.splits[i], "splits[" + std::to_string(i) + "]");
        out.insert(out.end(), files.begin(), files.end());
      }
    } catch (...) {
      RemoveQuietly(dl_dir_ + "/staging");  // extracted members and half-converted splits
      throw;
    }
    RemoveQuietly(dl_dir_ + "/staging");
    return out;
  }

 private:
  std::string SourceField(const std::string& id) const {
    for (size_t i = 0; i < m_.sources.size(); ++i) {
      if (m_.sources[i].id == id) return "sources[" + std::to_string(i) + "].sha256";
    }
    return "sources";
  }

  // Downloads (or reuses a verified cached copy of) a file source; returns its local path.
  std::string LocalSource(const std::string& id) {
    auto it = local_.find(id);
    if (it != local_.end()) return it->second;
    const ManifestSource& src = m_.Source(id);
    std::string url = RewriteUrlHost(src.url, opt_.base_url);
    std::string dest = dl_dir_ + "/" + id + "__" + BaseName(src.url);
    std::string key = m_.dataset + ":" + id;
    const LockEntry* locked = lock_->Find(key);
    auto verify = [&](const std::string& path) {
      std::string sha = Sha256File(path);
      int64_t bytes = FileSize(path);
      if (src.bytes >= 0 && bytes != src.bytes) {
        throw Error(ErrorKind::kDataset, m_.path, SourceField(id).substr(0, SourceField(id).size() - 7) + ".bytes",
                    "expected " + std::to_string(src.bytes) + " bytes from " + url + ", got " + std::to_string(bytes));
      }
      CheckSha(m_.path, SourceField(id), src.sha256, locked, lock_path_, url, sha);
      return std::make_pair(sha, bytes);
    };
    bool cached = false;
    if (FileExists(dest) && !opt_.force) {
      try {
        verify(dest);
        cached = (src.sha256.known() || locked);  // only trust a cache we can check
      } catch (const Error&) {
        cached = false;
      }
      if (!cached) RemoveQuietly(dest);
    }
    if (!cached) {
      if (opt_.force) RemoveQuietly(dest + ".part");
      DownloadFile(url, dest, opt_.download);
    }
    std::pair<std::string, int64_t> got;
    try {
      got = verify(dest);
    } catch (const Error&) {
      RemoveQuietly(dest);  // a corrupt download must not survive to look valid
      throw;
    }
    if (!locked) lock_->Set(key, LockEntry{got.first, got.second, -1, url});
    local_[id] = dest;
    return dest;
  }

  // Extracts `members` of archive source `id` (once per archive) and returns member -> path.
  std::map<std::string, std::string> Members(const std::string& id, const std::vector<std::string>& members) {
    std::string archive = LocalSource(id);
    std::string out_dir = dl_dir_ + "/staging/" + id + ".extract." + std::to_string(++extract_seq_);
    return ExtractMembers(archive, members, out_dir);
  }

  void CheckMember(const std::string& field, const Sha256Spec& spec, const std::string& id,
                   const std::string& member, const std::string& path) {
    std::string key = m_.dataset + ":" + id + ":" + member;
    std::string sha = Sha256File(path);
    const LockEntry* locked = lock_->Find(key);
    CheckSha(m_.path, field, spec, locked, lock_path_, member, sha);
    if (!locked) lock_->Set(key, LockEntry{sha, FileSize(path), -1, ""});
  }

  // Moves a staged canonical file into place after its count and hash check out.
  ImportedFile Publish(const ImportedFile& staged, const ManifestSplit& sp, const std::string& where,
                       const std::string& subject) {
    int64_t expected = subject.empty() ? sp.count : ExpectedCount(m_, sp.split, subject);
    std::string final_path = SplitPath(opt_.dir, m_.dataset, sp.split, subject);
    // A fetch that fetched nothing is not a success, --allow-count-mismatch or not: an empty
    // split would make every task on it fail later with a less useful message.
    if (staged.rows == 0) {
      RemoveQuietly(staged.path);
      throw Error(ErrorKind::kDataset, m_.path, where + (subject.empty() ? "" : ".subject_counts." + subject),
                  "the source gave no documents for " + final_path + " (nothing written)");
    }
    if (expected >= 0 && expected != staged.rows) {
      std::string msg = "expected " + std::to_string(expected) + " documents, converted " +
                        std::to_string(staged.rows) + " for " + final_path;
      if (!opt_.allow_count_mismatch) {
        RemoveQuietly(staged.path);
        throw Error(ErrorKind::kDataset, m_.path, where + (subject.empty() ? ".count" : ".subject_counts." + subject),
                    msg + " (nothing written; --allow-count-mismatch to accept)");
      }
      if (opt_.download.log) std::fprintf(opt_.download.log, "doge: warning: %s (allowed)\n", msg.c_str());
    }
    std::string key = subject.empty() ? m_.dataset + "/" + sp.split : m_.dataset + "/" + subject + "/" + sp.split;
    const LockEntry* locked = lock_->Find(key);
    // The whole-split canonical hash is only pinned for non-mmlu splits (mmlu has 57 files).
    Sha256Spec spec = subject.empty() ? sp.canonical_sha256 : Sha256Spec{};
    try {
      CheckSha(m_.path, where + ".canonical_sha256", spec, locked, lock_path_, final_path, staged.sha256);
    } catch (const Error&) {
      RemoveQuietly(staged.path);
      throw;
    }
    MakeDirs(std::filesystem::path(final_path).parent_path().string());
    if (std::rename(staged.path.c_str(), final_path.c_str()) != 0) {
      throw Error(ErrorKind::kIo, final_path, "", std::string("cannot rename: ") + std::strerror(errno));
    }
    lock_->Set(key, LockEntry{staged.sha256, -1, staged.rows, ""});
    ImportedFile f = staged;
    f.path = final_path;
    return f;
  }

  std::string StagingPath(const std::string& split, const std::string& subject) {
    return dl_dir_ + "/staging/" + (subject.empty() ? "" : subject + "/") + split + ".jsonl";
  }

  std::vector<ImportedFile> FetchSplit(const ManifestSplit& sp, const std::string& where) {
    if (opt_.download.log) std::fprintf(opt_.download.log, "doge: %s %s\n", m_.dataset.c_str(), sp.split.c_str());
    if (sp.format == "triviaqa_hf_rows") return {Publish(FetchHfRows(sp, where), sp, where, "")};
    const ManifestSource& src = m_.Source(sp.source);
    bool archive = src.kind != "file";
    std::vector<ImportedFile> out;
    const DatasetAdapter& adapter = FindDatasetAdapter(m_.dataset);
    std::vector<std::string> subjects = adapter.per_subject() ? adapter.subjects() : std::vector<std::string>{""};
    // Member names (mmlu: one per subject) and the local data/labels files.
    std::vector<std::string> members;
    for (const auto& s : subjects) {
      std::string mem = sp.member;
      size_t at = mem.find("{subject}");
      if (at != std::string::npos) mem.replace(at, 9, s);
      members.push_back(mem);
    }
    std::map<std::string, std::string> paths;
    std::string labels_path;
    if (archive) {
      std::vector<std::string> wanted = members;
      if (!sp.labels_member.empty()) wanted.push_back(sp.labels_member);
      paths = Members(sp.source, wanted);
      for (const auto& mem : members) CheckMember(where + ".member_sha256", sp.member_sha256, sp.source, mem, paths[mem]);
      if (!sp.labels_member.empty()) {
        labels_path = paths[sp.labels_member];
        CheckMember(where + ".labels_sha256", sp.labels_sha256, sp.source, sp.labels_member, labels_path);
      }
    } else {
      paths[members[0]] = LocalSource(sp.source);
    }
    if (!sp.labels_source.empty()) labels_path = LocalSource(sp.labels_source);
    for (size_t i = 0; i < subjects.size(); ++i) {
      ImportedFile staged = ConvertOriginal(sp.format, paths[members[i]], labels_path,
                                            StagingPath(sp.split, subjects[i]), subjects[i]);
      out.push_back(Publish(staged, sp, where, subjects[i]));
    }
    return out;
  }

  // TriviaQA rc.nocontext through the dataset viewer's rows API: GET
  // <url>?dataset=..&config=..&split=..&offset=..&length=.. -> {"rows":[{"row_idx","row"}],
  // "num_rows_total"}; pages are requested until num_rows_total rows have arrived in order.
  ImportedFile FetchHfRows(const ManifestSplit& sp, const std::string& where) {
    const ManifestSource& src = m_.Source(sp.source);
    auto esc = [](const std::string& s) {
      std::string out;
      for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out.push_back(static_cast<char>(c));
        } else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", c);
          out += buf;
        }
      }
      return out;
    };
    std::string base = RewriteUrlHost(src.url, opt_.base_url) + "?dataset=" + esc(src.hf_dataset) +
                       "&config=" + esc(src.hf_config) + "&split=" + esc(src.hf_split);
    std::string staged_path = StagingPath(sp.split, "");
    AtomicFileWriter writer(staged_path);
    std::string buf;
    int64_t total = -1, next = 0;
    std::unique_ptr<Progress> progress;
    while (total < 0 || next < total) {
      std::string url = base + "&offset=" + std::to_string(next) + "&length=" + std::to_string(src.page_length);
      std::string body = HttpGet(url, opt_.download);
      const std::unique_ptr<JsonDocument> doc =
          ParseJsonText(url, body, ErrorKind::kNetwork, "invalid JSON from the rows API");
      // The rows are data: a bad field is the dataset's error, named with the page's URL.
      const JsonOrigin rows_origin{url, ErrorKind::kDataset, 0};
      const JsonRow page(&rows_origin, doc->root_element, "");
      int64_t page_total = page.GetInt("num_rows_total");
      if (total < 0) {
        total = page_total;
        progress = std::make_unique<Progress>(m_.dataset + " " + sp.split, total, Progress::Unit::kCount, "rows",
                                              opt_.download.log ? opt_.download.log : stderr);
        if (opt_.download.terminal >= 0) progress->set_terminal(opt_.download.terminal == 1);
      } else if (page_total != total) {
        page.FailAt("num_rows_total", "changed from " + std::to_string(total) + " to " + std::to_string(page_total) + " between pages");
      }
      std::vector<JsonRow> rows = page.GetObjectArray("rows");
      if (rows.empty() && next < total) page.FailAt("rows", "empty page at offset " + std::to_string(next));
      for (const JsonRow& r : rows) {
        int64_t idx = r.GetInt("row_idx");
        if (idx != next) r.FailAt("row_idx", "expected " + std::to_string(next) + ", found " + std::to_string(idx));
        // The API abbreviates very large cells; a truncated row must not be hashed as data.
        if (auto truncated = r.Find("truncated_cells"); truncated && truncated->IsArray() && truncated->Size() > 0) {
          r.FailAt("truncated_cells", "the rows API truncated row " + std::to_string(idx) + "; cannot convert it faithfully");
        }
        TriviaqaDoc d = ParseTriviaqaRow(r.GetObject("row"));
        AppendCanonicalRow(buf, d);
        ++next;
      }
      writer.Write(buf);
      buf.clear();
      if (progress && opt_.download.log) progress->Set(next);
    }
    if (progress && opt_.download.log) progress->Finish();
    writer.Commit();
    (void)where;
    return ImportedFile{staged_path, "", next, Sha256File(staged_path)};
  }

  const FetchOptions& opt_;
  const DatasetManifest& m_;
  LockFile* lock_;
  std::string dl_dir_, lock_path_;
  std::map<std::string, std::string> local_;
  int extract_seq_ = 0;
};

}  // namespace

std::vector<ImportedFile> FetchDatasets(const FetchOptions& in) {
  FetchOptions opt = in;
  if (opt.dir.empty()) opt.dir = DefaultDataDir();
  if (opt.manifest_dir.empty()) opt.manifest_dir = DefaultManifestDir();
  std::vector<std::string> datasets = opt.datasets.empty() ? DatasetNames() : opt.datasets;
  // Validate every name and manifest before downloading anything (fail early).
  std::vector<DatasetManifest> manifests;
  for (const auto& d : datasets) manifests.push_back(LoadDatasetManifest(opt.manifest_dir, d));
  MakeDirs(opt.dir);
  LockFile lock = LockFile::Load(opt.dir);
  std::vector<ImportedFile> out;
  for (const auto& m : manifests) {
    Fetcher f(opt, m, &lock);
    std::vector<ImportedFile> files;
    try {
      files = f.Run();
    } catch (...) {
      lock.Save();  // keep the verified records of what did succeed
      throw;
    }
    lock.Save();
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

}  // namespace doge::data
