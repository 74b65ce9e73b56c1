// tokenizer_config.json beside a valid tokenizer.json (the bundled synthetic 512-token one), as
// LoadTokenizer reads a model folder: bos/eos token names (strings or AddedToken objects),
// clean_up_tokenization_spaces, model_max_length beyond 64 bits and the rest.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/base/file_util.h"
#include "engine/tokenizer/tokenizer.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_probe.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace doge;
  fuzz::WriteTemp("tokenizer.json",
                  ReadFileToString(std::string(DOGE_FUZZ_SOURCE_DIR) + "/tests/data/tiny-model/tokenizer.json"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  fuzz::WriteTemp("tokenizer_config.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([] { fuzz::ProbeTokenizer(*LoadTokenizer(fuzz::TempDir())); });
  return 0;
}
