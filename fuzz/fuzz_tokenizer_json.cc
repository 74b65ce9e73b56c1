// tokenizer.json (Hugging Face `tokenizers`), as LoadTokenizer reads a model folder: added
// tokens, normalizer, pre-tokenizer regexes, BPE vocab and merges, post-processor, decoder.
#include <cstddef>
#include <cstdint>

#include "engine/tokenizer/tokenizer.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  fuzz::WriteTemp("tokenizer.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([] { fuzz::ProbeTokenizer(*LoadTokenizer(fuzz::TempDir())); });
  return 0;
}
