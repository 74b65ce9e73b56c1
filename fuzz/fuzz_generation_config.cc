// generation_config.json as LoadGenerationConfig reads a model folder, then the processors it
// enables run on a few rows of logits (prompt and generated tokens chosen to hit repeats,
// n-grams and out-of-range ids).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/generation_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  fuzz::WriteTemp("generation_config.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([] {
    LoadedGenerationConfig g = LoadGenerationConfig(fuzz::TempDir());
    g.config.eos_token_id = 2;
    constexpr int64_t kVocab = 16;
    const std::vector<int32_t> prompt = {1, 5, 9, 5, 9, 3, -1, 15};
    std::vector<int32_t> generated;
    for (int step = 0; step < 4; ++step) {
      std::vector<float> logits(kVocab);
      for (int64_t i = 0; i < kVocab; ++i) logits[i] = static_cast<float>((i * 7) % 11) - 5.0f;
      ApplyGenerationConfig(g.config, prompt, generated, logits.data(), kVocab);
      generated.push_back(step % 2 == 0 ? 5 : 9);
    }
  });
  return 0;
}
