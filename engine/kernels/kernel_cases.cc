// The kernel case table and a runner that builds deterministic inputs and guards the output.
#include "engine/kernels/kernel_cases.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/base/error.h"
#include "engine/kernels/q8.h"
#include "engine/safetensors.h"

namespace doge {
namespace {

constexpr int64_t kGuard = 16;
constexpr uint32_t kSentinelBits = 0x7fc0dead;  // a quiet NaN no kernel would write

float Sentinel() {
  float f;
  std::memcpy(&f, &kSentinelBits, 4);
  return f;
}

// splitmix64 -> uniform [-1, 1)
struct Rng {
  uint64_t s;
  float Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<float>((z >> 40) * (1.0 / 8388608.0) - 1.0);
  }
};

KernelCase Make(std::string kernel, std::string vars, std::vector<int64_t> dims,
                double (*flops)(const std::vector<int64_t>&),
                double (*bytes)(const std::vector<int64_t>&), double max_nmse = 1e-7) {
  KernelCase c;
  c.kernel = std::move(kernel);
  c.vars = std::move(vars);
  c.dims = std::move(dims);
  c.flops = flops;
  c.bytes = bytes;
  c.max_nmse = max_nmse;
  return c;
}

// The weight-storage dimension of matvec/matmul/vocab_logprob cases: 0 row-major only, 1 packed
// f32, 2 packed bf16, 3 packed f16 (the row-major copy then holds exactly the 16-bit values),
// 4 packed q8 (the row-major copy holds the dequantized values; both sets compute q8.h's product).
std::string StorageSuffix(int64_t storage) {
  switch (storage) {
    case 0:
      return ",rowmajor";
    case 2:
      return ",bf16";
    case 3:
      return ",f16";
    case 4:
      return ",q8";
    default:
      return "";
  }
}

// The 16-bit storages on a few sizes each: awkward ones and the Doge-20M decode/scoring shapes.
bool With16Bit(int64_t rows, int64_t cols) {
  return (rows == 7 && cols == 33) || (rows == 33 && cols == 1023) || (rows == 13 && cols == 37) ||
         (rows == 130 && cols == 33) || (rows == 1023 && cols == 37) ||
         (rows == 256 && cols == 256) || (rows == 512 && cols == 256) || (rows == 32768 && cols == 256);
}

// q8: the 16-bit sizes plus the Doge-320M projections (K = 1024, 2048: many scale blocks).
bool WithQ8(int64_t rows, int64_t cols) { return With16Bit(rows, cols) || rows >= 1024; }

// The q8 product sums integers exactly and combines blocks in one fixed order (q8.h), so the
// optimized kernels must give the reference's bits: NMSE 0. vocab_logprob's q8 rows keep the
// default, since its log-sum-exp differs by ~1e-7 relative as for every storage.
constexpr double kQ8ExactNmse = 0.0;

std::string V2(const char* a, int64_t x, const char* b, int64_t y) {
  return std::string(a) + "=" + std::to_string(x) + "," + b + "=" + std::to_string(y);
}

// The rows of the two selection kernels (topk_mask, moe_route).
void AddSelectionCases(std::vector<KernelCase>* cases) {
  // The selection kernels are exact (no arithmetic but the candidate sums, done alike in both
  // sets), so max_nmse is 0; "ties" quantises the inputs to a few levels so that equal values
  // meet the cut and the tie rules are compared too. Comparisons count as the flops.
  // topk_mask dims {n, keep, ties}: one query's mask row of n biases in [0, 2), every fifth
  // masked (-inf); keep_window_size is 2048 in every published Doge.
  for (auto d : std::vector<std::vector<int64_t>>{{7, 3, 0}, {7, 3, 1}, {33, 32, 1}, {1023, 512, 0},
                                                  {1023, 512, 1}, {2100, 2048, 0},
                                                  {4096, 2048, 0}, {4096, 2048, 1}}) {
    cases->push_back(Make("topk_mask",
                         V2("n", d[0], "keep", d[1]) + (d[2] ? ",ties" : ""), d,
                         [](const std::vector<int64_t>& v) { return 2.0 * v[0]; },
                         [](const std::vector<int64_t>& v) { return 8.0 * v[0]; }, 0.0));
  }
  // moe_route dims {K, top, ties}: the router scores [2K] of one token; K = 128, top = 64 is
  // upstream's default (16384 experts, 64 per token); top = K² routes to every expert.
  for (auto d : std::vector<std::vector<int64_t>>{{2, 1, 0}, {3, 4, 1}, {4, 16, 0}, {8, 8, 1},
                                                  {32, 64, 0}, {128, 64, 0}, {128, 64, 1},
                                                  {128, 200, 1}}) {
    cases->push_back(Make("moe_route",
                         V2("K", d[0], "top", d[1]) + (d[2] ? ",ties" : ""), d,
                         [](const std::vector<int64_t>& v) { return 1.0 * v[0] * v[0]; },
                         [](const std::vector<int64_t>& v) { return 8.0 * (v[0] + v[1]); },
                         0.0));
  }
}

// rope's cos (or sin) row of a real angle table (position 37, base 10000), duplicated halves,
// from index 1 (a misaligned view, as every input).
std::vector<float> RopeRow(int64_t head_dim, bool cos) {
  std::vector<float> row(static_cast<size_t>(head_dim + 1));
  for (int64_t j = 0; j < head_dim; ++j) {
    const int64_t jj = j % (head_dim / 2);
    const float inv = 1.0f / std::pow(10000.0f, static_cast<float>(2 * jj) / head_dim);
    row[j + 1] = cos ? std::cos(37.0f * inv) : std::sin(37.0f * inv);
  }
  return row;
}

}  // namespace

