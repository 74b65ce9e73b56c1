// Shared by the per-ISA builds of engine/kernels/optimized.cc and engine/kernels/dispatch.cc.
// Not part of the KernelSet interface.
//
// optimized.cc is compiled once per instruction set with DOGE_KERNEL_NS set to the ISA's name; each
// build defines doge::<ns>::OptimizedKernelSet(). Those builds must not emit weak (COMDAT)
// definitions of inline or template functions that other translation units also use (std::vector,
// std::min, <cmath>'s inline overloads ...): the linker keeps one copy of each, and if it kept an
// AVX-512 one, the portable path would run AVX-512 instructions. So optimized.cc calls only its
// own internal-linkage helpers, C library functions and the functions below, and the test
// engine_kernel_isa_symbols checks the object files for it.
#ifndef DOGE_ENGINE_KERNELS_KERNEL_INTERNAL_H_
#define DOGE_ENGINE_KERNELS_KERNEL_INTERNAL_H_

#include <cstddef>
#include <cstdint>

#include "engine/kernels/kernel_set.h"

namespace doge {

// A per-calling-thread buffer of at least n floats, 64-byte aligned; grows, never shrinks, so a
// warm forward pass allocates nothing. Each slot in [0, kKernelScratchSlots) is an independent
// buffer.
inline constexpr int kKernelScratchSlots = 6;
float* KernelScratch(int slot, size_t n);

// The optimized set's selection kernels (KernelSet::topk_mask, moe_route), shared by every ISA:
// branches and sorting, nothing to vectorise (select.cc).
void SelectTopkMask(float* mask, int64_t n, int64_t keep, float* scratch);
void SelectMoeRoute(const float* scores, int64_t K, int64_t top, float* scratch, int32_t* iscratch,
                    int32_t* experts, float* weights);

namespace portable {
const KernelSet& OptimizedKernelSet();
}
namespace avx2 {
const KernelSet& OptimizedKernelSet();
}
namespace avx512 {
const KernelSet& OptimizedKernelSet();
}

}  // namespace doge

#endif  // DOGE_ENGINE_KERNELS_KERNEL_INTERNAL_H_
