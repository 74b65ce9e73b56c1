// Metrics on hand-computed examples (lighteval 0.7.0 semantics, eval-protocol.md §2.7).
#include "tasks/metrics.h"

#include <cmath>

#include <gtest/gtest.h>

#include "engine/base/error.h"

namespace doge::tasks {
namespace {

TEST(MetricsTest, AccAndAccNormDisagreeWhereLengthMatters) {
  // choice 0: " a" (-2.0), choice 1: " bbbbbbbb" (-4.0).
  // acc: argmax(-2, -4) = 0. acc_norm: -2/2 = -1 vs -4/9 = -0.444 -> 1.
  // nospace: -2/1 = -2 vs -4/8 = -0.5 -> 1.
  const std::vector<std::string> choices = {" a", " bbbbbbbb"};
  const std::vector<double> lp = {-2.0, -4.0};
  auto m = MultipleChoiceMetrics({"acc", "acc_norm"}, lp, choices, 0, "t");
  EXPECT_EQ(m["acc"], 1);
  EXPECT_EQ(m["acc_norm"], 0);
  m = MultipleChoiceMetrics({"acc_norm_nospace"}, lp, choices, 1, "t");
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m["acc_norm"], 1);  // reported under lighteval's name
  // A case where the leading space flips the answer: " ab" (-3.0) vs "abc" (-4.0).
  // acc_norm: -1.0 vs -1.333 -> 0; nospace: -1.5 vs -1.333 -> 1.
  EXPECT_EQ(MultipleChoiceMetrics({"acc_norm"}, {-3.0, -4.0}, {" ab", "abc"}, 0, "t")["acc_norm"], 1);
  EXPECT_EQ(MultipleChoiceMetrics({"acc_norm_nospace"}, {-3.0, -4.0}, {" ab", "abc"}, 1, "t")["acc_norm"], 1);
}

TEST(MetricsTest, LengthIsInCodePoints) {
  // " Zürich" is 7 code points (8 bytes): nospace divides by 6.
  const auto n = CharNormalized({-6.0, -6.0}, {" Zürich", " Zurich"}, true, "t");
  EXPECT_DOUBLE_EQ(n[0], -1.0);
  EXPECT_DOUBLE_EQ(n[1], -1.0);
  EXPECT_THROW(CharNormalized({-1.0}, {" "}, true, "t"), Error);
}

TEST(MetricsTest, TiesGoToTheFirstChoice) {
  EXPECT_EQ(ArgMax({-1.0, -1.0, -0.5, -0.5}), 2);
  EXPECT_EQ(MultipleChoiceMetrics({"acc"}, {-1.0, -1.0}, {"a", "b"}, 1, "t")["acc"], 0);
}

TEST(MetricsTest, QuasiExactMatch) {
  const std::vector<std::string> golds = {"sinclair lewis", "harry sinclair lewis"};
  EXPECT_EQ(QuasiExactMatch(" Sinclair Lewis", golds), 1);
  EXPECT_EQ(QuasiExactMatch("Sinclair Lewis!", golds), 1);
  EXPECT_EQ(QuasiExactMatch("sinclair  lewis", golds), 0);  // no whitespace collapsing
  EXPECT_EQ(QuasiExactMatch("the sinclair lewis", golds), 0);  // no article removal
  EXPECT_EQ(QuasiExactMatch("", golds), 0);
  EXPECT_EQ(QuasiExactMatch("   ", {""}), 1);  // non-empty before strip, equal after (lighteval order)
  EXPECT_EQ(QuasiExactMatch("Zürich", {"zürich"}), 1);
}

TEST(MetricsTest, CutAtStopsInTurn) {
  EXPECT_EQ(CutAtStops(" Paris, France.\nQ", {"\n", ".", ","}), " Paris");
  EXPECT_EQ(CutAtStops(" St. Louis", {"\n", ".", ","}), " St");
  EXPECT_EQ(CutAtStops(" abc<|end_of_text|>x", {"\n", "<|end_of_text|>"}), " abc");
  EXPECT_EQ(CutAtStops("none", {"\n"}), "none");
}

TEST(MetricsTest, MeanAndSampleStderr) {
  // [1,0,1,1]: mean 0.75; deviations 0.25,0.75,0.25,0.25 -> ss = 0.75; var = 0.25 (ddof 1);
  // std 0.5; stderr = 0.5 / sqrt(4) = 0.25.
  const MetricSummary s = MeanAndStderr({1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(s.value, 0.75);
  EXPECT_DOUBLE_EQ(s.stderr, 0.25);
  EXPECT_TRUE(std::isnan(MeanAndStderr({1}).stderr));
}

}  // namespace
}  // namespace doge::tasks