std::vector<std::string> KernelSetMemberNames() {
  return {"matvec", "matmul",  "rms_norm",  "rope",          "softmax",
          "swiglu", "dt_bias", "attention", "logprob_gather", "vocab_logprob",
          "topk_mask", "moe_route"};
}

std::vector<KernelCase> AllKernelCases() {
  std::vector<KernelCase> cases;
  // matvec dims {rows, cols, packed}: 2 flops per weight, weights dominate the bytes. packed = 1:
  // the weights are also given in the PackWeights layout (what DogeModel passes; the optimized
  // set reads that copy), 0: row-major only (the MoE router and direct callers).
  auto mv_flops = [](const std::vector<int64_t>& d) { return 2.0 * d[0] * d[1]; };
  // Bytes per weight of each storage: f32 (packed or row-major) 4, bf16/f16 2, q8 1 + 4/32.
  static constexpr double kWeightBytes[] = {4.0, 4.0, 2.0, 2.0, 1.125};
  auto mv_bytes = [](const std::vector<int64_t>& d) {
    return kWeightBytes[d[2]] * d[0] * d[1] + 4.0 * (d[0] + d[1]);
  };
  for (auto [r, c] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {7, 33}, {17, 9}, {33, 1023}, {256, 256}, {512, 256}, {32768, 256},  // 20M
           {1024, 1024}, {2048, 1024}, {1024, 2048}}) {                                 // 320M
    for (int64_t storage : {1, 0, 2, 3, 4}) {
      if (storage == 0 && r > 1024 && r != 32768) continue;  // row-major path: fewer sizes
      if ((storage == 2 || storage == 3) && !With16Bit(r, c)) continue;
      if (storage == 4 && !WithQ8(r, c)) continue;
      cases.push_back(Make("matvec", V2("rows", r, "cols", c) + StorageSuffix(storage),
                           {r, c, storage}, mv_flops, mv_bytes,
                           storage == 4 ? kQ8ExactNmse : 1e-7));
    }
  }
  // matmul dims {n, rows, cols, packed}.
  auto mm_flops = [](const std::vector<int64_t>& d) { return 2.0 * d[0] * d[1] * d[2]; };
  auto mm_bytes = [](const std::vector<int64_t>& d) {
    return kWeightBytes[d[3]] * d[1] * d[2] + 4.0 * (d[0] * d[2] + d[0] * d[1]);
  };
  for (auto d : std::vector<std::vector<int64_t>>{
           {1, 7, 33}, {2, 1, 1}, {3, 13, 37}, {4, 5, 3}, {7, 33, 1023}, {9, 7, 1},
           {17, 13, 37}, {65, 130, 33},                                // panel/row-block edges
           {20, 32768, 256},                                           // scoring vocab rows
           {128, 256, 256}, {128, 512, 256}, {512, 256, 256}, {512, 256, 512},  // Doge-20M
           {64, 1024, 1024}}) {
    for (int64_t storage : {1, 0, 2, 3, 4}) {
      if ((storage == 2 || storage == 3) && !With16Bit(d[1], d[2])) continue;
      if (storage == 4 && !WithQ8(d[1], d[2])) continue;
      std::vector<int64_t> dp = d;
      dp.push_back(storage);
      cases.push_back(Make("matmul",
                           "n=" + std::to_string(d[0]) + "," + V2("rows", d[1], "cols", d[2]) +
                               StorageSuffix(storage),
                           dp, mm_flops, mm_bytes, storage == 4 ? kQ8ExactNmse : 1e-7));
    }
  }
  auto lin_flops = [](const std::vector<int64_t>& d) { return 4.0 * d[0]; };
  auto lin_bytes3 = [](const std::vector<int64_t>& d) { return 12.0 * d[0]; };
  for (int64_t n : {1, 7, 33, 128, 256, 1023, 1024}) {
    cases.push_back(Make("rms_norm", "n=" + std::to_string(n), {n}, lin_flops, lin_bytes3));
    cases.push_back(Make("softmax", "n=" + std::to_string(n), {n}, lin_flops,
                         [](const std::vector<int64_t>& d) { return 8.0 * d[0]; }));
    cases.push_back(Make("swiglu", "n=" + std::to_string(n), {n}, lin_flops, lin_bytes3));
    cases.push_back(Make("dt_bias", "n=" + std::to_string(n), {n}, lin_flops, lin_bytes3));
  }
  // rope dims {n_heads, head_dim}.
  for (auto [h, d] : std::vector<std::pair<int64_t, int64_t>>{{1, 2}, {3, 34}, {2, 128}, {8, 128}}) {
    cases.push_back(Make("rope", V2("heads", h, "head_dim", d), {h, d},
                         [](const std::vector<int64_t>& v) { return 3.0 * v[0] * v[1]; },
                         [](const std::vector<int64_t>& v) { return 4.0 * (2 * v[0] * v[1] + 2 * v[1]); }));
  }
  // attention dims {n_keys, head_dim, nq}: nq consecutive queries of a causal block, query i
  // seeing n_keys - (nq - 1 - i) keys (a prefill block's staircase; nq = 1 is a decode step);
  // kv_stride = 2*head_dim+3 (interleaved heads, odd stride), q_stride = head_dim+1.
  auto at_flops = [](const std::vector<int64_t>& d) {
    return d[2] * (4.0 * d[0] * d[1] + 5.0 * d[0]);
  };
  auto at_bytes = [](const std::vector<int64_t>& d) {
    return 4.0 * (2 * d[0] * d[1] + d[2] * (2 * d[0] + 2 * d[1]));
  };
  for (auto d : std::vector<std::vector<int64_t>>{
           {1, 128, 1}, {7, 128, 1}, {33, 16, 1}, {24, 16, 1}, {1023, 128, 1}, {2048, 128, 1},
           {3, 13, 3}, {33, 16, 2}, {7, 128, 4}, {40, 20, 5}, {512, 128, 6}, {2048, 128, 6}}) {
    cases.push_back(Make("attention",
                         V2("keys", d[0], "head_dim", d[1]) + ",queries=" + std::to_string(d[2]),
                         d, at_flops, at_bytes));
  }
  // logprob_gather dims {n, target}: the vocabulary row of the scoring path (V = 32768) and
  // awkward sizes. Output [logprob, argmax] (as floats). ~4 flops and 4 bytes per entry.
  for (auto [n, t] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 0}, {7, 6}, {33, 5}, {1023, 1000}, {32768, 12345}}) {
    cases.push_back(Make("logprob_gather", V2("n", n, "target", t), {n, t},
                         [](const std::vector<int64_t>& d) { return 4.0 * d[0]; },
                         [](const std::vector<int64_t>& d) { return 4.0 * d[0]; }));
  }
  // vocab_logprob dims {n, V, H, packed}: n scored rows against a [V, H] head, row i with
  // 1 + i % 4 targets (VocabTargets). n = 81, V = 32768, H = 256 is one HellaSwag-shaped task of
  // Doge-20M (48-token context, 4 endings of 21 tokens: 1 + 4·20 rows); the others cut the
  // vocabulary into partial chunks, blocks and panels, and n = 250 the rows into tiles. Output: the logprobs, then the argmaxes.
  auto vl_flops = [](const std::vector<int64_t>& d) { return d[0] * d[1] * (2.0 * d[2] + 6.0); };
  auto vl_bytes = [](const std::vector<int64_t>& d) {
    return kWeightBytes[d[3]] * d[1] * d[2] + 4.0 * d[0] * d[2];
  };
  for (auto d : std::vector<std::vector<int64_t>>{
           {1, 7, 33}, {3, 33, 17}, {5, 1023, 37}, {13, 1030, 64}, {250, 1030, 64},
           {81, 32768, 256}, {27, 32768, 512}}) {
    for (int64_t storage : {1, 0, 2, 3, 4}) {
      if (storage == 0 && d[1] == 32768 && d[2] == 512) continue;
      if ((storage == 2 || storage == 3) && !With16Bit(d[1], d[2])) continue;
      if (storage == 4 && !WithQ8(d[1], d[2])) continue;
      std::vector<int64_t> dp = d;
      dp.push_back(storage);
      cases.push_back(Make("vocab_logprob",
                           "n=" + std::to_string(d[0]) + "," + V2("vocab", d[1], "hidden", d[2]) +
                               StorageSuffix(storage),
                           dp, vl_flops, vl_bytes));
    }
  }
  AddSelectionCases(&cases);
  return cases;
}

