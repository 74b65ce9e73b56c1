// Cross-request prefix reuse (engine/prefix_cache.h, issue 13 §1). The contract is exactness:
// with the cache, every score, next-token log-prob and generated token is bit-identical to the
// computation without it (budget 0), whatever the batch composition, order and thread count.
// The b-dense fixture (keep_window_size 24, dynamic NTK above max_position_embeddings 48) covers
// the fallbacks: inputs past 48 tokens must not use cached rows (the RoPE base depends on the
// call's length), and contexts past the 24-key window must still reuse exactly (the top-k
// selection reads the cached biases). A copy of it with max_position_embeddings 4096 lets long
// and left-truncated inputs (past max_length 2048) reuse too.
#include "engine/prefix_cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <unistd.h>

#include "engine/scoring.h"
#include "tests/engine/golden_util.h"

namespace doge {
namespace {

using testing::FixtureDir;

std::unique_ptr<DogeLanguageModel> LoadLm(const std::string& dir, int threads, int64_t bytes) {
  auto lm = DogeLanguageModel::Load(dir, threads);
  lm->SetPrefixCacheBytes(bytes);
  return lm;
}

std::string TempFixtureDir() {
  return (std::filesystem::temp_directory_path() /
          ("doge_prefix_cache_test_" + std::to_string(::getpid())))
      .string();
}

// Removes the temp fixture when the test program ends.
class TempFixtureCleanup : public ::testing::Environment {
 public:
  void TearDown() override { std::filesystem::remove_all(TempFixtureDir()); }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempFixtureCleanup);

// b-dense with max_position_embeddings raised to 4096 (no NTK rescaling below it): written
// once into a temp folder (config.json edited, safetensors copied).
std::string LongContextFixture() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    const fs::path out = TempFixtureDir();
    fs::create_directories(out);
    const fs::path src = FixtureDir("b-dense");
    for (const auto& e : fs::directory_iterator(src)) {
      if (e.path().filename() == "config.json" || e.path().filename() == "golden.safetensors") {
        continue;
      }
      fs::copy_file(e.path(), out / e.path().filename(), fs::copy_options::overwrite_existing);
    }
    std::ifstream in(src / "config.json");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string cfg = ss.str();
    const std::string key = "\"max_position_embeddings\": 48";
    const size_t at = cfg.find(key);
    EXPECT_NE(at, std::string::npos) << cfg;
    cfg.replace(at, key.size(), "\"max_position_embeddings\": 4096");
    std::ofstream(out / "config.json") << cfg;
    return out.string();
  }();
  return dir;
}

// Token ids with long shared prefixes: `n_docs` documents = one of two shared headers + a
// document-specific tail (like MMLU: subject header and five shots, then the question).
std::vector<std::vector<int32_t>> SharedPrefixContexts(int n_docs, int header_len, int tail_len,
                                                       uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> tok(2, 511);
  std::vector<std::vector<int32_t>> headers(2);
  for (auto& h : headers) {
    for (int i = 0; i < header_len; ++i) h.push_back(tok(rng));
  }
  std::vector<std::vector<int32_t>> out;
  for (int d = 0; d < n_docs; ++d) {
    std::vector<int32_t> c = headers[d % 2];
    const int len = tail_len + d % 5;
    for (int i = 0; i < len; ++i) c.push_back(tok(rng));
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<ScoreRequest> Requests(const std::vector<std::vector<int32_t>>& contexts,
                                   uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> tok(2, 511);
  std::vector<ScoreRequest> reqs;
  for (size_t d = 0; d < contexts.size(); ++d) {
    ScoreRequest r;
    r.context = contexts[d];
    for (int k = 0; k < 4; ++k) {
      std::vector<int32_t> cont;
      const int len = 1 + (k * 3 + static_cast<int>(d)) % 7;  // single-token choices too
      for (int i = 0; i < len; ++i) cont.push_back(tok(rng));
      r.continuations.push_back(cont);
    }
    reqs.push_back(std::move(r));
  }
  return reqs;
}

void ExpectSameScores(const std::vector<std::vector<ContinuationScore>>& a,
                      const std::vector<std::vector<ContinuationScore>>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size());
    for (size_t k = 0; k < a[i].size(); ++k) {
      // Bit-identical, not near: the contract (memcmp also tells -0.0 from 0.0).
      EXPECT_EQ(std::memcmp(&a[i][k].logprob, &b[i][k].logprob, sizeof(double)), 0)
          << "request " << i << " choice " << k << ": " << a[i][k].logprob << " vs "
          << b[i][k].logprob;
      EXPECT_EQ(a[i][k].is_greedy, b[i][k].is_greedy) << i << "," << k;
      EXPECT_EQ(a[i][k].n_tokens, b[i][k].n_tokens) << i << "," << k;
    }
  }
}

