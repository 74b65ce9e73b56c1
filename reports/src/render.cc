#include "reports/src/render.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace doge::reports {

std::string MarkdownTable(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows) {
  auto cell = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '|') out += '\\';
      out += c;
    }
    return out;
  };
  std::string out = "|";
  for (const auto& h : header) out += " " + cell(h) + " |";
  out += "\n|";
  for (size_t i = 0; i < header.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& row : rows) {
    out += "|";
    for (const auto& c : row) out += " " + cell(c) + " |";
    out += "\n";
  }
  return out;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string HtmlTable(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows) {
  std::string out = "<table>\n<tr>";
  for (const auto& h : header) out += "<th>" + HtmlEscape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& c : row) {
      if (!c.empty() && c[0] == '!') {
        out += "<td class=\"flag\">" + HtmlEscape(c.substr(1)) + "</td>";
      } else {
        out += "<td>" + HtmlEscape(c) + "</td>";
      }
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string HtmlPage(const std::string& title, const std::string& body_html) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         HtmlEscape(title) +
         "</title>\n<style>\n"
         "body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 24px; color: #222;"
         " background: #fff; }\n"
         "h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 24px; }\n"
         "table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }\n"
         "th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }\n"
         "th { background: #e8eef7; } td:first-child, th:first-child { text-align: left; }\n"
         "td.flag { background: #ffd6d6; font-weight: bold; }\n"
         "p, li { font-size: 13px; }\n"
         "</style>\n</head>\n<body>\n<h1>" +
         HtmlEscape(title) + "</h1>\n" + body_html + "</body>\n</html>\n";
}

const std::vector<std::string>& ChartColors() {
  // Distinct, saturated colours (matplotlib's tab10 start) that never occur in text antialiasing.
  static const std::vector<std::string> colors = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                  "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return colors;
}

