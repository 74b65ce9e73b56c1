// Per-ISA inner loops of the peak probes (peak_probe_isa.cc, compiled once per instruction set).
#ifndef DOGE_BENCHMARKS_PEAK_PROBE_ISA_H_
#define DOGE_BENCHMARKS_PEAK_PROBE_ISA_H_

#include <cstdint>

namespace doge {

#define DOGE_PROBE_ISA_DECLS                                                                    \
  /* "avx512f", "avx2+fma", "sse2 (mul+add)" or "scalar": what the loops below run. */          \
  const char* ProbeIsaName();                                                                   \
  /* Runs `iters` iterations of independent FMA chains in registers; returns flops done. The */ \
  /* three values are read at run time so the compiler cannot fold the chains. */               \
  double FmaChains(int64_t iters, float fma_init, float fma_mul, float fma_add,                 \
                   volatile float& sink);                                                       \
  /* Sums n floats (n a multiple of 64, p 64-byte aligned), limited by loads. */                \
  float ReadSum(const float* p, int64_t n);

namespace portable {
DOGE_PROBE_ISA_DECLS
}
namespace avx2 {
DOGE_PROBE_ISA_DECLS
}
namespace avx512 {
DOGE_PROBE_ISA_DECLS
}

#undef DOGE_PROBE_ISA_DECLS

}  // namespace doge

#endif  // DOGE_BENCHMARKS_PEAK_PROBE_ISA_H_
