// A sentencepiece tokenizer.model (serialized ModelProto), as LoadTokenizer reads it. The proto
// parsing itself is libsentencepiece's (not instrumented, so libFuzzer sees no coverage inside
// it); what is fuzzed is that whatever it accepts or rejects reaches us as a doge::Error or a
// tokenizer that encodes and decodes without fault.
#include <cstddef>
#include <cstdint>

#include "engine/tokenizer/tokenizer.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string path = fuzz::WriteTemp("tokenizer.model", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([&] { fuzz::ProbeTokenizer(*LoadTokenizer(path)); });
  return 0;
}
