// Machine load: how much CPU other processes took while we measured (so a benchmark can say its
// numbers came from a busy machine instead of publishing them as comparable), and the OpenMP
// waiting policy doge chooses at start-up so that busy cores do not collapse multi-thread runs
// (README "OpenMP waiting on a busy machine"). Linux /proc based; elsewhere the load is reported as unknown.
#ifndef DOGE_ENGINE_BASE_MACHINE_LOAD_H_
#define DOGE_ENGINE_BASE_MACHINE_LOAD_H_

#include <string>

namespace doge {

// CPU counters at one instant.
struct CpuSnapshot {
  bool ok = false;
  double wall_s = 0;        // steady clock
  double busy_s = 0;        // all CPUs: user + nice + system + irq + softirq (guest in user)
  double steal_s = 0;       // all CPUs: time the hypervisor gave to other guests
  double total_s = 0;       // all CPUs: every state
  double self_cpu_s = 0;    // this process, all its threads (getrusage)
};
CpuSnapshot TakeCpuSnapshot();

// Load between two snapshots.
struct MachineLoad {
  bool known = false;
  int n_cpus = 0;             // online CPUs
  double other_cores = 0;     // average CPUs busy with other processes (0 .. n_cpus)
  double steal_fraction = 0;  // stolen share of all CPU time
  double loadavg_1m = 0;      // /proc/loadavg at the end
  bool busy = false;          // other_cores > kBusyOtherCores or steal > kBusySteal
  std::string omp_wait;       // the OpenMP waiting policy in force (ConfigureOpenMpWaiting)
};
// A quarter of a core taken by others on average is enough to stall the barriers of a
// multi-thread run (the other threads wait for the descheduled one); 5% steal likewise.
inline constexpr double kBusyOtherCores = 0.25;
inline constexpr double kBusySteal = 0.05;
MachineLoad LoadBetween(const CpuSnapshot& a, const CpuSnapshot& b);
// "quiet" or "BUSY: other processes used 1.30 of 2 CPUs" (for tables).
std::string DescribeLoad(const MachineLoad& load);

// Chooses how idle OpenMP threads wait, before the runtime reads its environment: libgomp
// reads OMP_WAIT_POLICY / GOMP_SPINCOUNT when it is loaded, before main(), so this sets them
// and re-executes the program (argv) once. Unless the user set either variable: bounded
// spinning then sleeping (GOMP_SPINCOUNT=1000, libgomp's own count for oversubscribed teams,
// instead of its default 300000: tens of microseconds, longer than the skew of a balanced
// parallel region) on a machine that is quiet at start, and sleeping at once
// (OMP_WAIT_POLICY=passive) when other threads already want at least half the CPUs, now and over
// the last minute: a thread spinning for a descheduled partner wastes the core the partner needs
// (measured on a loaded 2-CPU machine, 2-thread decode of Doge-20M: 10-28 t/s with libgomp's
// default, 12 with 10000 spins, 75-81 with 1000, 150 passive). Both signals, because each alone
// misleads: the 1-minute load average trails by a minute (a run started right after another, or
// after a compile had ended, saw load 1.4 on an idle 2-CPU machine, slept passively, and decoded
// 314 t/s at 2 threads instead of 1,258 (f32), 366 instead of 4,479 (q8), Doge-20M, Zen 4), and
// the runnable count alone catches passing processes (`doge ... | python3` samples python's
// start-up: passive, and 2-thread q8 decode of Doge-60M fell from 550 to 137-160 t/s).
// The choice is recorded in DOGE_OMP_WAIT (read back by OmpWaitPolicy()). Returns only if no
// re-exec happened.
void ConfigureOpenMpWaiting(char** argv);
// Threads other than this one that are running or runnable now: the median of nine samples of
// /proc/stat's procs_running half a millisecond apart (a passing shell is not a load); -1 if
// unreadable.
int OtherRunnableThreadsNow();
// The start-up rule: sleep at once when others want at least half the CPUs now (-1: unknown ->
// no) and the 1-minute load average says so too.
bool WaitPassivelyAtStart(int other_runnable, double loadavg_1m, int cpus);
std::string OmpWaitPolicy();  // e.g. "GOMP_SPINCOUNT=1000 (doge default, quiet start)"

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_MACHINE_LOAD_H_
