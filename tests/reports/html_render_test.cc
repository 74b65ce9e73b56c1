// The HTML reports render in headless Chromium (Debian package `chromium`, installed by
// scripts/install-deps.sh): we screenshot the card and the machines report and check the PNG:
// signature and IHDR (1200 x 900 as requested), CRCs, the decoded pixels hold both bar colours
// of the SVG chart in quantity (the chart was drawn), the flagged-cell background (the CSS
// applied), and many distinct colours (antialiased text, not a blank page).
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>

#include "reports/src/card.h"
#include "reports/src/machines.h"
#include "reports/src/render.h"
#include "tests/reports/report_test_util.h"

namespace doge::reports {
namespace {

using testing::ReportsData;
using testing::TempDir;

struct Image {
  uint32_t width = 0, height = 0;
  std::vector<std::array<uint8_t, 3>> rgb;  // row-major
};

uint32_t Be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

int Paeth(int a, int b, int c) {
  int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

// Minimal PNG decoder for what Chromium writes: 8-bit RGB or RGBA, not interlaced. Fails the
// test (returns false) on anything else or on a CRC/zlib error.
bool DecodePng(const std::string& png, Image* img) {
  static const char kSig[] = "\x89PNG\r\n\x1a\n";
  if (png.size() < 8 || png.compare(0, 8, std::string(kSig, 8)) != 0) {
    ADD_FAILURE() << "not a PNG signature";
    return false;
  }
  std::string idat;
  int channels = 0;
  for (size_t at = 8; at + 12 <= png.size();) {
    uint32_t len = Be32(png, at);
    std::string type = png.substr(at + 4, 4);
    if (at + 12 + len > png.size()) break;
    uLong crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4);
    if (crc != Be32(png, at + 8 + len)) {
      ADD_FAILURE() << "CRC mismatch in chunk " << type;
      return false;
    }
    std::string data = png.substr(at + 8, len);
    if (type == "IHDR") {
      img->width = Be32(data, 0);
      img->height = Be32(data, 4);
      int depth = uint8_t(data[8]), color = uint8_t(data[9]), interlace = uint8_t(data[12]);
      if (depth != 8 || (color != 2 && color != 6) || interlace != 0) {
        ADD_FAILURE() << "unsupported PNG: depth " << depth << " colour " << color;
        return false;
      }
      channels = color == 2 ? 3 : 4;
    } else if (type == "IDAT") {
      idat += data;
    } else if (type == "IEND") {
      break;
    }
    at += 12 + len;
  }
  const size_t stride = size_t(img->width) * channels;
  std::vector<uint8_t> raw((stride + 1) * img->height);
  uLongf raw_len = raw.size();
  if (channels == 0 ||
      uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()),
                 idat.size()) != Z_OK ||
      raw_len != raw.size()) {
    ADD_FAILURE() << "IDAT does not inflate to " << raw.size() << " bytes";
    return false;
  }
  std::vector<uint8_t> prev(stride, 0), cur(stride);
  img->rgb.resize(size_t(img->width) * img->height);
  for (uint32_t y = 0; y < img->height; ++y) {
    const uint8_t* line = raw.data() + y * (stride + 1);
    int filter = line[0];
    for (size_t i = 0; i < stride; ++i) {
      int a = i >= size_t(channels) ? cur[i - channels] : 0, b = prev[i],
          c = i >= size_t(channels) ? prev[i - channels] : 0, x = line[1 + i];
      switch (filter) {
        case 0: break;
        case 1: x += a; break;
        case 2: x += b; break;
        case 3: x += (a + b) / 2; break;
        case 4: x += Paeth(a, b, c); break;
        default: ADD_FAILURE() << "bad filter " << filter; return false;
      }
      cur[i] = uint8_t(x);
    }
    for (uint32_t px = 0; px < img->width; ++px) {
      img->rgb[size_t(y) * img->width + px] = {cur[px * channels], cur[px * channels + 1],
                                               cur[px * channels + 2]};
    }
    prev.swap(cur);
  }
  return true;
}

