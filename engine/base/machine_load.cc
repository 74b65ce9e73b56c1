// Machine load from /proc/stat, /proc/loadavg and getrusage; the start-up OpenMP wait policy.
#include "engine/base/machine_load.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace doge {
namespace {

double LoadAverage1m() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  if (!(in >> l)) return -1;
  return l;
}

int OnlineCpus() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

// /proc/stat's procs_running: threads running or ready to run now, this one included.
int ProcsRunning() {
  std::ifstream in("/proc/stat");
  std::string key;
  long long value = 0;
  while (in >> key) {
    if (key == "procs_running") return in >> value ? static_cast<int>(value) : -1;
    in.ignore(1 << 16, '\n');
  }
  return -1;
}

}  // namespace

int OtherRunnableThreadsNow() {
  std::vector<int> others;
  for (int i = 0; i < 9; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
    const int n = ProcsRunning();
    if (n < 0) return -1;
    others.push_back(std::max(0, n - 1));  // ourselves
  }
  std::nth_element(others.begin(), others.begin() + 4, others.end());
  return others[4];
}

bool WaitPassivelyAtStart(int other_runnable, double loadavg_1m, int cpus) {
  return other_runnable >= 0 && 2 * other_runnable >= cpus && 2 * loadavg_1m >= cpus;
}

CpuSnapshot TakeCpuSnapshot() {
  CpuSnapshot s;
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    s.self_cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                   1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  }
  std::ifstream in("/proc/stat");
  std::string line;
  if (!std::getline(in, line) || line.rfind("cpu ", 0) != 0) return s;
  std::istringstream ss(line.substr(4));
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user/nice).
  unsigned long long v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (auto& x : v) {
    if (!(ss >> x)) return s;
  }
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (hz <= 0) return s;
  s.busy_s = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
  s.steal_s = static_cast<double>(v[7]) / hz;
  s.total_s = static_cast<double>(v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]) / hz;
  s.ok = true;
  return s;
}

MachineLoad LoadBetween(const CpuSnapshot& a, const CpuSnapshot& b) {
  MachineLoad l;
  l.n_cpus = OnlineCpus();
  l.loadavg_1m = LoadAverage1m();
  l.omp_wait = OmpWaitPolicy();
  const double wall = b.wall_s - a.wall_s;
  if (!a.ok || !b.ok || wall <= 0) return l;
  l.known = true;
  // Our own threads' CPU time is subtracted; the counters tick at 100 Hz, so a short window
  // reads coarsely (a 0.1 s window is +-10% of a core).
  const double others = (b.busy_s - a.busy_s) - (b.self_cpu_s - a.self_cpu_s);
  l.other_cores = std::clamp(others / wall, 0.0, static_cast<double>(l.n_cpus));
  const double total = b.total_s - a.total_s;
  l.steal_fraction = total > 0 ? (b.steal_s - a.steal_s) / total : 0;
  l.busy = l.other_cores > kBusyOtherCores || l.steal_fraction > kBusySteal;
  return l;
}

std::string DescribeLoad(const MachineLoad& load) {
  if (!load.known) return "unknown";
  if (!load.busy) return "quiet";
  char buf[160];
  std::snprintf(buf, sizeof buf, "BUSY: others used %.2f of %d CPUs%s", load.other_cores,
                load.n_cpus, load.steal_fraction > kBusySteal ? ", steal" : "");
  return buf;
}

void ConfigureOpenMpWaiting(char** argv) {
  if (std::getenv("DOGE_OMP_WAIT") != nullptr) return;  // already chosen (or re-executed)
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) {
    setenv("DOGE_OMP_WAIT", "set by the user (OMP_WAIT_POLICY / GOMP_SPINCOUNT)", 1);
    return;
  }
  const int others = OtherRunnableThreadsNow();
  const int cpus = OnlineCpus();
  const double load = LoadAverage1m();
  char state[120];
  std::snprintf(state, sizeof state, "%d other runnable threads on %d CPUs at start, load average %.2f",
                others, cpus, load);
  char why[200];
  if (WaitPassivelyAtStart(others, load, cpus)) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    std::snprintf(why, sizeof why, "OMP_WAIT_POLICY=passive (doge default: %s)", state);
  } else {
    setenv("GOMP_SPINCOUNT", "1000", 1);
    std::snprintf(why, sizeof why, "GOMP_SPINCOUNT=1000 (doge default: %s)", state);
  }
  setenv("DOGE_OMP_WAIT", why, 1);
  execv("/proc/self/exe", argv);
  // No /proc (or exec refused): carry on with the runtime's defaults, and say so.
  setenv("DOGE_OMP_WAIT", "libgomp default (re-exec failed)", 1);
}

std::string OmpWaitPolicy() {
  const char* v = std::getenv("DOGE_OMP_WAIT");
  return v ? v : "libgomp default";
}

}  // namespace doge
