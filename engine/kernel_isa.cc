#include "engine/kernel_isa.h"

#include <cstdlib>

#include "engine/error.h"

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

bool CpuRuns(KernelIsa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  switch (isa) {
    case KernelIsa::kPortable:
      return true;
    // The -march levels the kernels are compiled for; libgcc's check includes the OS saving the
    // AVX / AVX-512 register state (XGETBV).
    case KernelIsa::kAvx2:
      return __builtin_cpu_supports("x86-64-v3");
    case KernelIsa::kAvx512:
      return __builtin_cpu_supports("x86-64-v4");
  }
  return false;
#else
  return isa == KernelIsa::kPortable;
#endif
}

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

bool KernelIsaAvailable(KernelIsa isa) { return Compiled(isa) && CpuRuns(isa); }

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
    if (!CpuRuns(isa)) {
      throw Error(ErrorKind::kUsage, "", field,
                  "this CPU cannot run the '" + name + "' kernels (needs " +
                      (isa == KernelIsa::kAvx512 ? "x86-64-v4: AVX-512 F/BW/DQ/VL"
                                                 : "x86-64-v3: AVX2, FMA, BMI2") +
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