void PrintTo(const KernelCase& c, std::ostream* os) { *os << c.kernel << " " << c.vars; }

void VocabTargets(int64_t n, int64_t vocab, std::vector<int64_t>* off, std::vector<int32_t>* tok) {
  off->assign(1, 0);
  tok->clear();
  uint64_t h = 0x243F6A8885A308D3ull;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < 1 + i % 4; ++j) {
      h = h * 6364136223846793005ull + 1442695040888963407ull;
      tok->push_back(static_cast<int32_t>((h >> 33) % static_cast<uint64_t>(vocab)));
    }
    off->push_back(static_cast<int64_t>(tok->size()));
  }
}

KernelCaseRunner::KernelCaseRunner(const KernelCase& c, uint64_t seed) : c_(c) {
  Rng rng{seed * 0x2545F4914F6CDD1Dull + 17};
  auto make = [&](int64_t n, float scale, float offset) {
    std::vector<float> v(static_cast<size_t>(n + 1), 0.0f);
    for (int64_t i = 0; i < n; ++i) v[i + 1] = rng.Next() * scale + offset;
    inputs_.push_back(std::move(v));
  };
  const auto& d = c.dims;
  // storage 2/3: the weights become random BF16/F16 values (|w| in about [2^-8, 2)), held
  // exactly by the row-major floats the reference reads and packed as 16-bit bits.
  auto pack = [&](int64_t rows, int64_t cols, int64_t storage) {
    packed_rows_ = rows;
    packed_cols_ = cols;
    if (storage == 1) {
      UseF32Packing();
      return;
    }
    if (storage == 4) {
      std::vector<int8_t> q(static_cast<size_t>(rows * cols));
      std::vector<float> sc(static_cast<size_t>(rows * Q8Blocks(cols)));
      QuantizeQ8Matrix(inputs_[0].data() + 1, rows, cols, q.data(), sc.data());
      packed8_.resize(static_cast<size_t>(Q8PackedBytes(rows, cols)));
      PackQ8(q.data(), sc.data(), rows, cols, packed8_.data());
      for (int64_t r = 0; r < rows; ++r) {
        UnpackQ8Row(packed8_.data(), cols, r, inputs_[0].data() + 1 + r * cols);
      }
      packed_type_ = PackedType::kQ8;
      return;
    }
    std::vector<uint16_t> bits(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < bits.size(); ++i) {
      const uint32_t r = static_cast<uint32_t>((rng.Next() + 1.0f) * 8388608.0f);
      const uint16_t sign = (r & 1u) << 15;
      if (storage == 2) {
        bits[i] = sign | static_cast<uint16_t>((119 + (r >> 1) % 9) << 7) | ((r >> 5) & 0x7F);
        inputs_[0][i + 1] = Bf16ToFloat(bits[i]);
      } else {
        bits[i] = sign | static_cast<uint16_t>((7 + (r >> 1) % 9) << 10) | ((r >> 5) & 0x3FF);
        inputs_[0][i + 1] = F16ToFloat(bits[i]);
      }
    }
    packed16_.resize(static_cast<size_t>(PackedWeightFloats(rows, cols)));
    PackWeights16(bits.data(), rows, cols, packed16_.data());
    packed_type_ = storage == 2 ? PackedType::kBF16 : PackedType::kF16;
  };
  if (c.kernel == "matvec") {
    make(d[0] * d[1], 1.0f, 0.0f);
    make(d[1], 1.0f, 0.0f);
    if (d[2]) pack(d[0], d[1], d[2]);
    n_out_ = d[0];
  } else if (c.kernel == "matmul") {
    make(d[1] * d[2], 1.0f, 0.0f);
    make(d[0] * d[2], 1.0f, 0.0f);
    if (d[3]) pack(d[1], d[2], d[3]);
    n_out_ = d[0] * d[1];
  } else if (c.kernel == "rms_norm") {
    make(d[0], 3.0f, 0.0f);
    make(d[0], 0.2f, 1.0f);  // norm weights around 1
    n_out_ = d[0];
  } else if (c.kernel == "softmax") {
    make(d[0], 8.0f, 0.0f);
    n_out_ = d[0];
  } else if (c.kernel == "swiglu") {
    make(d[0], 6.0f, 0.0f);
    make(d[0], 2.0f, 0.0f);
    n_out_ = d[0];
  } else if (c.kernel == "dt_bias") {
    make(d[0], 25.0f, 0.0f);  // spans both sides of the softplus threshold (20)
    make(d[0], 1.0f, 0.0f);
    n_out_ = d[0];
  } else if (c.kernel == "rope") {
    make(d[0] * d[1], 2.0f, 0.0f);
    inputs_.push_back(RopeRow(d[1], /*cos=*/true));
    inputs_.push_back(RopeRow(d[1], /*cos=*/false));
    n_out_ = d[0] * d[1];
  } else if (c.kernel == "attention") {
    const int64_t stride = 2 * d[1] + 3, nq = d[2];
    make(nq * (d[1] + 1), 3.0f, 0.0f);  // q rows, stride head_dim + 1
    make(d[0] * stride, 3.0f, 0.0f);    // k
    make(d[0] * stride, 1.0f, 0.0f);    // v
    make(nq * d[0], 1.0f, 1.0f);        // bias rows in [0, 2): exp(A softplus(.)) > 0
    // Mask every third key (but never key 0), as the top-k window does; the rows differ.
    for (int64_t i = 0; i < nq; ++i) {
      for (int64_t j = 1 + i % 3; j < d[0]; j += 3) {
        inputs_[3][i * d[0] + j + 1] = -std::numeric_limits<float>::infinity();
      }
    }
    n_keys_.resize(static_cast<size_t>(nq));
    for (int64_t i = 0; i < nq; ++i) n_keys_[i] = std::max<int64_t>(1, d[0] - (nq - 1 - i));
    scratch_.assign(static_cast<size_t>(nq * d[0]), 0.0f);
    n_out_ = nq * d[1];
  } else if (c.kernel == "logprob_gather") {
    make(d[0], 12.0f, 0.0f);  // logits spread like a trained head's (range of ~24 nats)
    n_out_ = 2;
  } else if (c.kernel == "vocab_logprob") {
    make(d[1] * d[2], 1.0f, 0.0f);  // head
    make(d[0] * d[2], 1.0f, 0.0f);  // rows
    if (d[3]) pack(d[1], d[2], d[3]);
    VocabTargets(d[0], d[1], &offsets_, &targets_);
    n_out_ = static_cast<int64_t>(targets_.size()) + d[0];
  } else if (c.kernel == "topk_mask") {
    make(d[0], 1.0f, 1.0f);
    for (int64_t j = 0; j < d[0]; ++j) {
      float& v = inputs_[0][j + 1];
      if (d[2]) v = std::floor(v * 4.0f) / 4.0f;
      if (j % 5 == 4) v = -std::numeric_limits<float>::infinity();
    }
    scratch_.assign(static_cast<size_t>(d[0]), 0.0f);
    n_out_ = d[0];
  } else if (c.kernel == "moe_route") {
    make(2 * d[0], 2.0f, 0.0f);
    if (d[2]) {
      for (int64_t j = 0; j < 2 * d[0]; ++j) {
        inputs_[0][j + 1] = std::floor(inputs_[0][j + 1] * 4.0f) / 4.0f;
      }
    }
    scratch_.assign(static_cast<size_t>(d[0] * d[0]), 0.0f);
    n_out_ = 2 * d[1];
  } else {
    throw Error(ErrorKind::kInternal, "engine/kernels/kernel_cases.cc", c.kernel, "unknown kernel");
  }
  if (c.kernel == "rope" || c.kernel == "softmax" || c.kernel == "topk_mask") {
    inplace_init_.assign(inputs_[0].begin() + 1, inputs_[0].end());
  }
  out_.assign(static_cast<size_t>(n_out_ + 2 * kGuard), Sentinel());
}

