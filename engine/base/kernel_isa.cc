#include "engine/base/kernel_isa.h"

#include <cstdlib>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

#include "engine/base/error.h"

namespace doge {

namespace {

// Set by engine/CMakeLists.txt for each ISA whose kernels are linked into the binary.
constexpr bool Compiled(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kPortable:
      return true;
    case KernelIsa::kAvx2:
#ifdef DOGE_KERNEL_ISA_AVX2
      return true;
#else
      return false;
#endif
    case KernelIsa::kAvx512:
#ifdef DOGE_KERNEL_ISA_AVX512
      return true;
#else
      return false;
#endif
  }
  return false;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// What the CPU and the OS offer, read with CPUID and XGETBV directly. GCC's
// __builtin_cpu_supports("x86-64-v3") is not understood by clang 14, and the two compilers'
// builtins know different feature names, so both builds ask the hardware the same way.
struct X86Features {
  bool v3 = false;  // x86-64-v3 (-march=x86-64-v3: what the avx2 kernels are compiled for)
  bool v4 = false;  // x86-64-v4 (-march=x86-64-v4: the avx512 kernels)
};

X86Features ReadX86Features() {
  X86Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
  const unsigned max_leaf = a;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const unsigned c1 = c, d1 = d;
  auto bit = [](unsigned reg, int i) { return ((reg >> i) & 1u) != 0; };
  // x86-64-v2: CMPXCHG16B, LAHF/SAHF (checked below), POPCNT, SSE3, SSE4.1, SSE4.2, SSSE3.
  const bool v2 = bit(c1, 13) && bit(c1, 23) && bit(c1, 0) && bit(c1, 19) && bit(c1, 20) &&
                  bit(c1, 9) && bit(d1, 26);
  const bool osxsave = bit(c1, 27);
  if (!osxsave || max_leaf < 7) return f;
  // XCR0: bit 1 SSE, bit 2 AVX (YMM upper halves); bits 5-7 AVX-512 opmask and ZMM state.
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_ymm = (xcr0_lo & 0x6u) == 0x6u;
  const bool os_zmm = os_ymm && (xcr0_lo & 0xE0u) == 0xE0u;
  unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0;
  __cpuid_count(7, 0, a7, b7, c7, d7);
  unsigned a81 = 0, b81 = 0, c81 = 0, d81 = 0;
  const bool lahf_lzcnt = __get_cpuid(0x80000001, &a81, &b81, &c81, &d81) && bit(c81, 0) &&
                          bit(c81, 5);  // LAHF/SAHF in 64-bit mode, LZCNT (ABM)
  // x86-64-v3 adds AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE (and OS support of YMM).
  f.v3 = v2 && os_ymm && lahf_lzcnt && bit(c1, 28) /*AVX*/ && bit(b7, 5) /*AVX2*/ &&
         bit(b7, 3) /*BMI1*/ && bit(b7, 8) /*BMI2*/ && bit(c1, 29) /*F16C*/ &&
         bit(c1, 12) /*FMA*/ && bit(c1, 22) /*MOVBE*/;
  // x86-64-v4 adds AVX-512 F, BW, CD, DQ, VL (and OS support of the opmask and ZMM state).
  f.v4 = f.v3 && os_zmm && bit(b7, 16) /*AVX512F*/ && bit(b7, 30) /*BW*/ && bit(b7, 28) /*CD*/ &&
         bit(b7, 17) /*DQ*/ && bit(b7, 31) /*VL*/;
  return f;
}
#endif

}  // namespace

bool CpuRunsKernelIsa(KernelIsa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const X86Features features = ReadX86Features();
  switch (isa) {
    case KernelIsa::kPortable:
      return true;
    case KernelIsa::kAvx2:
      return features.v3;
    case KernelIsa::kAvx512:
      return features.v4;
  }
  return false;
#else
  return isa == KernelIsa::kPortable;
#endif
}

namespace {

constexpr KernelIsa kAll[] = {KernelIsa::kPortable, KernelIsa::kAvx2, KernelIsa::kAvx512};

}  // namespace

const char* KernelIsaName(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kPortable:
      return "portable";
    case KernelIsa::kAvx2:
      return "avx2";
    case KernelIsa::kAvx512:
      return "avx512";
  }
  return "?";
}

bool KernelIsaAvailable(KernelIsa isa) { return Compiled(isa) && CpuRunsKernelIsa(isa); }

std::vector<KernelIsa> AvailableKernelIsas() {
  std::vector<KernelIsa> out;
  for (KernelIsa isa : kAll) {
    if (KernelIsaAvailable(isa)) out.push_back(isa);
  }
  return out;
}

KernelIsa ParseAvailableKernelIsa(const std::string& name, const std::string& field) {
  for (KernelIsa isa : kAll) {
    if (name != KernelIsaName(isa)) continue;
    if (!Compiled(isa)) {
      throw Error(
          ErrorKind::kUsage, "", field,
          "kernel ISA '" + name + "' is not compiled into this binary (not an x86-64 build)");
    }
    if (!CpuRunsKernelIsa(isa)) {
      throw Error(ErrorKind::kUsage, "", field,
                  "this CPU cannot run the '" + name + "' kernels (needs " +
                      (isa == KernelIsa::kAvx512 ? "x86-64-v4: AVX-512 F/BW/CD/DQ/VL"
                                                 : "x86-64-v3: AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE") +
                      ")");
    }
    return isa;
  }
  throw Error(ErrorKind::kUsage, "", field,
              "expected portable, avx2 or avx512, found '" + name + "'");
}

KernelIsa ActiveKernelIsa() {
  static const KernelIsa active = [] {
    const char* env = std::getenv("DOGE_KERNEL_ISA");
    if (env != nullptr && *env != '\0') return ParseAvailableKernelIsa(env, "DOGE_KERNEL_ISA");
    return AvailableKernelIsas().back();
  }();
  return active;
}

}  // namespace doge
