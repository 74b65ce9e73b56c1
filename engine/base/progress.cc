#include "engine/base/progress.h"

#include <unistd.h>

#include <cmath>

namespace doge {

Progress::Progress(std::string label, int64_t total, Unit unit, std::string unit_name,
                   std::FILE* out)
    : label_(std::move(label)),
      total_(total),
      unit_(unit),
      unit_name_(std::move(unit_name)),
      out_(out),
      terminal_(::isatty(::fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { Finish(); }

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::FormatBytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) b /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string Progress::FormatDuration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  }
  return buf;
}

void Progress::Set(int64_t done) {
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (terminal_ ? since >= 0.1 : since >= plain_interval_s_) {
    last_draw_ = now;
    Draw(false);
  }
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  Draw(true);
}

void Progress::Draw(bool final) {
  double secs = seconds();
  double rate = secs > 0 ? done_ / secs : 0;
  std::string line = label_;
  if (total_ > 0) {
    double frac = std::min(1.0, static_cast<double>(done_) / total_);
    if (terminal_) {
      const int width = 24;
      int fill = static_cast<int>(frac * width);
      line += "  [" + std::string(fill, '#') + std::string(width - fill, '.') + "]";
    }
    char pct[16];
    std::snprintf(pct, sizeof pct, " %3.0f%%", frac * 100);
    line += pct;
  }
  line += "  ";
  if (unit_ == Unit::kBytes) {
    line += FormatBytes(done_);
    if (total_ > 0) line += "/" + FormatBytes(total_);
    line += "  " + FormatBytes(rate) + "/s";
  } else {
    line += std::to_string(done_);
    if (total_ > 0) line += "/" + std::to_string(total_);
    char r[48];
    std::snprintf(r, sizeof r, " %s  %.1f %s/s", unit_name_.c_str(), rate, unit_name_.c_str());
    line += r;
  }
  if (final) {
    line += "  in " + FormatDuration(secs);
  } else if (total_ > 0 && rate > 0) {
    line += "  ETA " + FormatDuration((total_ - done_) / rate);
  }
  if (!suffix_.empty()) line += "  " + suffix_;
  if (terminal_) {
    std::fprintf(out_, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace doge