TEST(PrefixCacheTest, SplitForwardIsBitIdenticalToOneCall) {
  // The property the cache rests on: rows [0, P) from one call plus a second call for the rest
  // give the same cache rows and hidden states, bit for bit, as one call over everything, for
  // split points on and off the block and query-block boundaries, past the 24-key window.
  auto lm = LoadLm(LongContextFixture(), 1, 0);
  const DogeModel& m = lm->model();
  const int64_t H = m.config().hidden_size, n = 300;
  std::vector<int32_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 131 + 7) % 510 + 2);
  ForwardScratch s;
  std::vector<int64_t> rows(n);
  for (int64_t i = 0; i < n; ++i) rows[i] = i;
  KvCache one = m.NewCache(n);
  std::vector<float> want(n * H);
  m.Forward(ids.data(), n, &one, &s, rows, want.data());
  for (int64_t P : {1, 5, 6, 16, 17, 32, 100, 299}) {
    KvCache two = m.NewCache(n);
    std::vector<float> got(n * H);
    m.Forward(ids.data(), P, &two, &s, rows.data(), P, got.data());
    m.Forward(ids.data() + P, n - P, &two, &s, rows.data(), n - P, got.data() + P * H);
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << "P=" << P;
    for (int64_t l = 0; l < m.config().num_hidden_layers; ++l) {
      const int64_t kvd = m.config().num_key_value_heads * m.config().head_dim();
      EXPECT_EQ(std::memcmp(two.keys(l), one.keys(l), n * kvd * sizeof(float)), 0) << P;
      EXPECT_EQ(std::memcmp(two.values(l), one.values(l), n * kvd * sizeof(float)), 0) << P;
      EXPECT_EQ(std::memcmp(two.bias(l), one.bias(l), n * m.weights().n_bias_heads * 4), 0) << P;
    }
  }
}

