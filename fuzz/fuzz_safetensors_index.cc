// model.safetensors.index.json (sharded checkpoints) beside one valid shard, as TensorSet::Open
// reads it: weight_map names, shard file names (which must not escape the folder), coverage.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/safetensors.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace doge;
  // A small valid shard with two tensors the index can (or cannot) point at.
  static const float a[4] = {1, 2, 3, 4};
  static const float b[2] = {5, 6};
  std::vector<TensorToWrite> tensors = {{"model.embed_tokens.weight", DType::kF32, {2, 2}, a},
                                        {"model.norm.weight", DType::kF32, {2}, b}};
  WriteSafetensors(fuzz::TempDir() + "/model-00001-of-00001.safetensors", tensors);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  fuzz::WriteTemp("model.safetensors.index.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([] {
    auto set = TensorSet::Open(fuzz::TempDir());
    volatile uint8_t sink = 0;
    for (const auto& [name, view] : set->all()) {
      if (view->n_bytes > 0) sink = sink + view->data[0] + view->data[view->n_bytes - 1];
    }
  });
  return 0;
}