std::array<uint8_t, 3> Hex(const std::string& color) {  // "#1f77b4"
  unsigned v = std::stoul(color.substr(1), nullptr, 16);
  return {uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

// Pixels within +-4 per channel of `c` (colour management may shift exact values slightly).
size_t CountNear(const Image& img, std::array<uint8_t, 3> c) {
  size_t n = 0;
  for (const auto& p : img.rgb) {
    if (std::abs(p[0] - c[0]) <= 4 && std::abs(p[1] - c[1]) <= 4 && std::abs(p[2] - c[2]) <= 4) {
      ++n;
    }
  }
  return n;
}

// Renders `html` in headless Chromium and decodes the screenshot.
Image Screenshot(const std::string& html) {
  TempDir dir;
  testing::Spit(dir.File("report.html"), html);
  std::string cmd =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--hide-scrollbars --user-data-dir=" +
      dir.File("profile") + " --screenshot=" + dir.File("shot.png") +
      " --window-size=1200,900 file://" + dir.File("report.html") + " >" + dir.File("log") +
      " 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << "chromium failed:\n" << testing::Slurp(dir.File("log"));
  Image img;
  std::string png = testing::Slurp(dir.File("shot.png"));
  EXPECT_TRUE(DecodePng(png, &img)) << "screenshot of " << png.size() << " bytes";
  return img;
}

bool HaveChromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

TEST(HtmlRenderTest, CardRendersTableAndChart) {
  if (!HaveChromium()) {
    if (std::getenv("DOGE_SKIP_BROWSER_TESTS")) GTEST_SKIP() << "DOGE_SKIP_BROWSER_TESTS set";
    FAIL() << "chromium not found: run scripts/install-deps.sh (or set "
              "DOGE_SKIP_BROWSER_TESTS=1 to skip this test knowingly)";
  }
  CardOptions o;
  o.results_files = {ReportsData() + "/card/doge-20m.json", ReportsData() + "/card/tiny.json"};
  o.bench_files = {ReportsData() + "/card/bench-e2e.json"};
  std::string html = RenderCardHtml(BuildModelCard(o));
  // Self-contained: no scripts, no external resources.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://www.w3.org/2000/svg") , html.find("http"));
  EXPECT_EQ(html.find("src="), std::string::npos);
  Image img = Screenshot(html);
  ASSERT_EQ(img.width, 1200u);
  ASSERT_EQ(img.height, 900u);
  // Bars: 7 per series, each 20 px wide and several px tall; the first chart is on screen.
  EXPECT_GT(CountNear(img, Hex(ChartColors()[0])), 3000u) << "no 'ours' bars visible";
  EXPECT_GT(CountNear(img, Hex(ChartColors()[1])), 3000u) << "no 'card' bars visible";
  EXPECT_GT(CountNear(img, Hex("#ffd6d6")), 300u) << "flagged cell background missing";
  std::set<uint32_t> colors;
  for (const auto& p : img.rgb) colors.insert((p[0] << 16) | (p[1] << 8) | p[2]);
  EXPECT_GT(colors.size(), 40u) << "too few colours: blank page?";
  // Mostly white background.
  EXPECT_GT(CountNear(img, {255, 255, 255}), img.rgb.size() / 2);
}

TEST(HtmlRenderTest, MachinesRendersCharts) {
  if (!HaveChromium()) {
    if (std::getenv("DOGE_SKIP_BROWSER_TESTS")) GTEST_SKIP() << "DOGE_SKIP_BROWSER_TESTS set";
    FAIL() << "chromium not found: run scripts/install-deps.sh";
  }
  MachinesReport r = BuildMachinesReport(
      {ReportsData() + "/card/bench-e2e.json", ReportsData() + "/machines/laptop.json"});
  Image img = Screenshot(RenderMachinesHtml(r));
  ASSERT_EQ(img.width, 1200u);
  ASSERT_EQ(img.height, 900u);
  EXPECT_GT(CountNear(img, Hex(ChartColors()[0])), 1500u);
  EXPECT_GT(CountNear(img, Hex(ChartColors()[1])), 1500u);
}

}  // namespace
}  // namespace doge::reports
