// Benchmark JSON as the report commands read it: `doge bench e2e|eval` row arrays and Google
// Benchmark's kernel JSON, through schema detection, the readers, `doge report machines` and
// `doge report compare` (the file against itself, --force) with their renderers.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "reports/src/bench_rows.h"
#include "reports/src/compare.h"
#include "reports/src/machines.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace doge;
  const std::string path = fuzz::WriteTemp("bench.json", fuzz::AsText(data, size));
  fuzz::ExpectOnlyDogeErrors([&] { (void)reports::DetectBenchSchema(path); });
  fuzz::ExpectOnlyDogeErrors([&] { (void)reports::LoadBenchRows(path, ""); });
  fuzz::ExpectOnlyDogeErrors([&] { (void)reports::LoadKernelBench(path); });
  fuzz::ExpectOnlyDogeErrors([&] {
    reports::MachinesReport report = reports::BuildMachinesReport({path});
    (void)reports::RenderMachinesMarkdown(report);
    (void)reports::RenderMachinesJson(report);
    (void)reports::RenderMachinesHtml(report);
  });
  fuzz::ExpectOnlyDogeErrors([&] {
    reports::CompareOptions options;
    options.base_file = path;
    options.new_file = path;
    options.force = true;
    reports::CompareReport report = reports::CompareRuns(options);
    (void)reports::RenderCompareMarkdown(report);
    (void)reports::RenderCompareJson(report);
  });
  return 0;
}
