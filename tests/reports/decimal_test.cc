// Card rounding in exact decimal, and the Mann-Whitney U test against hand-computed and
// brute-force-enumerated values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "engine/base/error.h"
#include "reports/src/card.h"
#include "reports/src/decimal.h"
#include "reports/src/stats.h"

namespace doge::reports {
namespace {

std::string Card(const std::string& column, double fraction) {
  return FormatCardPercent(column, Decimal::FromDouble(fraction).Times100());
}

TEST(DecimalTest, BinaryFloatingPointWouldRoundTheWrongWay) {
  // The traps the decimal path avoids: in binary 0.5075 * 100 is 50.74999999999999 (so
  // printf-style rounding gives 50.7), and 27.25 is an exact binary tie that "%.1f" rounds to
  // even (27.2). The card rounds both half-up: 50.8 and 27.3.
  EXPECT_LT(0.5075 * 100, 50.75);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", 27.25);
  EXPECT_STREQ(buf, "27.2");
  EXPECT_EQ(Card("HellaSwag", 0.2725), "27.3");
  EXPECT_EQ(Card("Winogrande", 0.5075), "50.8");
  EXPECT_EQ(Card("OBQA", 0.3145), "31.5");
  EXPECT_EQ(Card("PIQA", 0.58375), "58.4");
  EXPECT_EQ(Card("PIQA", 0.58349), "58.3");
  EXPECT_EQ(Card("OBQA", 0.28), "28.0");
  EXPECT_EQ(Card("MMLU", 1.0), "100.0");
  EXPECT_EQ(Card("MMLU", 0.0), "0.0");
}

TEST(DecimalTest, ArcIsTheMeanBeforeRounding) {
  // 36.85 and 22.75 would round to 36.9 and 22.8 (mean 29.85 -> 29.9); the card averages first:
  // (36.85 + 22.75) / 2 = 29.80 -> 29.8.
  Decimal mean = (Decimal::FromDouble(0.3685) + Decimal::FromDouble(0.2275)).DividedBy(2);
  EXPECT_EQ(FormatCardPercent("ARC", mean.Times100()), "29.8");
  // The card's Doge-20M pair (36.83 + 22.78) / 2 = 29.805 -> 29.8, Doge-60M (50.46 + 25.34) / 2
  // = 37.90 -> 37.9 (eval-protocol.md §0).
  EXPECT_EQ((Decimal::Parse("36.83") + Decimal::Parse("22.78")).DividedBy(2).Format(1), "29.8");
  EXPECT_EQ((Decimal::Parse("50.46") + Decimal::Parse("25.34")).DividedBy(2).Format(1), "37.9");
  // The mean of two values is exact: 0.29805 at two decimals is a true tie and rounds up.
  EXPECT_EQ((Decimal::Parse("0.2961") + Decimal::Parse("0.3")).DividedBy(2).Format(5), "0.29805");
  EXPECT_EQ((Decimal::Parse("29.61") + Decimal::Parse("30")).DividedBy(2).Format(2), "29.81");
}

TEST(DecimalTest, TriviaQaKeepsTwoDecimalsNearZero) {
  // Card: Doge-20M 0.03 (5/17944 = 0.0279%), Doge-60M 0.18 -> 0.2, Doge-160M 4.8.
  EXPECT_EQ(Card("TriviaQA", 5.0 / 17944), "0.03");
  EXPECT_EQ(Card("TriviaQA", 0.0018), "0.2");
  EXPECT_EQ(Card("TriviaQA", 0.0475), "4.8");
  EXPECT_EQ(Card("TriviaQA", 0.0), "0.00");
  EXPECT_EQ(Card("TriviaQA", 0.00049), "0.05");
  EXPECT_EQ(Card("TriviaQA", 0.00096), "0.1");  // one decimal no longer shows 0.0
  // Other columns never switch to two decimals.
  EXPECT_EQ(Card("MMLU", 0.0003), "0.0");
}

TEST(DecimalTest, SignedFormattingForDeltas) {
  EXPECT_EQ(Decimal::Parse("-0.05").Format(1, true), "-0.1");  // half away from zero
  EXPECT_EQ(Decimal::Parse("-0.04").Format(1, true), "+0.0");  // never "-0.0"
  EXPECT_EQ(Decimal::Parse("0.55").Format(1, true), "+0.6");
  EXPECT_EQ((Decimal::Parse("61.5") - Decimal::Parse("58.4")).Format(1, true), "+3.1");
  EXPECT_EQ(Decimal::Parse("7").Format(0), "7");
  EXPECT_EQ(Decimal::Parse("142.5").Format(0), "143");
  EXPECT_EQ(Decimal::FromDouble(1e-5).Format(6), "0.000010");
  EXPECT_DOUBLE_EQ(Decimal::Parse("-12.345").ToDouble(), -12.345);
}

TEST(DecimalTest, ParseRejectsGarbage) {
  for (const char* bad : {"", "-", "1.2.3", "12a", "1e5", "99999999999999"}) {
    EXPECT_THROW(Decimal::Parse(bad), Error) << bad;
  }
}

TEST(MannWhitneyTest, ExactForSmallSamplesWithoutTies) {
  // Complete separation of 5 vs 5: U = 0, p = 2 / C(10, 5) = 2 / 252.
  MannWhitneyResult r = MannWhitneyU({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.u, 0);
  EXPECT_NEAR(r.p_value, 2.0 / 252, 1e-12);
  // 3 vs 3 cannot get below 2 / 20 = 0.1.
  EXPECT_NEAR(MannWhitneyU({1, 2, 3}, {4, 5, 6}).p_value, 0.1, 1e-12);
  EXPECT_NEAR(MannWhitneyMinP(3, 3), 0.1, 1e-12);
  EXPECT_NEAR(MannWhitneyMinP(4, 4), 2.0 / 70, 1e-12);
  // Interleaved: U = 10 of 25; enumerating all 252 splits gives 87 with U <= 10, so
  // p = 2 * 87 / 252 (brute force in Python, itertools.combinations).
  r = MannWhitneyU({100, 101, 102, 103, 104}, {100.5, 101.5, 102.5, 103.5, 104.5});
  EXPECT_EQ(r.u, 10);
  EXPECT_NEAR(r.p_value, 2.0 * 87 / 252, 1e-12);
  // 2 vs 2: counts of U = 0..4 are 1,1,2,1,1, so U = 0 -> p = 2/6.
  EXPECT_NEAR(MannWhitneyU({1, 2}, {3, 4}).p_value, 1.0 / 3, 1e-12);
  // Symmetric in the direction of the shift, and p never exceeds 1.
  EXPECT_NEAR(MannWhitneyU({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5}).p_value, 2.0 / 252, 1e-12);
  EXPECT_EQ(MannWhitneyU({1, 4}, {2, 3}).p_value, 1.0);
}

TEST(MannWhitneyTest, NormalApproximationWithTies) {
  // x = {1, 2, 2, 3}, y = {2, 3, 4, 5}. Ranks: 1 -> 1; the three 2s -> 3; the two 3s -> 5.5;
  // 4 -> 7; 5 -> 8. R_x = 1 + 3 + 3 + 5.5 = 12.5, U = 12.5 - 10 = 2.5, mean 8.
  // var = 4*4/12 * (9 - ((27-3) + (8-2)) / (8*7)) = 11.2857142857; z = (5.5 - 0.5) / sqrt(var)
  // = 1.48835139; p = erfc(z / sqrt 2) = 0.136658248 (hand formula, evaluated in Python).
  MannWhitneyResult r = MannWhitneyU({1, 2, 2, 3}, {2, 3, 4, 5});
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u, 2.5);
  EXPECT_NEAR(r.p_value, 0.13665824773814753, 1e-9);
  // All values equal: no evidence of a difference.
  EXPECT_EQ(MannWhitneyU({3, 3, 3}, {3, 3, 3}).p_value, 1.0);
}

TEST(MannWhitneyTest, LargeSamplesUseTheNormalApproximation) {
  std::vector<double> x, y;
  for (int i = 1; i <= 25; ++i) x.push_back(i);
  for (int i = 26; i <= 50; ++i) y.push_back(i);
  MannWhitneyResult r = MannWhitneyU(x, y);
  EXPECT_FALSE(r.exact);
  // U = 0, mean 312.5, var = 625/12 * 51 = 2656.25, z = 312 / 51.5388 = 6.0537 -> p ~ 1.4e-9.
  EXPECT_NEAR(r.p_value, std::erfc(312.0 / std::sqrt(2656.25) / std::sqrt(2.0)), 1e-15);
  EXPECT_LT(r.p_value, 1e-8);
}

TEST(MedianTest, OddEvenEmpty) {
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(Median({})));
}

}  // namespace
}  // namespace doge::reports
