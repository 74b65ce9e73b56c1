#include "tasks/data/hub_fetch.h"

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/hub_cache.h"
#include "engine/base/json_read.h"

namespace doge::data {

namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Percent-encodes everything but unreserved characters; `keep_slash` for file paths inside a
// repo (huggingface_hub quotes the revision with safe="" and the filename with safe="/").
std::string Quote(const std::string& s, bool keep_slash) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// huggingface_hub's _normalize_etag: drop a weak-validator prefix and the quotes.
std::string NormalizeEtag(std::string e) {
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

bool IsSha256Hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

// A blob name must stay a plain file name inside blobs/.
bool SafeEtag(const std::string& e) {
  return !e.empty() && e.size() <= 256 && std::all_of(e.begin(), e.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

// A repo file path: relative, no "..", no empty component.
bool SafeRepoPath(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\\') != std::string::npos) return false;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string part = p.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return true;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  AddHubHeaderLine(std::string_view(data, size * n), static_cast<std::map<std::string, std::string>*>(user));
  return size * n;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

struct HeadResult {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
};

std::string Origin(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

// One HEAD without following redirects, with a few retries on transport errors and 5xx.
HeadResult Head(const std::string& url, const std::vector<std::string>& extra, const DownloadOptions& opt) {
  std::string last;
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) throw Error(ErrorKind::kInternal, url, "", "curl_easy_init failed");
    HeadResult r;
    curl_slist* raw = curl_slist_append(nullptr, "Accept-Encoding: identity");
    for (const auto& h : extra) raw = curl_slist_append(raw, h.c_str());
    std::unique_ptr<curl_slist, SlistDeleter> list(raw);
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, static_cast<long>(opt.connect_timeout_s));
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "doge-model-fetch/1 (+libcurl)");
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    const CURLcode res = curl_easy_perform(curl.get());
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &r.status);
    if (res == CURLE_OK && r.status < 500) return r;
    last = res == CURLE_OK ? "HTTP " + std::to_string(r.status) : curl_easy_strerror(res);
    if (attempt >= std::min(opt.retries, 3)) {
      throw Error(ErrorKind::kNetwork, url, "", "HEAD failed after " + std::to_string(attempt + 1) + " attempts: " + last);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(opt.backoff_ms << attempt, 30000)));
  }
}

std::string HttpFailure(long status, const std::string& repo) {
  if (status == 401 || status == 403) {
    return "access denied (a private or gated repository needs HF_TOKEN with access to " + repo + ")";
  }
  if (status == 404) return "not found (check the repository id, the revision and HF_ENDPOINT)";
  return "request failed";
}

// huggingface_hub's get_hf_file_metadata: HEAD, relative redirects followed (a renamed repo),
// an absolute one (the CDN) answered by its own headers.
HubFileMeta HeadFile(const std::string& url, const std::string& repo, const std::vector<std::string>& auth,
                     const DownloadOptions& opt) {
  std::string at = url;
  for (int hops = 0; hops < 10; ++hops) {
    HeadResult r = Head(at, auth, opt);
    auto header = [&](const char* name) {
      auto it = r.headers.find(name);
      return it == r.headers.end() ? std::string() : it->second;
    };
    if (r.status >= 300 && r.status < 400) {
      const std::string loc = header("location");
      if (!loc.empty() && loc[0] == '/') {
        at = Origin(at) + loc;
        continue;
      }
    } else if (r.status >= 400) {
      throw Error(ErrorKind::kNetwork, at, "HTTP " + std::to_string(r.status), HttpFailure(r.status, repo));
    }
    return ParseHubFileHeaders(r.headers, at);
  }
  throw Error(ErrorKind::kNetwork, url, "Location", "more than 10 relative redirects");
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// snapshots/<commit>/<name> -> ../../blobs/<etag> (one more "../" per folder in `name`).
void LinkSnapshot(const std::string& repo_dir, const std::string& commit, const std::string& name,
                  const std::string& etag) {
  const fs::path link = fs::path(repo_dir) / "snapshots" / commit / name;
  MakeDirs(link.parent_path().string());
  std::string target = "../../";
  for (char c : name) target += c == '/' ? "../" : "";
  target += "blobs/" + etag;
  std::error_code ec;
  fs::remove(link, ec);
  fs::create_symlink(target, link, ec);
  if (ec) throw Error(ErrorKind::kIo, link.string(), "", "cannot create the snapshot link: " + ec.message());
}

}  // namespace

