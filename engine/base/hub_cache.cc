#include "engine/base/hub_cache.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_read.h"

namespace doge {

namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// "~/x" -> "$HOME/x", as os.path.expanduser does for the variables huggingface_hub reads.
std::string ExpandUser(const std::string& p) {
  if (p.empty() || p[0] != '~') return p;
  if (p.size() > 1 && p[1] != '/') return p;  // ~user: left alone
  return Env("HOME") + p.substr(1);
}

bool ValidPart(const std::string& s) {
  if (s.empty() || s.size() > 96) return false;
  if (s[0] == '.' || s[0] == '-' || s.back() == '.' || s.back() == '-') return false;
  if (s.find("--") != std::string::npos || s.find("..") != std::string::npos) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t a = 0;
  while (a < s.size() && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  return s.substr(a);
}

}  // namespace

bool ParseHubModelId(const std::string& text, HubModelId* out) {
  std::string repo = text, revision = "main";
  const size_t at = text.find('@');
  if (at != std::string::npos) {
    repo = text.substr(0, at);
    revision = text.substr(at + 1);
    // A revision is a branch, tag or commit; it may contain '/' (refs/pr/1) but never "..".
    if (revision.empty() || revision.find("..") != std::string::npos || revision[0] == '/') return false;
  }
  const size_t slash = repo.find('/');
  if (slash == std::string::npos || repo.find('/', slash + 1) != std::string::npos) return false;
  if (!ValidPart(repo.substr(0, slash)) || !ValidPart(repo.substr(slash + 1))) return false;
  if (out) *out = HubModelId{repo, revision};
  return true;
}

std::string HubCacheDir() {
  for (const char* v : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}) {
    std::string d = Env(v);
    if (!d.empty()) return ExpandUser(d);
  }
  std::string home = Env("HF_HOME");
  if (home.empty()) {
    std::string xdg = Env("XDG_CACHE_HOME");
    home = (xdg.empty() ? ExpandUser("~/.cache") : ExpandUser(xdg)) + "/huggingface";
  }
  return ExpandUser(home) + "/hub";
}

bool HubOffline() {
  std::string v = Env("HF_HUB_OFFLINE");
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

std::string HubRepoFolder(const std::string& cache_dir, const std::string& repo_id) {
  std::string flat = repo_id;
  for (size_t i = flat.find('/'); i != std::string::npos; i = flat.find('/', i + 2)) flat.replace(i, 1, "--");
  return cache_dir + "/models--" + flat;
}

bool IsCommitHash(const std::string& s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

std::string ResolveHubSnapshot(const std::string& cache_dir, const HubModelId& id) {
  const std::string repo = HubRepoFolder(cache_dir, id.repo_id);
  if (IsCommitHash(id.revision) && IsDirectory(repo + "/snapshots/" + id.revision)) {
    return repo + "/snapshots/" + id.revision;
  }
  const std::string ref = repo + "/refs/" + id.revision;
  const std::string how = "; fetch it with `doge model fetch " + id.repo_id +
                          (id.revision == "main" ? "" : " --revision " + id.revision) +
                          "` (or point HF_HUB_CACHE / HF_HOME at the cache that has it)";
  if (!IsDirectory(repo)) {
    throw Error(ErrorKind::kIo, repo, "", "model '" + id.repo_id + "' is not a local folder and not in the Hugging Face cache " + cache_dir + how);
  }
  if (!FileExists(ref)) {
    throw Error(ErrorKind::kIo, repo, "refs/" + id.revision, "revision '" + id.revision + "' of " + id.repo_id + " is not in the cache" + how);
  }
  const std::string commit = Trim(ReadFileToString(ref));
  if (!IsCommitHash(commit)) {
    throw Error(ErrorKind::kFormat, ref, "", "expected a 40-hex-digit commit hash, found '" + commit.substr(0, 64) + "'");
  }
  const std::string snap = repo + "/snapshots/" + commit;
  if (!IsDirectory(snap)) {
    throw Error(ErrorKind::kIo, snap, "", "refs/" + id.revision + " points at commit " + commit + " but its snapshot folder is missing" + how);
  }
  return snap;
}

std::string ResolveModelPath(const std::string& model) {
  std::error_code ec;
  if (fs::exists(model, ec)) return model;  // a local path always wins
  HubModelId id;
  // Not a hub id: returned as given, so the loader's own error names the file it could not read.
  if (!ParseHubModelId(model, &id)) return model;
  return ResolveHubSnapshot(HubCacheDir(), id);
}

std::string ModelDisplayName(const std::string& model) {
  std::error_code ec;
  HubModelId id;
  if (!fs::exists(model, ec) && ParseHubModelId(model, &id)) return id.repo_id.substr(id.repo_id.find('/') + 1);
  fs::path p = fs::path(model).lexically_normal();
  std::string name = p.filename().string();
  if (name.empty()) name = p.parent_path().filename().string();
  return name;
}

std::vector<CachedModel> ListCachedModels(const std::string& cache_dir) {
  std::vector<CachedModel> out;
  std::error_code ec;
  if (!fs::is_directory(cache_dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(cache_dir, ec)) {
    const std::string dir = e.path().filename().string();
    if (dir.rfind("models--", 0) != 0 || !e.is_directory(ec)) continue;
    CachedModel m;
    std::string flat = dir.substr(8);
    const size_t sep = flat.find("--");
    if (sep == std::string::npos) continue;
    m.repo_id = flat.substr(0, sep) + "/" + flat.substr(sep + 2);
    const fs::path root = e.path();
    if (fs::is_directory(root / "refs", ec)) {
      for (const auto& r : fs::recursive_directory_iterator(root / "refs", ec)) {
        if (!r.is_regular_file(ec)) continue;
        std::string rev = r.path().lexically_relative(root / "refs").generic_string();
        m.refs[rev] = Trim(ReadFileToString(r.path().string()));
      }
    }
    if (fs::is_directory(root / "snapshots", ec)) {
      for (const auto& s : fs::directory_iterator(root / "snapshots", ec)) {
        if (fs::exists(s.path() / "config.json", ec)) m.snapshots.push_back(s.path().filename().string());
      }
    }
    std::sort(m.snapshots.begin(), m.snapshots.end());
    if (m.snapshots.empty()) continue;
    // model_type from the snapshot "main" points at when there is one, else the first listed.
    std::string snap = m.snapshots.front();
    auto main = m.refs.find("main");
    if (main != m.refs.end() && std::find(m.snapshots.begin(), m.snapshots.end(), main->second) != m.snapshots.end()) {
      snap = main->second;
    }
    const std::string cfg = (root / "snapshots" / snap / "config.json").string();
    try {
      const std::unique_ptr<JsonDocument> doc = LoadJsonFile(cfg, ErrorKind::kConfig);
      if (auto type = doc->root().Find("model_type"); type && type->IsString()) {
        m.model_type = type->String();
      }
    } catch (const Error&) {
      // A config that cannot be read (unreadable, malformed, a key given twice with different
      // values) lists with an empty model_type: the listing is not the place to refuse it.
    }
    if (fs::is_directory(root / "blobs", ec)) {
      for (const auto& b : fs::directory_iterator(root / "blobs", ec)) {
        const std::string n = b.path().filename().string();
        if (b.is_regular_file(ec) && n.find('.') == std::string::npos) m.blob_bytes += static_cast<int64_t>(b.file_size(ec));
      }
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const CachedModel& a, const CachedModel& b) { return a.repo_id < b.repo_id; });
  return out;
}

}  // namespace doge
