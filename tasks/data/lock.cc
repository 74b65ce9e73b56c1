#include "tasks/data/lock.h"

#include <memory>
#include <optional>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_read.h"
#include "engine/base/json_writer.h"

namespace doge::data {

std::string LockFile::PathFor(const std::string& dir) { return dir + "/doge-datasets.lock.json"; }

LockFile LockFile::Load(const std::string& dir) {
  LockFile lock;
  lock.path_ = PathFor(dir);
  if (!FileExists(lock.path_)) return lock;
  const std::unique_ptr<JsonDocument> doc =
      LoadJsonFile(lock.path_, ErrorKind::kDataset, "invalid JSON");
  const JsonNode root = doc->root();
  const std::optional<JsonNode> entries = root.IsObject() ? root.Find("entries") : std::nullopt;
  if (!entries || !entries->IsObject()) root.FailAt("entries", "missing or not an object");
  for (const auto& [key, value] : entries->Members()) {
    LockEntry e;
    const std::optional<JsonNode> sha = value.IsObject() ? value.Find("sha256") : std::nullopt;
    if (!sha || !sha->IsString() || sha->StringView().size() != 64) {
      value.FailAt("sha256", "missing or not a 64-digit hex SHA-256");
    }
    e.sha256 = sha->String();
    // bytes, count and url are optional; doge writes them with these types.
    if (auto n = value.FindValue("bytes")) e.bytes = n->Int();
    if (auto n = value.FindValue("count")) e.count = n->Int();
    if (auto url = value.FindValue("url")) e.url = url->String();
    lock.entries_[key] = e;
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