void KernelCaseRunner::Run(const KernelSet& set) {
  float* out = out_.data() + kGuard;
  const auto& d = c_.dims;
  auto in = [&](int i) { return inputs_[i].data() + 1; };
  if (c_.kernel == "matvec") {
    set.matvec(in(0), Packed(), in(1), d[0], d[1], out);
  } else if (c_.kernel == "matmul") {
    set.matmul(in(0), Packed(), in(1), d[0], d[1], d[2], out);
  } else if (c_.kernel == "rms_norm") {
    set.rms_norm(in(0), in(1), d[0], 1e-6f, out);
  } else if (c_.kernel == "softmax") {
    std::memcpy(out, inplace_init_.data(), inplace_init_.size() * 4);
    set.softmax(out, d[0]);
  } else if (c_.kernel == "swiglu") {
    set.swiglu(in(0), in(1), d[0], out);
  } else if (c_.kernel == "dt_bias") {
    set.dt_bias(in(0), in(1), d[0], out);
  } else if (c_.kernel == "rope") {
    std::memcpy(out, inplace_init_.data(), inplace_init_.size() * 4);
    set.rope(out, d[0], d[1], in(1), in(2));
  } else if (c_.kernel == "attention") {
    set.attention(in(0), d[1] + 1, d[2], in(1), in(2), 2 * d[1] + 3, in(3), d[0], n_keys_.data(),
                  d[1], 0.0883883476f, scratch_.data(), out, d[1]);
  } else if (c_.kernel == "logprob_gather") {
    double lp = 0;
    int32_t am = -1;
    set.logprob_gather(in(0), d[0], static_cast<int32_t>(d[1]), &lp, &am);
    out[0] = static_cast<float>(lp);
    out[1] = static_cast<float>(am);
  } else if (c_.kernel == "vocab_logprob") {
    const size_t nt = targets_.size();
    std::vector<double> lp(nt);
    std::vector<int32_t> am(static_cast<size_t>(d[0]), -1);
    set.vocab_logprob(in(0), Packed(), in(1), d[0], d[1], d[2],
                      offsets_.data(), targets_.data(), lp.data(), am.data());
    for (size_t j = 0; j < nt; ++j) out[j] = static_cast<float>(lp[j]);
    for (int64_t i = 0; i < d[0]; ++i) out[nt + i] = static_cast<float>(am[i]);
  } else if (c_.kernel == "topk_mask") {
    std::memcpy(out, inplace_init_.data(), inplace_init_.size() * 4);
    set.topk_mask(out, d[0], d[1], scratch_.data());
  } else if (c_.kernel == "moe_route") {
    const int64_t K = d[0], top = d[1];
    std::vector<int32_t> iscratch(static_cast<size_t>(2 * K * K + 2 * K));
    std::vector<int32_t> experts(static_cast<size_t>(top), -1);
    set.moe_route(in(0), K, top, scratch_.data(), iscratch.data(), experts.data(), out + top);
    for (int64_t e = 0; e < top; ++e) out[e] = static_cast<float>(experts[e]);
  }
}

