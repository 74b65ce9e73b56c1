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

std::string SvgBarChart(const std::string& title, const std::string& y_label,
                        const std::vector<std::string>& series,
                        const std::vector<BarGroup>& groups, int value_decimals) {
  // Layout (pixels): left margin for the axis labels, fixed bar width, 60 px under the plot
  // for group labels and 30 px above for the legend.
  const double bar_w = 22, group_gap = 26, left = 60, top = 50, plot_h = 260, bottom = 60;
  const size_t n_series = std::max<size_t>(series.size(), 1);
  const double group_w = n_series * bar_w + group_gap;
  const double width = std::max(420.0, left + groups.size() * group_w + 20);
  const double height = top + plot_h + bottom;
  double max_v = 0;
  for (const auto& g : groups) {
    for (const auto& v : g.values) {
      if (v) max_v = std::max(max_v, *v);
    }
  }
  const double y_max = NiceCeil(max_v * 1.08);
  auto y_of = [&](double v) { return top + plot_h - plot_h * (v / y_max); };
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
    double v = y_max * k / 5, y = y_of(v);
    s += "<line x1=\"" + Num(left, 0) + "\" y1=\"" + Num(y, 1) + "\" x2=\"" + Num(width - 10, 0) +
         "\" y2=\"" + Num(y, 1) + "\" stroke=\"#dddddd\"/>";
    s += "<text x=\"" + Num(left - 6, 0) + "\" y=\"" + Num(y + 4, 1) +
         "\" font-size=\"11\" text-anchor=\"end\">" + Num(v, y_max < 5 ? 2 : 0) + "</text>\n";
  }
  s += "<text x=\"14\" y=\"" + Num(top + plot_h / 2, 0) +
       "\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 14 " +
       Num(top + plot_h / 2, 0) + ")\">" + HtmlEscape(y_label) + "</text>\n";
  // Bars.
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    double gx = left + gi * group_w + group_gap / 2;
    for (size_t si = 0; si < groups[gi].values.size(); ++si) {
      const auto& v = groups[gi].values[si];
      if (!v) continue;
      double x = gx + si * bar_w, y = y_of(*v);
      s += "<rect x=\"" + Num(x, 1) + "\" y=\"" + Num(y, 1) + "\" width=\"" + Num(bar_w - 2, 0) +
           "\" height=\"" + Num(top + plot_h - y, 1) + "\" fill=\"" +
           colors[si % colors.size()] + "\"><title>" + HtmlEscape(series[si]) + ": " +
           (si < groups[gi].texts.size() ? HtmlEscape(groups[gi].texts[si])
                                         : Num(*v, value_decimals)) +
           "</title></rect>";
      const std::string text = si < groups[gi].texts.size() ? groups[gi].texts[si]
                                                            : Num(*v, value_decimals);
      s += "<text x=\"" + Num(x + (bar_w - 2) / 2, 1) + "\" y=\"" + Num(y - 3, 1) +
           "\" font-size=\"9\" text-anchor=\"middle\">" + HtmlEscape(text) + "</text>\n";
    }
    // One <tspan> per '\n'-separated line, 12 px apart, centred under the group.
    const double lx_mid = gx + n_series * bar_w / 2, ly = top + plot_h + 16;
    s += "<text x=\"" + Num(lx_mid, 1) + "\" y=\"" + Num(ly, 0) +
         "\" font-size=\"11\" text-anchor=\"middle\">";
    size_t start = 0;
    for (int line = 0;; ++line) {
      size_t end = groups[gi].label.find('\n', start);
      std::string part = groups[gi].label.substr(start, end == std::string::npos ? end : end - start);
      s += "<tspan x=\"" + Num(lx_mid, 1) + "\" dy=\"" + (line ? "12" : "0") + "\">" +
           HtmlEscape(part) + "</tspan>";
      if (end == std::string::npos) break;
      start = end + 1;
    }
    s += "</text>\n";
  }
  s += "<line x1=\"" + Num(left, 0) + "\" y1=\"" + Num(top + plot_h, 0) + "\" x2=\"" +
       Num(width - 10, 0) + "\" y2=\"" + Num(top + plot_h, 0) + "\" stroke=\"#333333\"/>\n";
  return s + "</svg>\n";
}

}  // namespace doge::reports
