// A checkpoint's config.json, as LoadConfig reads it (required keys, types, model family,
// value ranges, rope_scaling, big numbers in unused fields).
#include <cstddef>
#include <cstdint>

#include "engine/config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  fuzz::WriteTemp("config.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([] {
    DogeConfig c = LoadConfig(fuzz::TempDir());
    // A config that loads has been validated: the derived sizes the model allocates from exist.
    (void)c.head_dim();
  });
  return 0;
}