PackedWeights KernelCaseRunner::Packed() const {
  PackedWeights p;
  p.type = packed_type_;
  if (packed_type_ == PackedType::kF32) {
    p.data = packed_.empty() ? nullptr : packed_.data();
  } else if (packed_type_ == PackedType::kQ8) {
    p.data = packed8_.data();
  } else {
    p.data = packed16_.data();
  }
  return p;
}

void KernelCaseRunner::UseF32Packing() {
  if (packed_rows_ == 0 || packed_type_ == PackedType::kQ8) return;  // not a 16-bit case
  packed_.resize(static_cast<size_t>(PackedWeightFloats(packed_rows_, packed_cols_)));
  PackWeights(inputs_[0].data() + 1, packed_rows_, packed_cols_, packed_.data());
  packed16_.clear();
  packed_type_ = PackedType::kF32;
}

KernelRun KernelCaseRunner::Result() const {
  KernelRun r;
  r.output.assign(out_.begin() + kGuard, out_.begin() + kGuard + n_out_);
  for (int64_t i = 0; i < kGuard; ++i) {
    uint32_t a, b;
    std::memcpy(&a, &out_[i], 4);
    std::memcpy(&b, &out_[kGuard + n_out_ + i], 4);
    if (a != kSentinelBits || b != kSentinelBits) r.sentinels_intact = false;
  }
  return r;
}

KernelRun RunKernelCase(const KernelSet& set, const KernelCase& c, uint64_t seed) {
  KernelCaseRunner runner(c, seed);
  runner.Run(set);
  return runner.Result();
}

}  // namespace doge
