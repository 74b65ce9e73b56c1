// HTML report polish: the SVG bar chart's ± se error bars, value and group labels that never
// overlap however close the values are (the boxes the layout reserves are checked pairwise, and
// the chart is checked to draw its labels exactly there), and the model card's delta test, which
// is "n/a" instead of a warning sign where se is 0 by construction (TriviaQA 0 of N).
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "reports/src/card.h"
#include "reports/src/render.h"
#include "tests/reports/report_test_util.h"

namespace doge::reports {
namespace {

using testing::ReplaceAll;
using testing::ReportsData;
using testing::Slurp;
using testing::Spit;
using testing::TempDir;

// Many groups of three series whose values differ by hundredths, with long labels and error
// bars: every neighbouring value label would sit at the same height.
std::vector<BarGroup> CloseValues() {
  std::vector<BarGroup> groups;
  for (int g = 0; g < 12; ++g) {
    BarGroup b;
    b.label = "doge-20m\npp512+tg128\nt" + std::to_string(g + 1);
    for (int s = 0; s < 3; ++s) {
      const double v = 1234.5 + 0.01 * (g + s);
      b.values.push_back(v);
      b.texts.push_back(std::to_string(static_cast<int>(v)) + ".5");
      b.errors.push_back(s == 1 ? std::optional<double>(3.25) : std::nullopt);
    }
    groups.push_back(b);
  }
  return groups;
}

TEST(ChartLayoutTest, LabelsNeverOverlap) {
  const std::vector<std::string> series = {"m1 ci-1", "m2 laptop", "m3 workstation"};
  for (const auto& groups : {CloseValues(), std::vector<BarGroup>{CloseValues().front()}}) {
    const std::vector<ChartLabelBox> boxes = BarChartLabelBoxes(series, groups, 1);
    size_t n_values = 0;
    for (const auto& g : groups) n_values += g.values.size();
    ASSERT_EQ(boxes.size(), n_values + groups.size());
    for (size_t i = 0; i < boxes.size(); ++i) {
      EXPECT_GT(boxes[i].w, 0);
      EXPECT_GE(boxes[i].y, 45) << boxes[i].text;  // below the legend
      for (size_t j = i + 1; j < boxes.size(); ++j) {
        EXPECT_FALSE(boxes[i].Intersects(boxes[j]))
            << "'" << boxes[i].text << "' at (" << boxes[i].x << ", " << boxes[i].y << ") and '" << boxes[j].text
            << "' at (" << boxes[j].x << ", " << boxes[j].y << ")";
      }
    }
    // The chart draws each value label where its box is: centre x and baseline (y + h - 2).
    const std::string svg = SvgBarChart("t", "tokens/s", series, groups, 1);
    const std::regex label("<text class=\"bar-label\" x=\"([0-9.]+)\" y=\"([0-9.]+)\"[^>]*>([^<]*)</text>");
    size_t k = 0;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), label); it != std::sregex_iterator(); ++it, ++k) {
      ASSERT_LT(k, n_values);
      EXPECT_EQ((*it)[3].str(), boxes[k].text);
      EXPECT_NEAR(std::stod((*it)[1].str()), boxes[k].x + boxes[k].w / 2, 0.051);
      EXPECT_NEAR(std::stod((*it)[2].str()), boxes[k].y + boxes[k].h - 2, 0.051);
    }
    EXPECT_EQ(k, n_values);
    // And the SVG is tall and wide enough for every box.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(svg, m, std::regex("width=\"([0-9]+)\" height=\"([0-9]+)\"")));
    for (const auto& b : boxes) {
      EXPECT_LE(b.x + b.w, std::stod(m[1].str())) << b.text;
      EXPECT_GE(b.x, 0) << b.text;
      EXPECT_LE(b.y + b.h, std::stod(m[2].str())) << b.text;
    }
  }
}

TEST(ChartLayoutTest, ErrorBarsSpanValuePlusMinusSe) {
  BarGroup g;
  g.label = "PIQA";
  g.values = {50.0, 40.0};
  g.errors = {std::optional<double>(10.0), std::nullopt};
  const std::string svg = SvgBarChart("t", "percent", {"ours", "card"}, {g}, 1);
  // One error bar (the second series has none). Axis: 0..NiceCeil(60 * 1.08) = 100, plot 260 px
  // high, so 10 percent points are 26 px: the bar runs from y(40) to y(60), 52 px.
  const std::regex path("<path class=\"error-bar\" d=\"M([0-9.]+) ([0-9.]+)V([0-9.]+)M");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, path)) << svg;
  EXPECT_NEAR(std::stod(m[2].str()) - std::stod(m[3].str()), 52.0, 0.11);
  size_t n_bars = 0;
  for (size_t p = svg.find("class=\"error-bar\""); p != std::string::npos; p = svg.find("class=\"error-bar\"", p + 1)) ++n_bars;
  EXPECT_EQ(n_bars, 1u);
  EXPECT_NE(svg.find("<title>ours: 50.0 \xC2\xB1 10.00</title>"), std::string::npos) << svg;
}

// TriviaQA 0 of N: acc 0 with se 0. Any difference from the card would exceed "2 se"; the cell
// says the test does not apply instead of flagging it.
TEST(CardSeZeroTest, TestIsNotApplicableInsteadOfAWarning) {
  TempDir dir;
  std::string json = Slurp(ReportsData() + "/card/doge-20m.json");
  json = ReplaceAll(json, "\"qem\": 0.0003", "\"qem\": 0");
  json = ReplaceAll(json, "\"qem\": 0.00013", "\"qem\": 0");
  Spit(dir.File("doge-20m.json"), json);
  CardOptions o;
  o.results_files = {dir.File("doge-20m.json")};
  ModelCard card = BuildModelCard(o);
  ASSERT_EQ(card.rows.size(), 1u);
  size_t col = 0;
  while (CardColumns()[col] != "TriviaQA") ++col;
  const CardCell& c = card.rows[0].cells[col];
  ASSERT_TRUE(c.present && c.has_delta);
  EXPECT_EQ(c.ours_se, 0.0);
  EXPECT_NE(c.delta.ToDouble(), 0.0);  // the card says 0.03
  EXPECT_TRUE(c.test_na);
  EXPECT_FALSE(c.flagged);
  const std::string md = RenderCardMarkdown(card);
  EXPECT_NE(md.find("-0.03 \xC2\xB1 0.00 (test n/a: se 0)"), std::string::npos) << md;
  for (const std::string& f : {md, RenderCardHtml(card)}) {
    // No warning sign anywhere in the TriviaQA delta; the legend still explains the sign.
    const size_t at = f.find("(test n/a: se 0)");
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(f.substr(at - 20, 40).find("\xE2\x9A\xA0"), std::string::npos);
  }
  EXPECT_NE(RenderCardJson(card).find("\"test\": \"n/a (se 0)\""), std::string::npos);
}

}  // namespace
}  // namespace doge::reports
