// A decode step with more than one thread runs its layers inside one parallel region (model.cc's
// Team): every projection split by rows across the threads, the attention shared out by heads once
// the context is long enough, the rest on the first thread. Its hidden states must equal the
// one-thread step's bit for bit: for each packed storage the split slices (f32, bf16, q8), on the
// Doge-20M shape (matrices large enough to be split; 2 heads of 128, so from 1,024 cached keys the
// attention splits too), with 2 threads and with 3 (an uneven split, one thread idle on small
// matrices), and on the tiny fixtures whose other code paths (variant A, CDMoE) run inside it.
#include <gtest/gtest.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/quantize.h"
#include "engine/random_checkpoint.h"
#include "tests/engine/golden_util.h"

namespace doge {
namespace {

// Hidden states (after the final norm) of `steps` one-token steps after a `prompt_len`-token
// prompt, all concatenated, computed with `threads` OpenMP threads.
std::vector<float> DecodeSteps(const DogeModel& m, int threads, int64_t prompt_len, int steps) {
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
#endif
  const int64_t H = m.config().hidden_size, V = m.config().vocab_size;
  KvCache cache = m.NewCache(prompt_len + steps);
  ForwardScratch scratch;
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_len));
  for (int64_t i = 0; i < prompt_len; ++i) prompt[i] = static_cast<int32_t>((i * 7919 + 3) % V);
  std::vector<float> h(static_cast<size_t>(H));
  m.Forward(prompt.data(), prompt_len, &cache, &scratch, {prompt_len - 1}, h.data());
  std::vector<float> all;
  for (int step = 0; step < steps; ++step) {
    const int32_t next = static_cast<int32_t>((step * 104729 + 11) % V);
    m.Forward(&next, 1, &cache, &scratch, {0}, h.data());
    all.insert(all.end(), h.begin(), h.end());
  }
#ifdef _OPENMP
  omp_set_num_threads(saved);
#endif
  return all;
}

void ExpectSameBits(const std::vector<float>& a, const std::vector<float>& b,
                    const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << what;
}

TEST(DecodeTeamTest, OneRegionStepsEqualOneThreadOnTheDoge20mShape) {
#ifndef _OPENMP
  GTEST_SKIP() << "built without OpenMP";
#endif
  for (const char* dtype : {"f32", "bf16", "q8"}) {
    const std::string dir = ::testing::TempDir() + "/doge_decode_team_" + dtype;
    std::filesystem::remove_all(dir);  // the q8 writer refuses an existing folder
    if (std::string(dtype) == "q8") {
      WriteRandomQ8Checkpoint("doge-20m", dir, 5);
    } else {
      WriteRandomCheckpoint("doge-20m", dir, 5, dtype);
    }
    auto m = DogeModel::Load(dir);
    // Short context: attention on one thread; long (1,030 keys and more): attention split.
    for (int64_t prompt_len : {5, 1030}) {
      const std::vector<float> one = DecodeSteps(*m, 1, prompt_len, 4);
      for (int threads : {2, 3}) {
        ExpectSameBits(one, DecodeSteps(*m, threads, prompt_len, 4),
                       std::string(dtype) + " prompt " + std::to_string(prompt_len) + ", " +
                           std::to_string(threads) + " threads");
      }
    }
  }
}

TEST(DecodeTeamTest, OneRegionStepsEqualOneThreadOnTheFixtures) {
#ifndef _OPENMP
  GTEST_SKIP() << "built without OpenMP";
#endif
  for (const char* fx : {"b-dense", "b-moe", "a-early-dense", "a-late-dense", "b-dense-bf16"}) {
    auto m = DogeModel::Load(testing::FixtureDir(fx));
    const std::vector<float> one = DecodeSteps(*m, 1, 5, 40);  // crosses position 48 (NTK)
    ExpectSameBits(one, DecodeSteps(*m, 2, 5, 40), fx);
  }
}

}  // namespace
}  // namespace doge
