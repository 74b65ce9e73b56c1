// Optimized vs reference kernels over the one case table (engine/kernels/kernel_cases.h), in the
// order of house-style §3: NaN/Inf presence agrees, sentinel words intact, NMSE within max_nmse;
// for the optimized set of every kernel ISA this machine runs (engine/base/kernel_isa.h), not only the
// one OptimizedKernels() picked. Plus: every KernelSet member has a case, kernels do not depend on
// the thread count, and the avx2 and avx512 builds give the same bits.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/base/kernel_isa.h"
#include "engine/kernels/kernel_cases.h"
#include "engine/kernels/kernel_set.h"

namespace doge {
namespace {

class KernelTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(KernelTest, OptimizedMatchesReference) {
  const KernelCase& c = GetParam();
  for (KernelIsa isa : AvailableKernelIsas()) {
    SCOPED_TRACE(std::string("kernel ISA ") + KernelIsaName(isa));
    for (uint64_t seed : {1, 2}) {
      KernelRun ref = RunKernelCase(ReferenceKernels(), c, seed);
      KernelRun opt = RunKernelCase(OptimizedKernelsFor(isa), c, seed);
      ASSERT_TRUE(ref.sentinels_intact) << "reference wrote outside its output";
      ASSERT_TRUE(opt.sentinels_intact) << "optimized wrote outside its output";
      ASSERT_EQ(ref.output.size(), opt.output.size());
      double err = 0, norm = 0;
      size_t worst = 0;
      double worst_d = -1;
      for (size_t i = 0; i < ref.output.size(); ++i) {
        const float a = ref.output[i], b = opt.output[i];
        ASSERT_EQ(std::isnan(a), std::isnan(b)) << "NaN disagreement at " << i;
        ASSERT_EQ(std::isinf(a), std::isinf(b)) << "Inf disagreement at " << i;
        if (!std::isfinite(a)) continue;
        const double d = static_cast<double>(a) - b;
        err += d * d;
        norm += static_cast<double>(a) * a;
        if (std::fabs(d) > worst_d) {
          worst_d = std::fabs(d);
          worst = i;
        }
      }
      const double nmse = norm > 0 ? err / norm : err;
      EXPECT_LE(nmse, c.max_nmse) << "worst index " << worst << ": reference " << ref.output[worst]
                                  << " optimized " << opt.output[worst];
    }
  }
}

// Results must not depend on the thread count (kernel_set.h determinism contract).
TEST_P(KernelTest, OptimizedIndependentOfThreads) {
#ifdef _OPENMP
  const KernelCase& c = GetParam();
  const int saved = omp_get_max_threads();
  for (KernelIsa isa : AvailableKernelIsas()) {
    SCOPED_TRACE(std::string("kernel ISA ") + KernelIsaName(isa));
    omp_set_num_threads(1);
    KernelRun one = RunKernelCase(OptimizedKernelsFor(isa), c, 3);
    omp_set_num_threads(3);
    KernelRun three = RunKernelCase(OptimizedKernelsFor(isa), c, 3);
    omp_set_num_threads(saved);
    ASSERT_EQ(one.output.size(), three.output.size());
    for (size_t i = 0; i < one.output.size(); ++i) {
      if (std::isnan(one.output[i])) continue;
      ASSERT_EQ(one.output[i], three.output[i]) << i;
    }
  }
#else
  GTEST_SKIP() << "built without OpenMP";
#endif
}

// The avx2 and avx512 builds compute every element in the same order (one FMA chain per
// projection output, the same Exp8, the same attention code), so a machine's ISA never changes a
// result: the same bits, not just close ones.
TEST_P(KernelTest, Avx2AndAvx512AgreeBitForBit) {
  if (!KernelIsaAvailable(KernelIsa::kAvx2) || !KernelIsaAvailable(KernelIsa::kAvx512)) {
    GTEST_SKIP() << "this machine does not run both the avx2 and avx512 kernels";
  }
  const KernelCase& c = GetParam();
  KernelRun a = RunKernelCase(OptimizedKernelsFor(KernelIsa::kAvx2), c, 4);
  KernelRun b = RunKernelCase(OptimizedKernelsFor(KernelIsa::kAvx512), c, 4);
  ASSERT_EQ(a.output.size(), b.output.size());
  for (size_t i = 0; i < a.output.size(); ++i) {
    if (std::isnan(a.output[i]) && std::isnan(b.output[i])) continue;
    ASSERT_EQ(a.output[i], b.output[i]) << "index " << i;
  }
}

std::string CaseName(const KernelCase& c) {
  std::string s = c.kernel + "_" + c.vars;
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(AllCases, KernelTest, ::testing::ValuesIn(AllKernelCases()),
                         [](const auto& info) { return CaseName(info.param); });

class SixteenBitKernelTest : public ::testing::TestWithParam<KernelCase> {};

std::vector<KernelCase> SixteenBitCases() {
  std::vector<KernelCase> out;
  for (const KernelCase& c : AllKernelCases()) {
    if (c.vars.find(",bf16") != std::string::npos || c.vars.find(",f16") != std::string::npos) {
      out.push_back(c);
    }
  }
  return out;
}

// BF16/F16 weights are widened exactly inside the kernels: a 16-bit case gives the same bits as the
// same values stored as float32 (same per-element order), on every ISA.
TEST_P(SixteenBitKernelTest, StorageMatchesFloat32Bits) {
  const KernelCase& c = GetParam();
  for (KernelIsa isa : AvailableKernelIsas()) {
    SCOPED_TRACE(std::string("kernel ISA ") + KernelIsaName(isa));
    KernelCaseRunner as16(c, 5), as32(c, 5);
    as32.UseF32Packing();
    as16.Run(OptimizedKernelsFor(isa));
    as32.Run(OptimizedKernelsFor(isa));
    KernelRun a = as16.Result(), b = as32.Result();
    ASSERT_TRUE(a.sentinels_intact);
    ASSERT_EQ(a.output.size(), b.output.size());
    for (size_t i = 0; i < a.output.size(); ++i) ASSERT_EQ(a.output[i], b.output[i]) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(SixteenBit, SixteenBitKernelTest, ::testing::ValuesIn(SixteenBitCases()),
                         [](const auto& info) { return CaseName(info.param); });

TEST(KernelCasesTest, SixteenBitCasesExist) { EXPECT_GE(SixteenBitCases().size(), 20u); }

TEST(KernelCasesTest, EveryKernelSetMemberHasACase) {
  std::set<std::string> covered;
  for (const auto& c : AllKernelCases()) {
    covered.insert(c.kernel);
    EXPECT_NE(c.flops, nullptr) << c.kernel;
    EXPECT_NE(c.bytes, nullptr) << c.kernel;
    EXPECT_GT(c.flops(c.dims), 0) << c.kernel;
    EXPECT_GT(c.bytes(c.dims), 0) << c.kernel;
  }
  const auto names = KernelSetMemberNames();
  EXPECT_EQ(static_cast<int>(names.size()), kKernelSetMembers);
  for (const auto& n : names) EXPECT_TRUE(covered.count(n)) << "no case for " << n;
}

// The packed layout, entry by entry: 33 rows x 2 cols -> two blocks of 32 rows, k-major, the 31
// rows past the end zero.
TEST(PackWeightsTest, LayoutByHand) {
  std::vector<float> w(66);
  for (int i = 0; i < 66; ++i) w[i] = static_cast<float>(i + 1);  // w[r, k] = 2r + k + 1
  ASSERT_EQ(PackedWeightFloats(33, 2), 128);
  std::vector<float> p(128, -1.0f);
  PackWeights(w.data(), 33, 2, p.data());
  EXPECT_EQ(p[0], 1);    // w[0, 0]
  EXPECT_EQ(p[1], 3);    // w[1, 0]
  EXPECT_EQ(p[31], 63);  // w[31, 0]
  EXPECT_EQ(p[32], 2);   // w[0, 1]
  EXPECT_EQ(p[63], 64);  // w[31, 1]
  EXPECT_EQ(p[64], 65);  // block 1: w[32, 0]
  EXPECT_EQ(p[65], 0);   // padding row 33
  EXPECT_EQ(p[95], 0);   // padding row 63
  EXPECT_EQ(p[96], 66);  // w[32, 1]
  EXPECT_EQ(p[127], 0);
}

// Hand-computed values, so the reference itself is checked against something independent.
TEST(ReferenceKernelsTest, HandComputedValues) {
  const KernelSet& k = ReferenceKernels();
  const float w[6] = {1, 2, 3, 4, 5, 6}, x[3] = {1, -1, 2};
  float out[2];
  k.matvec(w, {}, x, 2, 3, out);
  EXPECT_FLOAT_EQ(out[0], 1 - 2 + 6);
  EXPECT_FLOAT_EQ(out[1], 4 - 5 + 12);
  // rms_norm of [3, 4]: mean square 12.5 -> x / sqrt(12.5 + eps).
  const float v[2] = {3, 4}, ones[2] = {1, 2};
  float n[2];
  k.rms_norm(v, ones, 2, 0.0f, n);
  EXPECT_NEAR(n[0], 3 / std::sqrt(12.5), 1e-6);
  EXPECT_NEAR(n[1], 2 * 4 / std::sqrt(12.5), 1e-6);
  // softmax of [0, ln 3] = [1/4, 3/4].
  float s[2] = {0, std::log(3.0f)};
  k.softmax(s, 2);
  EXPECT_NEAR(s[0], 0.25, 1e-7);
  EXPECT_NEAR(s[1], 0.75, 1e-7);
  // rope by 90 degrees on [a, b] pairs: [a, b] -> [-b, a].
  float z[2] = {1, 2};
  const float cs[2] = {0, 0}, sn[2] = {1, 1};
  k.rope(z, 1, 2, cs, sn);
  EXPECT_FLOAT_EQ(z[0], -2);
  EXPECT_FLOAT_EQ(z[1], 1);
  // dt_bias: exp(a * softplus(u)); softplus(0) = ln 2; above 20 it is the identity.
  const float u[2] = {0, 30}, a[2] = {1, -0.5f};
  float b[2];
  k.dt_bias(u, a, 2, b);
  EXPECT_NEAR(b[0], 2.0, 1e-6);
  EXPECT_NEAR(b[1], std::exp(-15.0), 1e-12);
  // attention with a masked key: only key 0 survives -> out = v0.
  const float q[2] = {1, 0}, kk[4] = {1, 0, 5, 5}, vv[4] = {7, 8, 9, 10};
  const float bias[2] = {0, -INFINITY};
  float scratch[2], o[2];
  const int64_t n_keys = 2;
  k.attention(q, 2, 1, kk, vv, 2, bias, 2, &n_keys, 2, 1.0f, scratch, o, 2);
  EXPECT_FLOAT_EQ(o[0], 7);
  EXPECT_FLOAT_EQ(o[1], 8);
}

#if defined(__x86_64__) && defined(__linux__)
// The kernel-ISA levels read with CPUID/XGETBV (engine/base/kernel_isa.cc) agree with the flags the
// Linux kernel reports for this CPU in /proc/cpuinfo: an independent reading of the same bits
// that needs neither compiler's __builtin_cpu_supports (clang 14 rejects "x86-64-v3").
TEST(KernelIsaTest, LevelsAgreeWithProcCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      flags = " " + line.substr(line.find(':') + 1) + " ";
      break;
    }
  }
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  auto has = [&](const char* f) { return flags.find(std::string(" ") + f + " ") != std::string::npos; };
  const bool v3 = has("avx") && has("avx2") && has("bmi1") && has("bmi2") && has("f16c") &&
                  has("fma") && has("abm") && has("movbe") && has("popcnt") && has("sse4_2") &&
                  has("ssse3") && has("cx16") && has("lahf_lm");
  const bool v4 = v3 && has("avx512f") && has("avx512bw") && has("avx512cd") && has("avx512dq") &&
                  has("avx512vl");
  EXPECT_TRUE(CpuRunsKernelIsa(KernelIsa::kPortable));
  EXPECT_EQ(CpuRunsKernelIsa(KernelIsa::kAvx2), v3) << "cpuinfo flags:" << flags;
  EXPECT_EQ(CpuRunsKernelIsa(KernelIsa::kAvx512), v4) << "cpuinfo flags:" << flags;
#if defined(__GNUC__) && !defined(__clang__)
  // GCC's own level check (libgcc) must agree as well.
  __builtin_cpu_init();
  EXPECT_EQ(CpuRunsKernelIsa(KernelIsa::kAvx2), __builtin_cpu_supports("x86-64-v3") != 0);
  EXPECT_EQ(CpuRunsKernelIsa(KernelIsa::kAvx512), __builtin_cpu_supports("x86-64-v4") != 0);
#endif
}
#endif

}  // namespace
}  // namespace doge
