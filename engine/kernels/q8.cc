// Int8 quantization, the packed q8 layout and the scalar reference of the q8 product (q8.h).
#include "engine/kernels/q8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace doge {

int64_t Q8Blocks(int64_t cols) { return (cols + kQ8Block - 1) / kQ8Block; }

float QuantizeQ8Block(const float* x, int64_t n, int8_t* q) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::fabs(x[i]) > amax ? std::fabs(x[i]) : amax;
  const float d = amax / 127.0f;
  for (int64_t i = 0; i < kQ8Block; ++i) {
    float v = 0.0f;
    if (i < n && d != 0.0f) v = std::nearbyint(x[i] / d);  // default rounding: half to even
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    q[i] = static_cast<int8_t>(v);
  }
  return d;
}

void QuantizeQ8Matrix(const float* w, int64_t rows, int64_t cols, int8_t* q, float* scales) {
  const int64_t nb = Q8Blocks(cols);
  int8_t tmp[kQ8Block];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t k0 = b * kQ8Block, n = std::min(kQ8Block, cols - k0);
      scales[r * nb + b] = QuantizeQ8Block(w + r * cols + k0, n, tmp);
      std::memcpy(q + r * cols + k0, tmp, static_cast<size_t>(n));
    }
  }
}

int64_t Q8PackedBytes(int64_t rows, int64_t cols) {
  return (rows + 31) / 32 * Q8Blocks(cols) * kQ8ChunkBytes;
}

namespace {

// Byte offset of chunk (panel p, block b).
int64_t ChunkAt(int64_t p, int64_t b, int64_t nkb) { return (p * nkb + b) * kQ8ChunkBytes; }

}  // namespace

void PackQ8(const int8_t* q, const float* scales, int64_t rows, int64_t cols, void* packed) {
  const int64_t nkb = Q8Blocks(cols), n_panels = (rows + 31) / 32;
  auto* out = static_cast<uint8_t*>(packed);
  std::memset(out, 0, static_cast<size_t>(Q8PackedBytes(rows, cols)));
  for (int64_t p = 0; p < n_panels; ++p) {
    for (int64_t b = 0; b < nkb; ++b) {
      uint8_t* c = out + ChunkAt(p, b, nkb);
      for (int64_t j = 0; j < 32 && p * 32 + j < rows; ++j) {
        const int64_t r = p * 32 + j;
        std::memcpy(c + 4 * j, &scales[r * nkb + b], 4);
        for (int64_t kk = 0; kk < kQ8Block && b * kQ8Block + kk < cols; ++kk) {
          c[128 + (kk / 4) * 128 + 4 * j + kk % 4] =
              static_cast<uint8_t>(q[r * cols + b * kQ8Block + kk]);
        }
      }
    }
  }
}

void UnpackQ8Row(const void* packed, int64_t cols, int64_t r, float* out) {
  const int64_t nkb = Q8Blocks(cols), p = r / 32, j = r % 32;
  const auto* base = static_cast<const uint8_t*>(packed);
  for (int64_t b = 0; b < nkb; ++b) {
    const uint8_t* c = base + ChunkAt(p, b, nkb);
    float d;
    std::memcpy(&d, c + 4 * j, 4);
    for (int64_t kk = 0; kk < kQ8Block && b * kQ8Block + kk < cols; ++kk) {
      const int8_t v = static_cast<int8_t>(c[128 + (kk / 4) * 128 + 4 * j + kk % 4]);
      out[b * kQ8Block + kk] = static_cast<float>(v) * d;
    }
  }
}

int64_t Q8RowsBytes(int64_t n, int64_t cols) {
  const int64_t nkb = Q8Blocks(cols);
  const int64_t bytes = n * nkb * kQ8Block + 2 * (n * nkb * 4 + 64);
  return (bytes + 63) / 64 * 64;
}

Q8Rows Q8RowsLayout(int64_t n, int64_t cols, void* buf) {
  Q8Rows r;
  r.nkb = Q8Blocks(cols);
  r.kp = r.nkb * kQ8Block;
  auto* base = static_cast<uint8_t*>(buf);
  const int64_t q_bytes = (n * r.kp + 63) / 64 * 64;
  const int64_t d_bytes = (n * r.nkb * 4 + 63) / 64 * 64;
  r.q = reinterpret_cast<const int8_t*>(base);
  r.d = reinterpret_cast<const float*>(base + q_bytes);
  r.s = reinterpret_cast<const int32_t*>(base + q_bytes + d_bytes);
  return r;
}

Q8Rows QuantizeQ8Rows(const float* x, int64_t n, int64_t cols, void* buf) {
  Q8Rows r = Q8RowsLayout(n, cols, buf);
  auto* q = const_cast<int8_t*>(r.q);
  auto* d = const_cast<float*>(r.d);
  auto* s = const_cast<int32_t*>(r.s);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t b = 0; b < r.nkb; ++b) {
      const int64_t k0 = b * kQ8Block;
      int8_t* qb = q + t * r.kp + k0;
      d[t * r.nkb + b] = QuantizeQ8Block(x + t * cols + k0, std::min(kQ8Block, cols - k0), qb);
      int32_t sum = 0;
      for (int64_t i = 0; i < kQ8Block; ++i) sum += qb[i];
      s[t * r.nkb + b] = sum;
    }
  }
  return r;
}

void ReferenceQ8MatMul(const void* packed, const float* x, int64_t n, int64_t rows, int64_t cols,
                       float* out) {
  const int64_t nkb = Q8Blocks(cols);
  std::vector<int8_t> qx(static_cast<size_t>(nkb * kQ8Block));
  std::vector<float> dx(static_cast<size_t>(nkb));
  const auto* base = static_cast<const uint8_t*>(packed);
  for (int64_t t = 0; t < n; ++t) {
    const float* xt = x + t * cols;
    for (int64_t b = 0; b < nkb; ++b) {
      dx[b] = QuantizeQ8Block(xt + b * kQ8Block, std::min(kQ8Block, cols - b * kQ8Block),
                              qx.data() + b * kQ8Block);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t p = r / 32, j = r % 32;
      float acc = 0.0f;
      for (int64_t b = 0; b < nkb; ++b) {
        const uint8_t* c = base + ChunkAt(p, b, nkb);
        int32_t isum = 0;
        for (int64_t kk = 0; kk < kQ8Block; ++kk) {
          const int8_t w = static_cast<int8_t>(c[128 + (kk / 4) * 128 + 4 * j + kk % 4]);
          isum += static_cast<int32_t>(w) * qx[b * kQ8Block + kk];
        }
        float dw;
        std::memcpy(&dw, c + 4 * j, 4);
        const float scale = dw * dx[b];
        acc += static_cast<float>(isum) * scale;
      }
      out[t * rows + r] = acc;
    }
  }
}

}  // namespace doge
