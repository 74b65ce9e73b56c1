// Progress: one progress reporter for every long job (downloads, evaluation, benchmarks).
// On a terminal it redraws one line: "label  [#####.....]  42%  1.2/3.0 MB  4.1 MB/s  ETA 0:07".
// Otherwise (a pipe, CI) it prints a plain line at most every `plain_interval_s` seconds and at
// the end, so logs stay readable.
#ifndef DOGE_ENGINE_BASE_PROGRESS_H_
#define DOGE_ENGINE_BASE_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace doge {

class Progress {
 public:
  enum class Unit { kCount, kBytes };
  // total <= 0 means unknown (no bar, no ETA). `unit_name` labels counts ("docs", "tokens").
  Progress(std::string label, int64_t total, Unit unit = Unit::kCount,
           std::string unit_name = "items", std::FILE* out = stderr);
  ~Progress();

  void Set(int64_t done);
  void Add(int64_t delta) { Set(done_ + delta); }
  // Free text shown after the numbers (e.g. "acc 0.251").
  void SetSuffix(std::string suffix) { suffix_ = std::move(suffix); }
  void Finish();
  // Forces plain or terminal mode (tests); the default is isatty(out).
  void set_terminal(bool terminal) { terminal_ = terminal; }
  double seconds() const;

  // "1.5 MB", "512 B"
  static std::string FormatBytes(double bytes);
  // "1:02:03", "0:07"
  static std::string FormatDuration(double seconds);

 private:
  void Draw(bool final);
  std::string label_;
  int64_t total_;
  Unit unit_;
  std::string unit_name_;
  std::FILE* out_;
  bool terminal_;
  bool finished_ = false;
  int64_t done_ = 0;
  std::string suffix_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  double plain_interval_s_ = 10.0;
};

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_PROGRESS_H_
