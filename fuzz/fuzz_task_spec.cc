// A task spec (tasks/specs/<protocol>/<task>.json), as ParseTaskSpec reads it: fields, templates,
// choices, samplers, metrics, stop sequences.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "tasks/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string json(fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([&] {
    tasks::TaskSpec spec = tasks::ParseTaskSpec(json, "tasks/specs/card-a/fuzz.json");
    (void)spec.ReportedMetrics();
  });
  return 0;
}
