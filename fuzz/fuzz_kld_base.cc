// The saved-logits baseline `doge perplexity --kl-divergence-base FILE` reads (magic, JSON header,
// fixed-size records): the header, the compatibility check against a run, and every position
// record read and fed to the KL accumulator.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/perplexity.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string path = fuzz::WriteTemp("base.kld", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([&] {
    KldBaseReader reader(path);
    const KldBaseHeader& h = reader.header();
    fuzz::ExpectOnlyDogeErrors([&] { reader.CheckCompatible(h); });  // itself: must pass or name a field
    // The run's vocabulary is the baseline's (a real run refuses any other through
    // CheckCompatible); keep the scratch rows small so one input stays cheap.
    if (h.vocab_size <= 0 || h.vocab_size > (1 << 16)) return;
    std::vector<float> logits(static_cast<size_t>(h.vocab_size));
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i % 13) * 0.25f;
    KldAccumulator acc;
    KldBaseReader::Position p;
    for (int64_t i = 0; i < h.n_positions && i < 64; ++i) {
      reader.Read(i, &p);
      acc.Add(logits.data(), h.vocab_size, p);
    }
    (void)acc.Summarize();
  });
  return 0;
}
