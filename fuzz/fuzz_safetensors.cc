// model.safetensors from elsewhere: the 8-byte header length, the JSON header (dtypes, shapes,
// data_offsets) and the data section, as SafetensorsFile and TensorSet::Open read them.
#include <cstddef>
#include <cstdint>

#include "engine/safetensors.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  fuzz::WriteTemp("model.safetensors", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([] {
    auto set = TensorSet::Open(fuzz::TempDir());
    // Every view the loader accepted must lie inside the mapping: touch its first and last byte
    // (a view past the end faults; the sums keep the reads from being optimised away).
    volatile uint8_t sink = 0;
    for (const auto& [name, view] : set->all()) {
      if (view->n_bytes != view->numel() * DTypeSize(view->dtype)) __builtin_trap();
      if (view->n_bytes > 0) sink = sink + view->data[0] + view->data[view->n_bytes - 1];
    }
  });
  return 0;
}
