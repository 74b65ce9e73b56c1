// The canonical JSONL split files (tasks/data/documents.h) that `doge eval` loads and
// `doge data verify` re-validates, for each of the eight datasets. The first input byte picks
// the dataset (modulo DatasetNames()); the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "tasks/data/canonical.h"
#include "tasks/data/documents.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  if (size == 0) return 0;
  const auto& names = data::DatasetNames();
  const std::string dataset = names[data[0] % names.size()];
  const std::string path = fuzz::WriteTemp("split.jsonl", fuzz::AsText(data + 1, size - 1));
  fuzz::ExpectOnlyDogeErrors([&] {
    if (data::ValidateCanonicalFile(dataset, path) < 0) __builtin_trap();
  });
  return 0;
}
