#include "tasks/data/lock.h"

#include <simdjson.h>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_duplicate_keys.h"
#include "engine/base/json_writer.h"

namespace doge::data {

std::string LockFile::PathFor(const std::string& dir) { return dir + "/doge-datasets.lock.json"; }

LockFile LockFile::Load(const std::string& dir) {
  LockFile lock;
  lock.path_ = PathFor(dir);
  if (!FileExists(lock.path_)) return lock;
  std::string text = ReadFileToString(lock.path_);
  simdjson::dom::parser parser;
  simdjson::dom::element root, entries;
  if (auto err = parser.parse(text).get(root)) {
    throw Error(ErrorKind::kDataset, lock.path_, "", std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  CheckDuplicateKeys(root, ErrorKind::kDataset, lock.path_);
  if (root["entries"].get(entries) != simdjson::SUCCESS || !entries.is_object()) {
    throw Error(ErrorKind::kDataset, lock.path_, "entries", "missing or not an object");
  }
  for (auto [key, value] : simdjson::dom::object(entries)) {
    LockEntry e;
    std::string_view sha;
    if (value["sha256"].get(sha) != simdjson::SUCCESS || sha.size() != 64) {
      throw Error(ErrorKind::kDataset, lock.path_, "entries." + std::string(key) + ".sha256",
                  "missing or not a 64-digit hex SHA-256");
    }
    e.sha256 = std::string(sha);
    int64_t n;
    if (value["bytes"].get(n) == simdjson::SUCCESS) e.bytes = n;
    if (value["count"].get(n) == simdjson::SUCCESS) e.count = n;
    std::string_view url;
    if (value["url"].get(url) == simdjson::SUCCESS) e.url = std::string(url);
    lock.entries_[std::string(key)] = e;
  }
  return lock;
}

const LockEntry* LockFile::Find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void LockFile::Save() const {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Field("comment",
          "Trust-on-first-use SHA-256s recorded by `doge data fetch` (datasets-manifest/README.md). "
          "Delete an entry to accept a new upstream file.");
  w.Field("version", 1);
  w.Key("entries").BeginObject();
  for (const auto& [key, e] : entries_) {
    w.Key(key).BeginObject();
    w.Field("sha256", e.sha256);
    if (e.bytes >= 0) w.Field("bytes", e.bytes);
    if (e.count >= 0) w.Field("count", e.count);
    if (!e.url.empty()) w.Field("url", e.url);
    w.EndObject();
  }
  w.EndObject().EndObject();
  WriteFileAtomic(path_, w.str() + "\n");
}

}  // namespace doge::data
