// `doge report machines BENCH...`: end-to-end throughput of the same models on several machines.
// Each BENCH file is one `doge bench e2e` run (doge.bench.e2e/1 rows, one machine), or one
// `mpirun doge bench e2e` run (rows with "rank": one machine per rank). The table has
// one line per (model, test, threads) and one column per machine: mean tokens/s +- stddev and the
// speed relative to the first machine; a second table lists each machine's fingerprint.
#ifndef DOGE_REPORTS_SRC_MACHINES_H_
#define DOGE_REPORTS_SRC_MACHINES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/fingerprint.h"

namespace doge::reports {

inline constexpr char kMachinesReportSchema[] = "doge.report.machines/1";

struct MachineRun {
  std::string label;  // "m1", "m2", ... in argument order
  std::string file;
  MachineFingerprint fingerprint;
  std::string cpu_info;  // the rows' cpu_info (the CPU's full name); "" in files written before it
};

struct MachineCell {
  double avg_ts = 0, stddev_ts = 0;
  double se_ts = 0;     // standard error of avg_ts: stddev_ts / sqrt(repetitions)
  double relative = 1;  // avg_ts / first machine's avg_ts (when the first has this row)
  bool has_relative = false;
};

struct MachineLine {
  std::string model_type;  // "doge-20m"
  int64_t n_params = 0;
  std::string test;        // "pp512" | "tg128" | "pp512+tg128"
  int64_t n_threads = 0;
  std::vector<std::optional<MachineCell>> cells;  // one per machine
};

struct MachinesReport {
  std::vector<MachineRun> machines;
  std::vector<MachineLine> lines;  // sorted by model size, test (pp before tg), threads
};

MachinesReport BuildMachinesReport(const std::vector<std::string>& files);

std::string RenderMachinesMarkdown(const MachinesReport& report);
std::string RenderMachinesJson(const MachinesReport& report);
std::string RenderMachinesHtml(const MachinesReport& report);

}  // namespace doge::reports

#endif  // DOGE_REPORTS_SRC_MACHINES_H_
