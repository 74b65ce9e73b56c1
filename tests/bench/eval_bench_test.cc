// `doge bench eval`'s workload and its batch-composition guarantee: a task scored alone or inside
// a batch (and with 1 or 2 threads) gets the same numbers to 1e-5, through the same
// DogeLanguageModel::Score the benchmark times. Uses the tiny checkpoint in tests/data.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "benchmarks/bench_model.h"
#include "benchmarks/eval_bench.h"
#include "engine/scoring.h"

namespace doge {
namespace {

const std::string kTiny = std::string(DOGE_TEST_DATA) + "/tiny-model";

TEST(McWorkloadTest, ShapesAndDeterminism) {
  McWorkload w;
  w.n_tasks = 5;
  auto a = MakeMcRequests(w, 32768, 0);
  ASSERT_EQ(a.size(), 5u);
  for (const auto& r : a) {
    ASSERT_EQ(r.context.size(), 48u);
    EXPECT_EQ(r.context[0], 0);  // BOS
    ASSERT_EQ(r.continuations.size(), 4u);
    for (const auto& c : r.continuations) {
      ASSERT_EQ(c.size(), 21u);
      for (int32_t id : c) {
        EXPECT_GE(id, 3);
        EXPECT_LT(id, 32768);
      }
    }
  }
  // Task t does not depend on how many tasks are drawn, and different tasks differ.
  w.n_tasks = 3;
  auto b = MakeMcRequests(w, 32768, 0);
  for (size_t t = 0; t < b.size(); ++t) {
    EXPECT_EQ(a[t].context, b[t].context);
    EXPECT_EQ(a[t].continuations, b[t].continuations);
  }
  EXPECT_NE(a[0].context, a[1].context);
  // Per-task token counts: 48 + 4 * 20 fed with a shared context, 4 * 68 naively.
  EXPECT_EQ(w.ProcessedTokensPerTask(), 128);
  EXPECT_EQ(w.NaiveTokensPerTask(), 272);
}

void ExpectSameScores(const std::vector<ContinuationScore>& a,
                      const std::vector<ContinuationScore>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i].logprob, b[i].logprob, 1e-5) << what << " choice " << i;
    EXPECT_EQ(a[i].is_greedy, b[i].is_greedy) << what << " choice " << i;
    EXPECT_EQ(a[i].n_tokens, b[i].n_tokens) << what << " choice " << i;
  }
}

TEST(EvalBenchTest, TaskAloneOrInBatchScoresTheSame) {
  // 20 + 8 tokens: beyond the tiny model's top-k window (24), inside its 48 positions.
  McWorkload w;
  w.n_tasks = 6;
  w.n_ctx = 20;
  w.n_cont = 8;
  auto lm2 = DogeLanguageModel::Load(kTiny, 2);
  auto lm1 = DogeLanguageModel::Load(kTiny, 1);
  const auto requests = MakeMcRequests(w, lm2->vocab_size(), 0);
  const auto batched = lm2->Score(requests);
  ASSERT_EQ(batched.size(), requests.size());
  const auto batched1 = lm1->Score(requests);
  for (size_t t = 0; t < requests.size(); ++t) {
    const auto alone = lm2->Score({requests[t]});
    ASSERT_EQ(alone.size(), 1u);
    ExpectSameScores(alone[0], batched[t], "task " + std::to_string(t) + " alone vs batch");
    ExpectSameScores(batched1[t], batched[t], "task " + std::to_string(t) + " 1 vs 2 threads");
    for (const auto& s : batched[t]) {
      EXPECT_TRUE(std::isfinite(s.logprob));
      EXPECT_LT(s.logprob, 0);
      EXPECT_EQ(s.n_tokens, 8);
    }
  }
  // A batch of the tasks in another order gives each task the same numbers.
  std::vector<ScoreRequest> reversed(requests.rbegin(), requests.rend());
  const auto rev = lm2->Score(reversed);
  for (size_t t = 0; t < requests.size(); ++t) {
    ExpectSameScores(rev[requests.size() - 1 - t], batched[t], "reversed batch");
  }
}

TEST(EvalBenchTest, RunnerChecksumDoesNotDependOnBatchSize) {
  auto bm = BenchModel::Open(kTiny, "");
  McWorkload w;
  w.n_tasks = 5;
  w.n_ctx = 12;
  w.n_cont = 6;
  w.batch = 1;
  auto one = RunEvalBenchOnEngine(*bm, w, {1}, 1);
  w.batch = 4;
  auto four = RunEvalBenchOnEngine(*bm, w, {2}, 2);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(four.size(), 1u);
  // 5 tasks x 4 choices, each within 1e-5.
  EXPECT_NEAR(one[0].logprob_sum, four[0].logprob_sum, 20 * 1e-5);
  EXPECT_LT(one[0].logprob_sum, 0);
  const EvalRow& r = four[0];
  EXPECT_EQ(r.n_threads, 2);
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_GT(r.tasks_per_s, 0);
  EXPECT_DOUBLE_EQ(r.processed_tokens_per_s, r.tasks_per_s * (12 + 4 * 5));
  EXPECT_DOUBLE_EQ(r.naive_tokens_per_s, r.tasks_per_s * 4 * (12 + 6 - 1));
}

}  // namespace
}  // namespace doge
