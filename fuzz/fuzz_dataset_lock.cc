// <data dir>/doge-datasets.lock.json, as LockFile::Load reads it (fetch and verify trust it).
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "tasks/data/lock.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  fuzz::WriteTemp("doge-datasets.lock.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([] {
    data::LockFile lock = data::LockFile::Load(fuzz::TempDir());
    for (const auto& [key, entry] : lock.entries()) (void)lock.Find(key);
  });
  return 0;
}
