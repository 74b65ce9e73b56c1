// What `doge model fetch` and `--model ORG/NAME` read from the hub and its cache: the input is the
// model-info API answer, then (after a NUL) the header block of a HEAD answer (one header per
// line, as libcurl hands them over), then a refs/main file, then a snapshot's config.json. The
// cache part goes through a hub-layout folder: ResolveHubSnapshot and ListCachedModels (what
// `doge model ls` prints).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "engine/base/file_util.h"
#include "engine/base/hub_cache.h"
#include "fuzz/fuzz_util.h"
#include "tasks/data/hub_fetch.h"

namespace {

constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";

// Part `i` of the input split at NUL bytes ("" when absent).
std::string_view Part(std::string_view text, int i) {
  for (int k = 0; k < i; ++k) {
    const size_t nul = text.find('\0');
    if (nul == std::string_view::npos) return {};
    text.remove_prefix(nul + 1);
  }
  return text.substr(0, text.find('\0'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string_view text = fuzz::AsText(data, size);
  const std::string api = "https://hub.example/api/models/Org/name/revision/main";
  fuzz::ExpectOnlyDogeErrors([&] {
    const data::HubModelInfo info = data::ParseHubModelInfo(std::string(Part(text, 0)), api, "Org/name", "main");
    if (!IsCommitHash(info.commit) || info.files.empty()) std::abort();  // promised by a success
  });

  std::map<std::string, std::string> headers;
  std::string_view block = Part(text, 1);
  while (!block.empty()) {
    const size_t nl = block.find('\n');
    const std::string line = std::string(block.substr(0, nl)) + "\r\n";
    data::AddHubHeaderLine(line, &headers);
    if (nl == std::string_view::npos) break;
    block.remove_prefix(nl + 1);
  }
  fuzz::ExpectOnlyDogeErrors([&] {
    const data::HubFileMeta meta = data::ParseHubFileHeaders(headers, "https://hub.example/Org/name/resolve/x");
    // The ETag names a file under blobs/: it must never be able to leave that folder.
    if (meta.etag.find('/') != std::string::npos || meta.etag.find("..") != std::string::npos) std::abort();
  });

  const std::string cache = fuzz::TempDir() + "/hub";
  const std::string repo = HubRepoFolder(cache, "Org/name");
  MakeDirs(repo + "/refs");
  MakeDirs(repo + "/snapshots/" + kCommit);
  fuzz::WriteTemp("hub/models--Org--name/refs/main", Part(text, 2));
  fuzz::WriteTemp(std::string("hub/models--Org--name/snapshots/") + kCommit + "/config.json", Part(text, 3));
  fuzz::ExpectOnlyDogeErrors([&] { (void)ResolveHubSnapshot(cache, HubModelId{"Org/name", "main"}); });
  fuzz::ExpectOnlyDogeErrors([&] { (void)ListCachedModels(cache); });
  return 0;
}
