// `doge data fetch`: downloads what datasets-manifest/ lists (libcurl: redirects, retries with
// exponential backoff, resume of partial files with Range, connect/low-speed timeouts, a
// progress line), verifies SHA-256s (manifest value, else the lock file, else the truncated
// prefix/suffix the docs quote, then records the digest: trust on first use), extracts the
// needed archive members with libarchive (rejecting any entry whose path would escape the target
// folder), converts each split to canonical JSONL and records its hash and count in the lock.
//
// Atomicity: a download lives in <dir>/.downloads/<dataset>/<name>.part until it is complete and
// verified, then is renamed; canonical files are written with AtomicFileWriter. An interrupted
// or corrupted fetch therefore never leaves a file that looks valid.
#ifndef DOGE_TASKS_DATA_FETCH_H_
#define DOGE_TASKS_DATA_FETCH_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tasks/data/import.h"

namespace doge::data {

struct DownloadOptions {
  int retries = 5;             // attempts after the first
  int backoff_ms = 1000;       // first wait; doubles each retry (capped at 30 s)
  int connect_timeout_s = 30;
  int low_speed_time_s = 60;   // abort (and retry) when under 1 byte/s for this long
  std::FILE* log = stderr;     // progress and retry messages
  int terminal = -1;           // progress style: -1 isatty(log), 0 plain lines, 1 redraw
  // Extra request headers ("Authorization: Bearer ..."); libcurl sends Authorization only to the
  // first host, never across a redirect to another one.
  std::vector<std::string> headers;
  std::string part_suffix = ".part";  // the partial file is dest + part_suffix (hub: ".incomplete")
  // Called on the complete partial file before it is renamed to dest; a throw removes it (so a
  // file that fails its hash never appears under its final name) and is rethrown.
  std::function<void(const std::string& part_path)> verify;
};

// Downloads `url` to `dest` (resuming `dest`.part when it exists). Returns the bytes written.
// HTTP >= 400 throws Error(kNetwork, url, "HTTP <code>", ...) naming the URL; 408/429/5xx and
// transport errors are retried.
int64_t DownloadFile(const std::string& url, const std::string& dest, const DownloadOptions& opt);

// GET `url` into memory (for the rows API), with the same retries.
std::string HttpGet(const std::string& url, const DownloadOptions& opt);

// Extracts the archive entries whose paths match `members` (exactly, or as a "/"-suffix:
// "ARC-Easy/ARC-Easy-Test.jsonl" matches "ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl") into
// `out_dir`. Every entry's path is checked first: an absolute path or a ".." component
// (an entry escaping `out_dir`) rejects the whole archive with Error(kDataset, archive, entry).
// Links are never created. Returns member -> extracted file; a member not found is an error.
std::map<std::string, std::string> ExtractMembers(const std::string& archive,
                                                  const std::vector<std::string>& members,
                                                  const std::string& out_dir);

struct FetchOptions {
  std::string dir;           // data directory (DefaultDataDir() by default)
  std::string manifest_dir;  // DefaultManifestDir() by default
  std::string base_url;      // mirror: replaces scheme://host of every URL ($DOGE_DATA_MIRROR)
  std::vector<std::string> datasets;  // empty: all eight
  bool allow_count_mismatch = false;
  bool force = false;  // download again even when a verified copy is cached
  DownloadOptions download;
};

// Fetches, verifies, converts. Returns the canonical files written.
std::vector<ImportedFile> FetchDatasets(const FetchOptions& opt);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_FETCH_H_
