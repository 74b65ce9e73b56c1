// Models named by Hugging Face hub id (`SmallDoge/Doge-20M`, `SmallDoge/Doge-20M@main`), found in
// the cache exactly as huggingface_hub lays it out, so transformers and doge share one copy:
//
//   $HF_HUB_CACHE (else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
//   ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub)
//     models--ORG--NAME/
//       refs/<revision>              a file holding the commit hash the revision pointed to
//       blobs/<etag>                 file contents, named by the hub's ETag (SHA-256 for LFS files,
//                                    the git blob SHA-1 otherwise); <etag>.incomplete while downloading
//       snapshots/<commit>/<file>    relative symlinks to ../../blobs/<etag>
//
// ResolveModelPath() is the one place every command's model loading goes through (DogeModel::Load,
// LoadConfig, LoadTokenizer and the CLI call it): a local path that exists always wins; anything
// else that reads as ORG/NAME[@REVISION] is looked up in the cache, offline (no network, so
// HF_HUB_OFFLINE=1 changes nothing here). Fetching is tasks/data/hub_fetch.h.
#ifndef DOGE_ENGINE_BASE_HUB_CACHE_H_
#define DOGE_ENGINE_BASE_HUB_CACHE_H_

#include <map>
#include <string>
#include <vector>

namespace doge {

struct HubModelId {
  std::string repo_id;   // "SmallDoge/Doge-20M"
  std::string revision;  // "main" unless given after '@' (branch, tag or commit hash)
};

// Parses "ORG/NAME" or "ORG/NAME@REVISION" (ORG and NAME: letters, digits, '-', '_', '.'; not
// starting with '.' or '-'; no "--" or ".." as huggingface_hub's validate_repo_id refuses).
// Returns false for anything else (a path such as "./x", "/abs/dir" or "a/b/c").
bool ParseHubModelId(const std::string& text, HubModelId* out);

// The hub cache folder from the environment (see the header comment). Never empty.
std::string HubCacheDir();
// True when HF_HUB_OFFLINE is 1/ON/YES/TRUE (case-insensitive), as huggingface_hub reads it.
bool HubOffline();
// <cache>/models--ORG--NAME
std::string HubRepoFolder(const std::string& cache_dir, const std::string& repo_id);
// True for a full 40-hex-digit git commit hash.
bool IsCommitHash(const std::string& s);

// The snapshot folder of `id` in `cache_dir`: snapshots/<revision> when the revision is a commit
// hash present there, else snapshots/<contents of refs/<revision>>. Throws Error(kIo, <repo
// folder>, "refs/<revision>", ...) saying how to fetch it when it is not cached.
std::string ResolveHubSnapshot(const std::string& cache_dir, const HubModelId& id);

// `model` as given to --model: returned unchanged when it exists on disk or is not a hub id (the
// loader then reports the file it cannot open); else the hub id's snapshot folder in
// HubCacheDir(), or Error(kIo) saying it is not cached and how to fetch it.
std::string ResolveModelPath(const std::string& model);

// A short display name: NAME for a hub id ("Doge-20M"), else the folder's last component.
std::string ModelDisplayName(const std::string& model);

struct CachedModel {
  std::string repo_id;                       // "SmallDoge/Doge-20M"
  std::map<std::string, std::string> refs;   // revision -> commit
  std::vector<std::string> snapshots;        // commits with a config.json, sorted
  std::string model_type;                    // config.json's model_type of the newest listed snapshot
  int64_t blob_bytes = 0;                    // total size of blobs/ (complete files only)
};

// Every models--*--* repository in `cache_dir` whose snapshots hold a config.json, sorted by id.
// `doge model ls` filters on model_type "doge".
std::vector<CachedModel> ListCachedModels(const std::string& cache_dir);

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_HUB_CACHE_H_