TEST(PrefixCacheTest, RestoreFindsTheLongestCachedPrefix) {
  // Hand-counted: blocks of 16 tokens; a 40-token input stores blocks 0 and 1 (32 tokens); a
  // lookup limited to its first 39 tokens finds both; one limited to 31 finds block 0 and the
  // first 15 rows of block 1; one that differs at token 20 finds block 0 and 4 rows of block 1.
  PrefixCache pc(2, 4, 1, 1 << 20);
  KvCache cache(2, 4, 1, 64);
  std::vector<int32_t> a(40);
  for (int i = 0; i < 40; ++i) a[i] = i;
  for (int64_t l = 0; l < 2; ++l) {
    for (int64_t j = 0; j < 40 * 4; ++j) cache.keys(l)[j] = static_cast<float>(l * 1000 + j);
  }
  cache.set_size(40);
  EXPECT_EQ(pc.Restore(a.data(), 39, 40, &cache), 0);  // empty cache: a miss
  cache.set_size(40);
  pc.Store(a.data(), 40, &cache);
  EXPECT_EQ(pc.stats().blocks, 2);
  EXPECT_EQ(pc.stats().bytes, 2 * pc.block_bytes());
  EXPECT_EQ(pc.block_bytes(), 2 * 16 * (2 * 4 + 1) * 4);
  KvCache out(2, 4, 1, 64);
  EXPECT_EQ(pc.Restore(a.data(), 39, 40, &out), 32);
  EXPECT_EQ(out.size(), 32);
  EXPECT_EQ(std::memcmp(out.keys(1), cache.keys(1), 32 * 4 * sizeof(float)), 0);
  EXPECT_EQ(pc.Restore(a.data(), 31, 40, &out), 31);  // the limit cuts block 1
  std::vector<int32_t> b = a;
  b[20] = 99;
  EXPECT_EQ(pc.Restore(b.data(), 39, 40, &out), 20);
  EXPECT_EQ(std::memcmp(out.keys(0), cache.keys(0), 20 * 4 * sizeof(float)), 0);
  // Another 40-token input that shares only 10 ids: rows of a partly matching first block.
  std::vector<int32_t> c = a;
  c[10] = 77;
  EXPECT_EQ(pc.Restore(c.data(), 39, 40, &out), 10);
  c[0] = 500;
  EXPECT_EQ(pc.Restore(c.data(), 39, 40, &out), 0);
  const PrefixCacheStats st = pc.stats();
  EXPECT_EQ(st.lookups, 6);
  EXPECT_EQ(st.hits, 4);
  EXPECT_EQ(st.tokens_scored, 240);
  EXPECT_EQ(st.tokens_reused, 32 + 31 + 20 + 10);
}

TEST(PrefixCacheTest, BudgetEvictsLeastRecentlyUsedLeavesFirst) {
  // Budget of 3 blocks. Store A (blocks a0 a1), then B (b0): full. Touch A by a lookup, then
  // store C (c0): the least recently used is B's block, evicted; A stays whole.
  PrefixCache pc(1, 2, 1, 0);
  PrefixCache small(1, 2, 1, 3 * int64_t{16} * (2 * 2 + 1) * 4);
  KvCache cache(1, 2, 1, 64);
  auto seq = [](int32_t base) {
    std::vector<int32_t> v(32);
    for (int i = 0; i < 32; ++i) v[i] = base + i;
    return v;
  };
  const auto A = seq(0), B = seq(1000), C = seq(2000);
  cache.set_size(32);
  small.Store(A.data(), 32, &cache);
  small.Store(B.data(), 16, &cache);
  EXPECT_EQ(small.stats().blocks, 3);
  EXPECT_EQ(small.Restore(A.data(), 32, 32, &cache), 32);
  cache.set_size(32);
  small.Store(C.data(), 16, &cache);
  EXPECT_EQ(small.stats().blocks, 3);
  EXPECT_EQ(small.stats().evictions, 1);
  EXPECT_LE(small.stats().bytes, small.budget_bytes());
  EXPECT_EQ(small.Restore(B.data(), 16, 16, &cache), 0);
  EXPECT_EQ(small.Restore(A.data(), 32, 32, &cache), 32);
  EXPECT_EQ(small.Restore(C.data(), 16, 16, &cache), 16);
  // A path longer than the budget stores what fits and never evicts its own blocks.
  cache.set_size(32);
  PrefixCache one(1, 2, 1, int64_t{16} * (2 * 2 + 1) * 4);
  one.Store(A.data(), 32, &cache);
  EXPECT_EQ(one.stats().blocks, 1);
  EXPECT_EQ(one.Restore(A.data(), 32, 32, &cache), 16);
  // Budget 0: nothing stored, lookups still counted.
  cache.set_size(32);
  pc.Store(A.data(), 32, &cache);
  EXPECT_EQ(pc.Restore(A.data(), 32, 32, &cache), 0);
  EXPECT_EQ(pc.stats().bytes, 0);
  EXPECT_EQ(pc.stats().tokens_scored, 32);
}

class PrefixReuseTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PrefixReuseTest, ScoresAreBitIdenticalWithAndWithoutTheCache) {
  // Headers of 40 tokens and tails of 3..7 (inputs <= 48: the cached path of the NTK fixture)
  // and headers of 300 (the long-context copy; past the 24-key window). Both thread counts, the
  // batch in one call, one request per call, and reversed.
  const bool long_ctx = GetParam() == "long";
  const std::string dir = long_ctx ? LongContextFixture() : FixtureDir("b-dense");
  const int header = long_ctx ? 300 : 30;
  const auto contexts = SharedPrefixContexts(12, header, 4, 7);
  const auto reqs = Requests(contexts, 11);
  auto off = LoadLm(dir, 1, 0);
  const auto want = off->Score(reqs);
  for (int threads : {1, 2}) {
    auto on = LoadLm(dir, threads, 64 << 20);
    ExpectSameScores(on->Score(reqs), want);
    // Now warm: every request reuses its header.
    ExpectSameScores(on->Score(reqs), want);
    std::vector<std::vector<ContinuationScore>> one_by_one, reversed(reqs.size());
    for (const ScoreRequest& r : reqs) one_by_one.push_back(on->Score({r})[0]);
    ExpectSameScores(one_by_one, want);
    std::vector<ScoreRequest> rev(reqs.rbegin(), reqs.rend());
    const auto got_rev = on->Score(rev);
    for (size_t i = 0; i < reqs.size(); ++i) reversed[reqs.size() - 1 - i] = got_rev[i];
    ExpectSameScores(reversed, want);
    const PrefixCacheStats st = on->prefix_cache_stats();
    EXPECT_GT(st.tokens_reused, 0);
    EXPECT_LE(st.tokens_reused, st.tokens_scored);
  }
}

TEST_P(PrefixReuseTest, NextTokenAndGenerationAreBitIdentical) {
  const bool long_ctx = GetParam() == "long";
  const std::string dir = long_ctx ? LongContextFixture() : FixtureDir("b-dense");
  auto contexts = SharedPrefixContexts(8, long_ctx ? 300 : 30, 5, 3);
  if (long_ctx) {
    // Left-truncated to max_length 2048: the run input is the last 2048 ids; two contexts that
    // truncate to the same start share it.
    std::vector<int32_t> big(2100);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<int32_t>((i * 37 + 11) % 510 + 2);
    contexts.push_back(big);
    big.push_back(9);
    contexts.push_back(big);
  }
  const std::vector<int32_t> ids = {3, 50, 400, 7};
  auto off = LoadLm(dir, 1, 0);
  const auto want = off->NextTokenLogprobs(contexts, ids);
  const auto want_gen = off->GenerateGreedy(contexts, 6, nullptr);
  for (int threads : {1, 2}) {
    auto on = LoadLm(dir, threads, 64 << 20);
    for (int pass = 0; pass < 2; ++pass) {  // cold, then warm
      const auto got = on->NextTokenLogprobs(contexts, ids);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(std::memcmp(got[i].data(), want[i].data(), ids.size() * sizeof(double)), 0)
            << "context " << i << " pass " << pass;
      }
      EXPECT_EQ(on->GenerateGreedy(contexts, 6, nullptr), want_gen) << pass;
    }
    EXPECT_GT(on->prefix_cache_stats().tokens_reused, 0);
  }
}

TEST(PrefixCacheTest, SeveralThreadsReuseAsMuchAsOne) {
  // A cold batch of 12 contexts over two 300-token headers: the batch runs the first context of
  // each header before the others, so two threads reuse exactly what one thread does (without
  // that, both threads would compute each header at once). Hand count: 10 followers, each
  // reuses its whole 300-token header (18 whole blocks and 12 rows of the next; the tails are
  // random).
  const auto contexts = SharedPrefixContexts(12, 300, 5, 5);
  int64_t reused[2];
  for (int threads : {1, 2}) {
    auto lm = LoadLm(LongContextFixture(), threads, 64 << 20);
    lm->NextTokenLogprobs(contexts, {1});
    reused[threads - 1] = lm->prefix_cache_stats().tokens_reused;
  }
  EXPECT_EQ(reused[0], 10 * 300);
  EXPECT_EQ(reused[1], reused[0]);
}

