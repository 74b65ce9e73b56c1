// Int8 weights (PackedType::kQ8): symmetric per-block quantization, the kernels' packed q8 layout,
// activation quantization, and the scalar reference of the q8 matrix product (the twin every
// optimized q8 kernel must match bit for bit). ISA-independent; compiled once.
//
// The q8 product, the one definition every implementation follows. Weights: row r, block b of
// kQ8Block consecutive columns has int8 values q_w[r, k] in [-127, 127] and a float32 scale
// d_w[r, b]; its value is (float)q_w · d_w. Activations: each input row is quantized on the fly in
// the same blocks (QuantizeQ8Block), giving q_x[k], d_x[b]. Then
//   isum[r, b] = Σ_{k in block b} q_w[r, k] · q_x[k]        (exact, int32)
//   out[r]     = Σ_b (float)isum[r, b] · (d_w[r, b] · d_x[b])   (float32, b ascending, from 0.0f,
//                                                              separate multiply and add)
// so any implementation that sums the integers exactly and combines the blocks in this order gives
// the same bits, whatever its instructions (AVX2 vpmaddubsw, AVX-512 VNNI vpdpbusd, scalar) or its
// thread count; decode (one row) and prefill (many) rows are the same computation.
#ifndef DOGE_ENGINE_KERNELS_Q8_H_
#define DOGE_ENGINE_KERNELS_Q8_H_

#include <cstdint>

namespace doge {

// Columns per scale. 32, as GGML's Q8_0: a block's scale adapts to the local range (per-weight
// error ≤ d/2 with d = max|w in block| / 127), and 32 int8 columns times 4 k-steps is exactly one
// vpdpbusd/vpmaddubsw pass per 32-row panel. A float32 scale per 32 weights costs 1/8 byte per
// weight (1.125 bytes/weight, vs Q8_0's 1.0625 with f16 scales); a larger block would save
// part of that 11% of the stream but widen the error bound with the block's range.
inline constexpr int64_t kQ8Block = 32;
// Blocks of a row of `cols` columns (the last one zero-padded).
int64_t Q8Blocks(int64_t cols);

// Quantizes n <= kQ8Block values: d = max|x| / 127 (float32), q[i] = round-half-even(x[i] / d)
// (IEEE division, so SIMD division gives the same bits), 0 when d == 0; q[n..kQ8Block) = 0.
// Returns d. |x[i] - q[i]·d| <= d · (1/2 + 2^-16) (the division's rounding adds at most 127·2^-24).
float QuantizeQ8Block(const float* x, int64_t n, int8_t* q);

// A row-major [rows, cols] float matrix to int8 values [rows, cols] and scales [rows, Q8Blocks].
void QuantizeQ8Matrix(const float* w, int64_t rows, int64_t cols, int8_t* q, float* scales);

// The kernels' layout of a q8 matrix: rows in panels of 32 (kPackRows), each panel a sequence of
// column blocks; one (panel, block) chunk is kQ8ChunkBytes:
//   [32 float32 scales, row j at byte 4j][8 groups of 128 bytes: group g holds, for row j, the
//    4 int8 values w[j, 4g .. 4g+3] at byte 4j]
// so a k4 group of a 32-row panel is two zmm (four ymm) loads, rows past the end and columns past
// the end are zero (scale 0).
inline constexpr int64_t kQ8ChunkBytes = 32 * 4 + 32 * kQ8Block;  // 1152
int64_t Q8PackedBytes(int64_t rows, int64_t cols);
void PackQ8(const int8_t* q, const float* scales, int64_t rows, int64_t cols, void* packed);
// Row r of a packed q8 matrix, dequantized: out[k] = (float)q · d.
void UnpackQ8Row(const void* packed, int64_t cols, int64_t r, float* out);

// n input rows quantized for the q8 product: q [n, kp] (kp = Q8Blocks(cols)·kQ8Block, zero
// padded), d [n, nkb] scales, s [n, nkb] Σ of each block's q (the AVX-512 kernel feeds the
// activations to vpdpbusd's signed operand and offsets the weights by 128, then subtracts 128·s).
struct Q8Rows {
  const int8_t* q = nullptr;
  const float* d = nullptr;
  const int32_t* s = nullptr;
  int64_t kp = 0, nkb = 0;
};
// Bytes of the buffer QuantizeQ8Rows fills for n rows of cols (64-byte multiple).
int64_t Q8RowsBytes(int64_t n, int64_t cols);
// Scalar: quantizes x [n, cols] into buf (Q8RowsBytes bytes, 64-byte aligned) and describes it.
Q8Rows QuantizeQ8Rows(const float* x, int64_t n, int64_t cols, void* buf);
// The layout of such a buffer (q, then d, then s), without filling it.
Q8Rows Q8RowsLayout(int64_t n, int64_t cols, void* buf);

// The reference q8 product on the packed layout: out[t, r] for n inputs x [n, cols].
void ReferenceQ8MatMul(const void* packed, const float* x, int64_t n, int64_t rows, int64_t cols,
                       float* out);

}  // namespace doge

#endif  // DOGE_ENGINE_KERNELS_Q8_H_
