// `--ids` lists (doge logits, generate, detokenize) and the other comma lists of the CLI, as
// ParseIntList / ParseStringList read them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "tasks/cli/commands.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string text(fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([&] { (void)cli::ParseIntList("--ids", text); });
  (void)cli::ParseStringList(text);
  return 0;
}
