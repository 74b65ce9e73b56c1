// Which instruction set the optimized kernels run with. The kernels are compiled once per ISA
// (engine/CMakeLists.txt: portable, avx2 = x86-64-v3, avx512 = x86-64-v4) and one of them is
// chosen at run time, so the portable binary the README builds is as fast as a -march=native one
// on every machine, and the tests exercise the widest path the test machine has.
//
// Choice: the environment variable DOGE_KERNEL_ISA (portable | avx2 | avx512) when set, else the
// widest ISA this binary has code for and this CPU and OS run. It is read once per process.
#ifndef DOGE_ENGINE_BASE_KERNEL_ISA_H_
#define DOGE_ENGINE_BASE_KERNEL_ISA_H_

#include <string>
#include <vector>

namespace doge {

enum class KernelIsa { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

const char* KernelIsaName(KernelIsa isa);  // "portable" | "avx2" | "avx512"

// This CPU and OS run code compiled for `isa`'s -march level (CPUID feature bits and XGETBV),
// whether or not the binary has kernels for it.
bool CpuRunsKernelIsa(KernelIsa isa);

// Compiled into this binary and runnable here (CPUID and the OS's saved register state).
bool KernelIsaAvailable(KernelIsa isa);
// The available ones, narrowest first (always starts with kPortable).
std::vector<KernelIsa> AvailableKernelIsas();

// Parses an ISA name; throws doge::Error (kUsage) naming `field` and the accepted names, or
// saying why this machine or binary cannot run it.
KernelIsa ParseAvailableKernelIsa(const std::string& name, const std::string& field);

// DOGE_KERNEL_ISA when set (throws doge::Error naming the variable when it is not available),
// else the widest available ISA.
KernelIsa ActiveKernelIsa();

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_KERNEL_ISA_H_
