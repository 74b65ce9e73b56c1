// doge_kernels_bench: every kernel over the shared case table, reference and optimized sets, as
// Google Benchmarks (same as `doge bench kernels`). See benchmarks/kernel_benchmarks.h.
#include <cstdio>

#include "benchmarks/kernel_benchmarks.h"
#include "engine/base/error.h"

int main(int argc, char** argv) {
  try {
    return doge::RunKernelBenchmarks(argc, argv);
  } catch (const doge::Error& e) {
    std::fprintf(stderr, "doge_kernels_bench: error: %s\n", e.what());
    return doge::ExitCodeFor(e.kind());
  }
}
