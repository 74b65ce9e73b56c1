// <dir>/doge-datasets.lock.json: trust-on-first-use checksums. Where the manifest cannot know a
// SHA-256 (the docs quote only truncated ones), the first verified fetch records the digest of
// every downloaded file and of every canonical split it wrote; later fetches and `doge data
// verify` must match it. Written atomically (engine/base/file_util.h), keys sorted, so it diffs well.
#ifndef DOGE_TASKS_DATA_LOCK_H_
#define DOGE_TASKS_DATA_LOCK_H_

#include <cstdint>
#include <map>
#include <string>

namespace doge::data {

struct LockEntry {
  std::string sha256;
  int64_t bytes = -1;  // downloads: size; splits: -1
  int64_t count = -1;  // splits: documents; downloads: -1
  std::string url;     // downloads: where it came from (after any mirror rewrite)
};

class LockFile {
 public:
  // Loads <dir>/doge-datasets.lock.json if it exists (a malformed file is an error).
  static LockFile Load(const std::string& dir);
  static std::string PathFor(const std::string& dir);

  // "arc_easy:arc_zip" for downloads, "arc_easy/test" / "mmlu/anatomy/test" for splits.
  const LockEntry* Find(const std::string& key) const;
  void Set(const std::string& key, const LockEntry& e) { entries_[key] = e; }
  void Save() const;  // atomic
  const std::map<std::string, LockEntry>& entries() const { return entries_; }

 private:
  std::string path_;
  std::map<std::string, LockEntry> entries_;
};

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_LOCK_H_