TEST_P(PrefixReuseTest, LockstepGenerationEqualsOnePromptAtATime) {
  // GenerateGreedy decodes its prompts together (one vocabulary pass per step for all of them);
  // Generate() runs one prompt with the sampler's own argmax over Logits(). Same tokens, with
  // sequences stopping at different steps (a stop on the token value) and at max_new_tokens.
  const bool long_ctx = GetParam() == "long";
  const std::string dir = long_ctx ? LongContextFixture() : FixtureDir("b-dense");
  const auto prompts = SharedPrefixContexts(9, long_ctx ? 100 : 20, 3, 17);
  auto stop = [](const std::vector<int32_t>& gen) { return gen.back() % 7 == 0; };
  for (int threads : {1, 2}) {
    auto lm = LoadLm(dir, threads, threads == 1 ? 0 : 64 << 20);
    const auto got = lm->GenerateGreedy(prompts, 12, stop);
    const auto got_no_stop = lm->GenerateGreedy(prompts, 12, nullptr);
    ASSERT_EQ(got.size(), prompts.size());
    size_t stopped_early = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
      EXPECT_EQ(got[i], lm->Generate(prompts[i], 12, SamplerConfig{}, stop)) << i;
      EXPECT_EQ(got_no_stop[i], lm->Generate(prompts[i], 12, SamplerConfig{}, nullptr)) << i;
      EXPECT_EQ(got_no_stop[i].size(), 12u);
      stopped_early += got[i].size() < 12;
    }
    EXPECT_GT(stopped_early, 0u);  // the stop really cut some sequences
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PrefixReuseTest, ::testing::Values("ntk48", "long"));

TEST(PrefixCacheTest, InputsPastMaxPositionEmbeddingsAreNeitherStoredNorRestored) {
  // b-dense: dynamic NTK above 48 positions. A 60-token context must be computed in one call
  // (its RoPE base is the length-60 one), so its prefix rows are not reusable; scores equal the
  // no-cache ones and the cache holds nothing of it.
  auto on = LoadLm(FixtureDir("b-dense"), 1, 64 << 20);
  auto off = LoadLm(FixtureDir("b-dense"), 1, 0);
  std::vector<int32_t> ctx(60);
  for (int i = 0; i < 60; ++i) ctx[i] = (i * 17 + 3) % 510 + 2;
  const std::vector<std::vector<int32_t>> contexts = {ctx, ctx};
  const auto want = off->NextTokenLogprobs(contexts, {5, 6});
  const auto got = on->NextTokenLogprobs(contexts, {5, 6});
  EXPECT_EQ(std::memcmp(got[1].data(), want[1].data(), 2 * sizeof(double)), 0);
  EXPECT_EQ(on->prefix_cache_stats().blocks, 0);
  EXPECT_EQ(on->prefix_cache_stats().tokens_reused, 0);
  // A scoring request whose continuation pushes the input past 48: that choice takes the full
  // forward; the short choice of the same context still uses (and fills) the cache.
  const std::vector<int32_t> c40(ctx.begin(), ctx.begin() + 40);
  std::vector<int32_t> long_cont(ctx.begin() + 40, ctx.end());
  const std::vector<ScoreRequest> reqs = {{c40, {{9}, long_cont}}, {c40, {{9}, long_cont}}};
  ExpectSameScores(on->Score(reqs), off->Score(reqs));
  EXPECT_GT(on->prefix_cache_stats().tokens_reused, 0);
}

}  // namespace
}  // namespace doge