namespace {

std::string Num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Smallest 1/2/5 x 10^k that is >= v (axis maximum).
double NiceCeil(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

}  // namespace

namespace {

// Everything SvgBarChart places, computed once so that BarChartLabelBoxes returns exactly what
// is drawn.
struct ChartLayout {
  static constexpr double kBarW = 22, kGroupGap = 26, kLeft = 60, kPlotH = 260;
  static constexpr double kValueFont = 9, kGroupFont = 11, kGroupLineH = 12;
  double top = 50, bottom = 60, width = 420, height = 0, group_w = 0, y_max = 1;
  std::vector<ChartLabelBox> value_labels;      // text centred at x + w / 2, baseline y + h - 2
  std::vector<std::pair<size_t, size_t>> value_of;  // (group, series) of each value label
  std::vector<ChartLabelBox> group_labels;      // one per group, all its lines
  double YOf(double v) const { return top + kPlotH - kPlotH * (v / y_max); }
};

std::string ValueText(const BarGroup& g, size_t si, int value_decimals) {
  return si < g.texts.size() ? g.texts[si] : Num(*g.values[si], value_decimals);
}

double ErrorOf(const BarGroup& g, size_t si) {
  return si < g.errors.size() && g.errors[si] && std::isfinite(*g.errors[si]) ? std::fabs(*g.errors[si]) : 0.0;
}

std::vector<std::string> Lines(const std::string& label) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = label.find('\n', start);
    out.push_back(label.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// Characters as drawn: UTF-8 continuation bytes do not count.
double Chars(const std::string& s) {
  double n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

ChartLayout LayoutChart(const std::vector<std::string>& series, const std::vector<BarGroup>& groups,
                        int value_decimals) {
  ChartLayout L;
  const size_t n_series = std::max<size_t>(series.size(), 1);
  // A group is as wide as its bars, or as its widest x-axis label line, so those never touch.
  double widest_label = 0;
  size_t max_lines = 1;
  for (const auto& g : groups) {
    const auto lines = Lines(g.label);
    max_lines = std::max(max_lines, lines.size());
    for (const auto& line : lines) widest_label = std::max(widest_label, Chars(line) * kChartCharWidth * L.kGroupFont);
  }
  L.group_w = std::max(n_series * L.kBarW + L.kGroupGap, widest_label + 8);
  L.bottom = std::max(60.0, 24 + max_lines * L.kGroupLineH);
  double max_v = 0;
  for (const auto& g : groups) {
    for (size_t si = 0; si < g.values.size(); ++si) {
      if (g.values[si]) max_v = std::max(max_v, *g.values[si] + ErrorOf(g, si));
    }
  }
  L.y_max = NiceCeil(max_v * 1.08);
  // Value labels in plot coordinates (top = 0 for now): centred over the bar, baseline 3 px
  // above the bar or its error bar; a label that meets one already placed goes up above it,
  // until it meets none.
  const double h = L.kValueFont + 2;
  L.top = 0;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const BarGroup& g = groups[gi];
    const double gx = L.kLeft + gi * L.group_w + (L.group_w - n_series * L.kBarW) / 2;
    for (size_t si = 0; si < g.values.size(); ++si) {
      if (!g.values[si]) continue;
      ChartLabelBox b;
      b.text = ValueText(g, si, value_decimals);
      b.w = Chars(b.text) * kChartCharWidth * L.kValueFont;
      b.h = h;
      b.x = gx + si * L.kBarW + (L.kBarW - 2) / 2 - b.w / 2;
      b.y = L.YOf(*g.values[si] + ErrorOf(g, si)) - 3 - h;
      for (bool moved = true; moved;) {
        moved = false;
        for (const ChartLabelBox& o : L.value_labels) {
          if (b.Intersects(o)) {
            b.y = o.y - h - 1;
            moved = true;
          }
        }
      }
      L.value_labels.push_back(b);
      L.value_of.emplace_back(gi, si);
    }
  }
  // Room above the plot: 50 px for title and legend, more when labels rose above the plot.
  double min_y = 0;
  for (const auto& b : L.value_labels) min_y = std::min(min_y, b.y);
  L.top = 50 - min_y;
  for (auto& b : L.value_labels) b.y += L.top;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const auto lines = Lines(groups[gi].label);
    ChartLabelBox b;
    b.text = groups[gi].label;
    double w = 0;
    for (const auto& line : lines) w = std::max(w, Chars(line) * kChartCharWidth * L.kGroupFont);
    b.w = w;
    b.h = (lines.size() - 1) * L.kGroupLineH + L.kGroupFont + 2;
    b.x = L.kLeft + gi * L.group_w + L.group_w / 2 - w / 2;
    b.y = L.top + L.kPlotH + 16 - L.kGroupFont;
    L.group_labels.push_back(b);
  }
  L.width = std::max(420.0, L.kLeft + groups.size() * L.group_w + 20);
  L.height = L.top + L.kPlotH + L.bottom;
  return L;
}

}  // namespace

std::vector<ChartLabelBox> BarChartLabelBoxes(const std::vector<std::string>& series,
                                              const std::vector<BarGroup>& groups, int value_decimals) {
  ChartLayout L = LayoutChart(series, groups, value_decimals);
  std::vector<ChartLabelBox> all = L.value_labels;
  all.insert(all.end(), L.group_labels.begin(), L.group_labels.end());
  return all;
}

std::string SvgBarChart(const std::string& title, const std::string& y_label,
                        const std::vector<std::string>& series,
                        const std::vector<BarGroup>& groups, int value_decimals) {
  const ChartLayout L = LayoutChart(series, groups, value_decimals);
  const size_t n_series = std::max<size_t>(series.size(), 1);
  const double left = L.kLeft, top = L.top, plot_h = L.kPlotH, bar_w = L.kBarW;
  const double width = L.width, height = L.height;
  auto y_of = [&](double v) { return L.YOf(v); };
  const auto& colors = ChartColors();

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(width, 0) +
                  "\" height=\"" + Num(height, 0) + "\" viewBox=\"0 0 " + Num(width, 0) + " " +
                  Num(height, 0) + "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n";
  s += "<rect x=\"0\" y=\"0\" width=\"" + Num(width, 0) + "\" height=\"" + Num(height, 0) +
       "\" fill=\"#ffffff\"/>\n";
  s += "<text x=\"" + Num(left, 0) + "\" y=\"18\" font-size=\"14\" font-weight=\"bold\">" +
       HtmlEscape(title) + "</text>\n";
  // Legend.
  double lx = left;
  for (size_t i = 0; i < series.size(); ++i) {
    s += "<rect x=\"" + Num(lx, 0) + "\" y=\"28\" width=\"12\" height=\"12\" fill=\"" +
         colors[i % colors.size()] + "\"/>";
    s += "<text x=\"" + Num(lx + 16, 0) + "\" y=\"39\" font-size=\"12\">" +
         HtmlEscape(series[i]) + "</text>\n";
    lx += 30 + 7.5 * series[i].size();
  }
  // Axis with 5 gridlines.
  for (int k = 0; k <= 5; ++k) {
    double v = L.y_max * k / 5, y = y_of(v);
    s += "<line x1=\"" + Num(left, 0) + "\" y1=\"" + Num(y, 1) + "\" x2=\"" + Num(width - 10, 0) +
         "\" y2=\"" + Num(y, 1) + "\" stroke=\"#dddddd\"/>";
    s += "<text x=\"" + Num(left - 6, 0) + "\" y=\"" + Num(y + 4, 1) +
         "\" font-size=\"11\" text-anchor=\"end\">" + Num(v, L.y_max < 5 ? 2 : 0) + "</text>\n";
  }
  s += "<text x=\"14\" y=\"" + Num(top + plot_h / 2, 0) +
       "\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 14 " +
       Num(top + plot_h / 2, 0) + ")\">" + HtmlEscape(y_label) + "</text>\n";
  // Bars and their error bars (± se: a vertical line with 6 px caps).
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const double gx = left + gi * L.group_w + (L.group_w - n_series * bar_w) / 2;
    for (size_t si = 0; si < groups[gi].values.size(); ++si) {
      const auto& v = groups[gi].values[si];
      if (!v) continue;
      double x = gx + si * bar_w, y = y_of(*v);
      const std::string text = ValueText(groups[gi], si, value_decimals);
      const double err = ErrorOf(groups[gi], si);
      s += "<rect x=\"" + Num(x, 1) + "\" y=\"" + Num(y, 1) + "\" width=\"" + Num(bar_w - 2, 0) +
           "\" height=\"" + Num(top + plot_h - y, 1) + "\" fill=\"" +
           colors[si % colors.size()] + "\"><title>" + HtmlEscape(series[si]) + ": " +
           HtmlEscape(text) + (err > 0 ? " \xC2\xB1 " + Num(err, value_decimals + 1) : "") + "</title></rect>";
      if (err > 0) {
        const double cx = x + (bar_w - 2) / 2, y_hi = y_of(*v + err), y_lo = y_of(std::max(0.0, *v - err));
        s += "<path class=\"error-bar\" d=\"M" + Num(cx, 1) + " " + Num(y_lo, 1) + "V" + Num(y_hi, 1) + "M" +
             Num(cx - 3, 1) + " " + Num(y_hi, 1) + "H" + Num(cx + 3, 1) + "M" + Num(cx - 3, 1) + " " +
             Num(y_lo, 1) + "H" + Num(cx + 3, 1) + "\" stroke=\"#222222\" stroke-width=\"1\" fill=\"none\"/>";
      }
    }
  }
  // Value labels where the layout put them (see LayoutChart).
  for (const ChartLabelBox& b : L.value_labels) {
    s += "<text class=\"bar-label\" x=\"" + Num(b.x + b.w / 2, 1) + "\" y=\"" + Num(b.y + b.h - 2, 1) +
         "\" font-size=\"9\" text-anchor=\"middle\">" + HtmlEscape(b.text) + "</text>\n";
  }
  // Group labels: one <tspan> per '\n'-separated line, 12 px apart, centred under the group.
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const double lx_mid = left + gi * L.group_w + L.group_w / 2, ly = top + plot_h + 16;
    s += "<text x=\"" + Num(lx_mid, 1) + "\" y=\"" + Num(ly, 0) +
         "\" font-size=\"11\" text-anchor=\"middle\">";
    const auto lines = Lines(groups[gi].label);
    for (size_t line = 0; line < lines.size(); ++line) {
      s += "<tspan x=\"" + Num(lx_mid, 1) + "\" dy=\"" + (line ? "12" : "0") + "\">" +
           HtmlEscape(lines[line]) + "</tspan>";
    }
    s += "</text>\n";
  }
  s += "<line x1=\"" + Num(left, 0) + "\" y1=\"" + Num(top + plot_h, 0) + "\" x2=\"" +
       Num(width - 10, 0) + "\" y2=\"" + Num(top + plot_h, 0) + "\" stroke=\"#333333\"/>\n";
  return s + "</svg>\n";
}

}  // namespace doge::reports