std::vector<std::string> HubFilesToFetch(const std::vector<std::string>& siblings) {
  static const char* kNamed[] = {"config.json",          "generation_config.json",  "tokenizer.json",
                                 "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                                 "model.safetensors.index.json"};
  std::vector<std::string> out;
  for (const std::string& s : siblings) {
    bool want = std::find(std::begin(kNamed), std::end(kNamed), s) != std::end(kNamed);
    want = want || (s.find('/') == std::string::npos && s.size() > 12 && s.compare(s.size() - 12, 12, ".safetensors") == 0);
    if (want) out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void AddHubHeaderLine(std::string_view line, std::map<std::string, std::string>* headers) {
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (after a 1xx)
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string value(line.substr(colon + 1));
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
    size_t a = 0;
    while (a < value.size() && std::isspace(static_cast<unsigned char>(value[a]))) ++a;
    (*headers)[Lower(std::string(line.substr(0, colon)))] = value.substr(a);
  }
}

HubFileMeta ParseHubFileHeaders(const std::map<std::string, std::string>& headers, const std::string& url) {
  auto header = [&](const char* name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  };
  HubFileMeta m;
  m.commit = header("x-repo-commit");
  m.etag = NormalizeEtag(!header("x-linked-etag").empty() ? header("x-linked-etag") : header("etag"));
  m.location = header("location");
  const std::string size = !header("x-linked-size").empty() ? header("x-linked-size") : header("content-length");
  if (!size.empty()) m.size = std::strtoll(size.c_str(), nullptr, 10);
  if (m.commit.empty()) {
    throw Error(ErrorKind::kNetwork, url, "X-Repo-Commit",
                "missing from the response: this server does not answer like the Hugging Face hub (check HF_ENDPOINT)");
  }
  if (m.etag.empty()) {
    throw Error(ErrorKind::kNetwork, url, "ETag", "missing from the response: cannot name the blob (check HF_ENDPOINT)");
  }
  if (!SafeEtag(m.etag)) throw Error(ErrorKind::kNetwork, url, "ETag", "unexpected value '" + m.etag.substr(0, 80) + "'");
  return m;
}

HubModelInfo ParseHubModelInfo(const std::string& body, const std::string& api, const std::string& repo,
                               const std::string& revision) {
  const std::unique_ptr<JsonDocument> doc =
      ParseJsonText(api, body, ErrorKind::kNetwork, "the model info is not JSON (check HF_ENDPOINT)");
  const JsonNode root = doc->root();
  if (!root.IsObject()) root.Fail("expected the model info object (check HF_ENDPOINT)");
  const std::optional<JsonNode> sha = root.Find("sha");
  if (!sha || !sha->IsString() || !IsCommitHash(sha->String())) {
    throw Error(ErrorKind::kNetwork, api, "sha", "expected the 40-hex-digit commit of revision '" + revision + "'");
  }
  HubModelInfo info;
  info.commit = sha->String();
  const std::optional<JsonNode> siblings = root.Find("siblings");
  if (!siblings || !siblings->IsArray()) {
    throw Error(ErrorKind::kNetwork, api, "siblings", "expected the list of the repository's files");
  }
  std::vector<std::string> names;
  for (const JsonNode& s : siblings->Items()) {
    // Entries without a file name are skipped, as the hub client does.
    if (!s.IsObject()) continue;
    if (auto f = s.Find("rfilename"); f && f->IsString()) names.push_back(f->String());
  }
  info.files = HubFilesToFetch(names);
  const bool has_weights = std::any_of(info.files.begin(), info.files.end(), [](const std::string& n) {
    return n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0;
  });
  if (std::find(info.files.begin(), info.files.end(), "config.json") == info.files.end() || !has_weights) {
    throw Error(ErrorKind::kDataset, api, "siblings",
                repo + "@" + revision + " has no config.json or no *.safetensors weights; doge reads safetensors only");
  }
  for (const std::string& name : info.files) {
    if (!SafeRepoPath(name)) throw Error(ErrorKind::kNetwork, api, "siblings", "unsafe file name '" + name + "'");
  }
  return info;
}

HubFetchResult FetchHubModel(const HubFetchOptions& in) {
  if (HubOffline()) {
    throw Error(ErrorKind::kUsage, "", "HF_HUB_OFFLINE",
                "is set: doge model fetch needs the network (unset it, or use a model already in the cache)");
  }
  HubModelId id;
  if (!ParseHubModelId(in.repo_id, &id) || in.repo_id.find('@') != std::string::npos) {
    throw Error(ErrorKind::kUsage, "", "model", "expected a hub id ORG/NAME, got '" + in.repo_id + "'");
  }
  const std::string repo = in.repo_id;
  const std::string revision = in.revision.empty() ? "main" : in.revision;
  std::string endpoint = !in.endpoint.empty() ? in.endpoint : Env("HF_ENDPOINT");
  if (endpoint.empty()) endpoint = "https://huggingface.co";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const std::string cache = in.cache_dir.empty() ? HubCacheDir() : in.cache_dir;
  const std::string token = !in.token.empty() ? in.token : Env("HF_TOKEN");
  std::vector<std::string> auth;
  if (!token.empty()) auth.push_back("Authorization: Bearer " + token);
  DownloadOptions dl = in.download;
  dl.headers.insert(dl.headers.end(), auth.begin(), auth.end());

  // 1. The commit the revision names now, and the repository's files at that commit.
  const std::string api = endpoint + "/api/models/" + repo + "/revision/" + Quote(revision, false);
  std::string body;
  try {
    body = HttpGet(api, dl);
  } catch (const Error& e) {
    const std::string f = e.field();
    long status = f.rfind("HTTP ", 0) == 0 ? std::strtol(f.c_str() + 5, nullptr, 10) : 0;
    if (status == 0) throw;
    throw Error(ErrorKind::kNetwork, api, f, HttpFailure(status, repo));
  }
  const HubModelInfo info = ParseHubModelInfo(body, api, repo, revision);
  const std::string& commit = info.commit;
  const std::vector<std::string>& wanted = info.files;

  // 2. Each file: metadata, blob (downloaded or already there), snapshot link.
  const std::string repo_dir = HubRepoFolder(cache, repo);
  MakeDirs(repo_dir + "/blobs");
  HubFetchResult result;
  result.commit = commit;
  result.snapshot_dir = repo_dir + "/snapshots/" + commit;
  for (const std::string& name : wanted) {
    const std::string url = endpoint + "/" + repo + "/resolve/" + commit + "/" + Quote(name, true);
    const HubFileMeta meta = HeadFile(url, repo, auth, dl);
    if (meta.commit != commit) {
      throw Error(ErrorKind::kNetwork, url, "X-Repo-Commit",
                  "expected " + commit + " (from " + api + "), got " + meta.commit);
    }
    HubFetchedFile f;
    f.name = name;
    f.etag = meta.etag;
    const std::string blob = repo_dir + "/blobs/" + meta.etag;
    const bool sha_etag = IsSha256Hex(meta.etag);
    auto check = [&](const std::string& path) {
      const int64_t got = FileSize(path);
      if (meta.size >= 0 && got != meta.size) {
        throw Error(ErrorKind::kDataset, url, "size",
                    "the hub announced " + std::to_string(meta.size) + " bytes, the download has " + std::to_string(got));
      }
      if (sha_etag) {
        const std::string h = Sha256File(path);
        if (h != meta.etag) {
          throw Error(ErrorKind::kDataset, url, "sha256",
                      "the hub announced " + meta.etag + ", the download hashes to " + h + "; refused");
        }
      }
    };
    if (FileExists(blob) && (meta.size < 0 || FileSize(blob) == meta.size)) {
      f.downloaded = false;  // shared with an earlier fetch (or transformers): trusted as huggingface_hub does
    } else {
      DownloadOptions one = dl;
      one.part_suffix = ".incomplete";
      one.verify = check;
      DownloadFile(url, blob, one);
      f.downloaded = true;
      f.sha256_checked = sha_etag;
    }
    f.bytes = FileSize(blob);
    LinkSnapshot(repo_dir, commit, name, meta.etag);
    result.files.push_back(f);
  }

  // 3. refs/<revision> -> commit (a revision that is itself the commit needs no ref).
  if (revision != commit) WriteFileAtomic(repo_dir + "/refs/" + revision, commit);
  return result;
}

}  // namespace doge::data
