// Canonical JSONL round trip, the property fetch/import and the lock-file hashes rely on: whatever
// a loader accepts, written back with AppendCanonicalRow, must load again (no doge::Error) and be
// written back to the same bytes. The first input byte picks the dataset (as canonical_jsonl,
// whose seeds it shares); the rest is the split file the loader (LoadArc, LoadPiqa, ...) reads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/file_util.h"
#include "fuzz/fuzz_util.h"
#include "tasks/data/canonical.h"
#include "tasks/data/documents.h"

namespace {

using namespace doge;

// Loads <root>/<dataset>/test.jsonl (mmlu: the anatomy subject) and writes it back canonically.
std::string LoadAndWrite(const std::string& dataset, const std::string& root) {
  std::string out;
  const std::string split = "test";
  if (dataset == "arc_easy" || dataset == "arc_challenge") {
    for (const auto& d : data::LoadArc(root, dataset, split)) data::AppendCanonicalRow(out, d, false);
  } else if (dataset == "openbookqa") {
    for (const auto& d : data::LoadOpenBookQa(root, split)) data::AppendCanonicalRow(out, d, true);
  } else if (dataset == "piqa") {
    for (const auto& d : data::LoadPiqa(root, split)) data::AppendCanonicalRow(out, d);
  } else if (dataset == "hellaswag") {
    for (const auto& d : data::LoadHellaswag(root, split)) data::AppendCanonicalRow(out, d);
  } else if (dataset == "winogrande") {
    for (const auto& d : data::LoadWinogrande(root, split)) data::AppendCanonicalRow(out, d);
  } else if (dataset == "mmlu") {
    for (const auto& d : data::LoadMmlu(root, "anatomy", split)) data::AppendCanonicalRow(out, d);
  } else if (dataset == "triviaqa") {
    for (const auto& d : data::LoadTriviaqa(root, split)) data::AppendCanonicalRow(out, d);
  } else {
    __builtin_trap();
  }
  return out;
}

std::string RelPath(const std::string& root, const std::string& dataset) {
  return data::SplitPath(root, dataset, "test", "anatomy");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const std::string& dataset : data::DatasetNames()) {
    for (const char* root : {"a", "b"}) {
      MakeDirs(fuzz::TempDir() + "/" + RelPath(root, dataset).substr(0, RelPath(root, dataset).rfind('/')));
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& names = data::DatasetNames();
  const std::string dataset = names[data[0] % names.size()];
  fuzz::WriteTemp(RelPath("a", dataset), fuzz::AsText(data + 1, size - 1));
  std::string first;
  bool loaded = false;
  fuzz::ExpectOnlyDogeErrors([&] {
    first = LoadAndWrite(dataset, fuzz::TempDir() + "/a");
    loaded = true;
  });
  if (!loaded) return 0;
  // From here a doge::Error is a finding too: the canonical writer produced a file we reject.
  fuzz::WriteTemp(RelPath("b", dataset), first);
  const std::string second = LoadAndWrite(dataset, fuzz::TempDir() + "/b");
  if (second != first) __builtin_trap();
  return 0;
}
