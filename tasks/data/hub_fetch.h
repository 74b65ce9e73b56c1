// `doge model fetch ORG/NAME [--revision R]`: downloads what the engine needs of a hub model
// (config, generation config, safetensors weights incl. the sharded index, tokenizer files) into
// the Hugging Face cache in huggingface_hub's layout (engine/base/hub_cache.h), so transformers and
// doge share one copy.
//
// The protocol, as huggingface_hub speaks it (file_download.py / hf_api.py):
//   GET  {endpoint}/api/models/{repo}/revision/{rev}   -> {"sha": commit, "siblings": [{"rfilename"}]}
//   HEAD {endpoint}/{repo}/resolve/{commit}/{file}     (Accept-Encoding: identity; relative
//        redirects followed, an absolute one (the CDN) not): X-Repo-Commit, X-Linked-Etag (LFS:
//        the SHA-256) else ETag (W/ and quotes stripped), X-Linked-Size else Content-Length
//   GET  the same URL, redirects followed, into blobs/<etag>.incomplete (resumed with Range),
//        renamed to blobs/<etag>; snapshots/<commit>/<file> -> ../../blobs/<etag>; refs/<rev>.
// Every file is fetched at the one commit the API named. A file whose ETag is a SHA-256 (every
// LFS file: the weights) is hashed before it gets its final name and refused on mismatch; every
// file's size is checked against the size the hub announced. HF_TOKEN, when set, is sent as
// "Authorization: Bearer" to the endpoint (never to a redirect's other host).
#ifndef DOGE_TASKS_DATA_HUB_FETCH_H_
#define DOGE_TASKS_DATA_HUB_FETCH_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/data/fetch.h"

namespace doge::data {

struct HubFetchOptions {
  std::string repo_id;            // "SmallDoge/Doge-20M"
  std::string revision = "main";  // branch, tag or commit
  std::string endpoint;           // "" = $HF_ENDPOINT, else https://huggingface.co
  std::string cache_dir;          // "" = HubCacheDir()
  std::string token;              // "" = $HF_TOKEN (may stay empty)
  DownloadOptions download;
};

struct HubFetchedFile {
  std::string name;     // "model.safetensors"
  std::string etag;     // blob name
  int64_t bytes = 0;
  bool downloaded = false;  // false: the blob was already in the cache
  bool sha256_checked = false;
};

struct HubFetchResult {
  std::string commit;
  std::string snapshot_dir;  // <cache>/models--ORG--NAME/snapshots/<commit>
  std::vector<HubFetchedFile> files;
};

// The files of `siblings` (repo file names) the engine uses: config.json,
// generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
// tokenizer.model, model.safetensors.index.json and every top-level *.safetensors. Sorted.
std::vector<std::string> HubFilesToFetch(const std::vector<std::string>& siblings);

// What FetchHubModel reads of the hub's answers, as functions of the bytes alone (so that
// fuzz/fuzz_hub_responses.cc reaches them without a server).
struct HubModelInfo {
  std::string commit;              // "sha": the commit the revision names now
  std::vector<std::string> files;  // HubFilesToFetch of the siblings' "rfilename"s
};
// The model-info API answer. Throws Error(kNetwork, api, field, ...) for anything but a JSON
// object with a 40-hex-digit "sha" and a "siblings" array, for a key given twice with different
// values, and for an unsafe file name (absolute, "..", empty component); Error(kDataset, api,
// "siblings", ...) when it lists no config.json or no *.safetensors (nothing doge could fetch).
HubModelInfo ParseHubModelInfo(const std::string& body, const std::string& api, const std::string& repo,
                               const std::string& revision);

struct HubFileMeta {
  std::string commit;    // X-Repo-Commit
  std::string etag;      // X-Linked-Etag, else ETag; W/ and quotes stripped; the blob's name
  std::string location;  // Location (a redirect's target)
  int64_t size = -1;     // X-Linked-Size, else Content-Length; -1 when neither
};
// One header line as libcurl hands it over ("Name: value\r\n") into `headers` (lower-case names);
// a status line ("HTTP/...") starts a new response and clears them.
void AddHubHeaderLine(std::string_view line, std::map<std::string, std::string>* headers);
// The file metadata of a HEAD answer. Throws Error(kNetwork, url, "X-Repo-Commit" | "ETag", ...)
// when the commit or ETag is missing, or the ETag is not a plain blob name.
HubFileMeta ParseHubFileHeaders(const std::map<std::string, std::string>& headers, const std::string& url);

// Throws Error(kUsage) when HF_HUB_OFFLINE is set, Error(kNetwork, url, ...) for HTTP failures,
// Error(kDataset, url, "sha256"|"size", ...) for a download that does not match the hub's
// announcement (nothing is left under the blob's name).
HubFetchResult FetchHubModel(const HubFetchOptions& opt);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_HUB_FETCH_H_
