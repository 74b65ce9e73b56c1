// Output helpers shared by the three reports: markdown tables, HTML escaping, a self-contained
// HTML page and an inline SVG grouped bar chart (no scripts, no external resources, so the file
// renders the same offline, in a browser or in headless Chromium).
#ifndef DOGE_REPORTS_SRC_RENDER_H_
#define DOGE_REPORTS_SRC_RENDER_H_

#include <optional>
#include <string>
#include <vector>

namespace doge::reports {

// "| a | b |\n|---|---|\n| 1 | 2 |\n". Pipes inside cells are escaped as "\|".
std::string MarkdownTable(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows);

// &, <, >, " escaped.
std::string HtmlEscape(const std::string& s);

// <table> with a header row; cells are escaped; a cell starting with "!" gets class "flag"
// (the "!" is dropped), for flagged model-card cells.
std::string HtmlTable(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows);

// A full HTML document: <!DOCTYPE html>, inline <style>, `title` as <h1>, then `body_html`.
std::string HtmlPage(const std::string& title, const std::string& body_html);

struct BarGroup {
  std::string label;                   // x-axis label of the group ("PIQA"); '\n' breaks lines
  std::vector<std::optional<double>> values;  // one per series; nullopt draws no bar
  // One per series (may be shorter): ± this around the value is drawn as an error bar (the
  // standard error); nullopt or 0 draws none.
  std::vector<std::optional<double>> errors;
  // Printed above each bar; empty: the value with `value_decimals` places. The card passes its
  // own rounding here ("27.3" for 27.25, where printf would print the binary tie as 27.2).
  std::vector<std::string> texts;
};

// Grouped vertical bars, one colour per series, a legend, y axis from 0 to the largest value
// (error bar included, rounded up to a "nice" number), ± error bars, each bar labelled with its
// value (`value_decimals` places) above its bar and error bar. Labels never overlap: a label
// that would touch one already placed moves up above it, groups are as wide as their x-axis
// labels, and the plot grows upwards when labels need the room.
std::string SvgBarChart(const std::string& title, const std::string& y_label,
                        const std::vector<std::string>& series,
                        const std::vector<BarGroup>& groups, int value_decimals);

// A text's box in the chart, as the layout reserves it: `x`, `y` the top-left corner, in SVG
// pixels. Width is kChartCharWidth per character of the font size (wider than DejaVu Sans' and
// Arial's digits, 0.64 em), height the font size plus 2.
struct ChartLabelBox {
  std::string text;
  double x = 0, y = 0, w = 0, h = 0;
  bool Intersects(const ChartLabelBox& o) const {
    return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h;
  }
};
inline constexpr double kChartCharWidth = 0.66;  // em per character

// The boxes of every value label and x-axis group label SvgBarChart draws for these inputs
// (what the no-overlap test checks; the chart emits exactly these positions).
std::vector<ChartLabelBox> BarChartLabelBoxes(const std::vector<std::string>& series,
                                              const std::vector<BarGroup>& groups, int value_decimals);

// The series colours, in order (also used by the render test to find the bars in a screenshot).
const std::vector<std::string>& ChartColors();

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_RENDER_H_
