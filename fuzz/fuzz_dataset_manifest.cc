// datasets-manifest/<dataset>.json (also a user's $DOGE_DATASETS_MANIFEST), as LoadManifest
// validates it: sources, splits, formats, counts, SHA-256 specs, mmlu subject counts.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "tasks/data/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string path = fuzz::WriteTemp("piqa.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([&] {
    data::DatasetManifest m = data::LoadManifest(path);
    for (const auto& split : m.splits) {
      (void)m.Source(split.source);
      (void)data::ExpectedCount(m, split.split, "");
    }
  });
  return 0;
}
