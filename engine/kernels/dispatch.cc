// OptimizedKernels(): the per-ISA kernel sets and the run-time choice between them
// (engine/base/kernel_isa.h), plus the ISA-independent pieces: the packed weight layout and the
// kernels' scratch buffers.
#include <cstdlib>
#include <cstring>
#include <memory>

#include "engine/base/error.h"
#include "engine/base/kernel_isa.h"
#include "engine/kernels/kernel_internal.h"
#include "engine/kernels/kernel_set.h"
#include "engine/kernels/q8.h"
#include "engine/safetensors.h"

namespace doge {

namespace {

// The packed layout (kernel_set.h) of a [rows, cols] matrix whose element (r, k) is at(r, k):
// blocks of kPackRows rows, k-major, rows past the end zero.
template <typename T, typename At>
void PackBlocks(int64_t rows, int64_t cols, At at, T* packed) {
  const int64_t n_blocks = (rows + kPackRows - 1) / kPackRows;
  for (int64_t b = 0; b < n_blocks; ++b) {
    T* dst = packed + b * kPackRows * cols;
    for (int64_t j = 0; j < kPackRows; ++j) {
      const int64_t r = b * kPackRows + j;
      for (int64_t k = 0; k < cols; ++k) dst[k * kPackRows + j] = r < rows ? at(r, k) : T{0};
    }
  }
}

}  // namespace

float* KernelScratch(int slot, size_t n) {
  struct Buffer {
    std::unique_ptr<float, decltype(&std::free)> data{nullptr, &std::free};
    size_t size = 0;
  };
  static thread_local Buffer buffers[kKernelScratchSlots];
  DOGE_CHECK(slot >= 0 && slot < kKernelScratchSlots);
  Buffer& b = buffers[slot];
  if (b.size < n) {
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    DOGE_CHECK(p != nullptr);
    b.data.reset(p);
    b.size = n;
  }
  return b.data.get();
}

int64_t PackedTypeBytes(PackedType type) {
  return type == PackedType::kF32 ? 4 : type == PackedType::kQ8 ? 1 : 2;
}

const char* PackedTypeName(PackedType type) {
  switch (type) {
    case PackedType::kF32:
      return "f32";
    case PackedType::kBF16:
      return "bf16";
    case PackedType::kF16:
      return "f16";
    case PackedType::kQ8:
      return "q8";
  }
  return "?";
}

int64_t PackedWeightFloats(int64_t rows, int64_t cols) {
  return (rows + kPackRows - 1) / kPackRows * kPackRows * cols;
}

void PackWeights(const float* w, int64_t rows, int64_t cols, float* packed) {
  PackBlocks(rows, cols, [&](int64_t r, int64_t k) { return w[r * cols + k]; }, packed);
}

void PackWeights16(const void* w, int64_t rows, int64_t cols, uint16_t* packed) {
  // Byte copies: a safetensors tensor need not be 2-byte aligned in the mapping.
  const char* src = static_cast<const char*>(w);
  PackBlocks(
      rows, cols,
      [&](int64_t r, int64_t k) {
        uint16_t v;
        std::memcpy(&v, src + 2 * (r * cols + k), 2);
        return v;
      },
      packed);
}

PackedWeights PackedFromBlock(PackedWeights packed, int64_t cols, int64_t b0) {
  if (packed.data == nullptr) return packed;
  const int64_t bytes = packed.type == PackedType::kQ8
                            ? Q8PackedBytes(b0 * kPackRows, cols)
                            : b0 * kPackRows * cols * PackedTypeBytes(packed.type);
  packed.data = static_cast<const char*>(packed.data) + bytes;
  return packed;
}

void UnpackRow(PackedWeights packed, int64_t cols, int64_t r, float* out) {
  if (packed.type == PackedType::kQ8) {
    UnpackQ8Row(packed.data, cols, r, out);
    return;
  }
  const int64_t at = (r / kPackRows) * kPackRows * cols + r % kPackRows;
  const auto* h = static_cast<const uint16_t*>(packed.data) + at;
  switch (packed.type) {
    case PackedType::kF32: {
      const float* f = static_cast<const float*>(packed.data) + at;
      for (int64_t k = 0; k < cols; ++k) out[k] = f[k * kPackRows];
      break;
    }
    case PackedType::kBF16:
      for (int64_t k = 0; k < cols; ++k) out[k] = Bf16ToFloat(h[k * kPackRows]);
      break;
    case PackedType::kF16:
      for (int64_t k = 0; k < cols; ++k) out[k] = F16ToFloat(h[k * kPackRows]);
      break;
    case PackedType::kQ8:
      break;  // above
  }
}

const KernelSet& OptimizedKernelsFor(KernelIsa isa) {
  if (!KernelIsaAvailable(isa)) {
    ParseAvailableKernelIsa(KernelIsaName(isa), "kernel ISA");  // throws, saying why
  }
  switch (isa) {
#ifdef DOGE_KERNEL_ISA_AVX512
    case KernelIsa::kAvx512:
      return avx512::OptimizedKernelSet();
#endif
#ifdef DOGE_KERNEL_ISA_AVX2
    case KernelIsa::kAvx2:
      return avx2::OptimizedKernelSet();
#endif
    default:
      return portable::OptimizedKernelSet();
  }
}

const KernelSet& OptimizedKernels() {
  static const KernelSet& active = OptimizedKernelsFor(ActiveKernelIsa());
  return active;
}

}  // namespace doge
