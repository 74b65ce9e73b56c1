// Machine-load accounting (engine/base/machine_load.h) against hand-computed snapshots, and the
// start-up OpenMP wait policy as `doge bench` reports it from outside.
#include "engine/base/machine_load.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "engine/base/file_util.h"

namespace doge {
namespace {

CpuSnapshot Snap(double wall, double busy, double steal, double total, double self) {
  CpuSnapshot s;
  s.ok = true;
  s.wall_s = wall;
  s.busy_s = busy;
  s.steal_s = steal;
  s.total_s = total;
  s.self_cpu_s = self;
  return s;
}

TEST(MachineLoadTest, OthersAreBusyTimeMinusOurOwn) {
  // 2 s window: all CPUs together were busy 3.0 s, of which 2.5 s were ours -> others used
  // 0.5 s / 2 s = 0.25 CPUs: exactly the threshold, not above it -> quiet.
  MachineLoad l = LoadBetween(Snap(10, 100, 0, 400, 7), Snap(12, 103, 0, 404, 9.5));
  ASSERT_TRUE(l.known);
  EXPECT_DOUBLE_EQ(l.other_cores, 0.25);
  EXPECT_FALSE(l.busy);
  EXPECT_EQ(DescribeLoad(l), "quiet");
  // One more busy second by others: 0.75 CPUs -> busy.
  l = LoadBetween(Snap(10, 100, 0, 400, 7), Snap(12, 104, 0, 404, 9.5));
  EXPECT_DOUBLE_EQ(l.other_cores, 0.75);
  EXPECT_TRUE(l.busy);
  EXPECT_NE(DescribeLoad(l).find("BUSY: others used 0.75 of"), std::string::npos);
  // Steal: 0.3 of 4 CPU-seconds = 7.5% > 5% -> busy though nobody else ran here.
  l = LoadBetween(Snap(0, 0, 0, 0, 0), Snap(1, 1, 0.3, 4, 1));
  EXPECT_DOUBLE_EQ(l.steal_fraction, 0.075);
  EXPECT_TRUE(l.busy);
  // Missing counters: unknown, never "quiet".
  CpuSnapshot bad;
  l = LoadBetween(bad, Snap(1, 1, 0, 4, 1));
  EXPECT_FALSE(l.known);
  EXPECT_EQ(DescribeLoad(l), "unknown");
}

TEST(MachineLoadTest, SnapshotsReadThisMachine) {
  const CpuSnapshot a = TakeCpuSnapshot();
  volatile double x = 0;
  for (int i = 0; i < 20000000; ++i) x = x + 1e-9 * i;  // some CPU time of our own
  const CpuSnapshot b = TakeCpuSnapshot();
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_GT(b.self_cpu_s, a.self_cpu_s);
  EXPECT_GE(b.total_s, a.total_s);
  const MachineLoad l = LoadBetween(a, b);
  EXPECT_TRUE(l.known);
  EXPECT_GE(l.other_cores, 0);
  EXPECT_GE(l.n_cpus, 1);
}

TEST(MachineLoadTest, PassiveWaitingWhenOthersWantHalfTheCpusNowAndLately) {
  EXPECT_FALSE(WaitPassivelyAtStart(0, 0.1, 2));
  EXPECT_TRUE(WaitPassivelyAtStart(1, 1.0, 2));  // one busy core of two: a spinning partner stalls
  EXPECT_TRUE(WaitPassivelyAtStart(5, 12.0, 2));
  EXPECT_FALSE(WaitPassivelyAtStart(3, 9.0, 8));
  EXPECT_TRUE(WaitPassivelyAtStart(4, 4.0, 8));
  // A finished compile or an earlier doge run: the average remembers it, nothing runs now.
  EXPECT_FALSE(WaitPassivelyAtStart(0, 1.4, 2));
  // A process starting beside us (`doge ... | python3`): runnable now, no history.
  EXPECT_FALSE(WaitPassivelyAtStart(1, 0.2, 2));
  EXPECT_FALSE(WaitPassivelyAtStart(-1, 5.0, 2));  // /proc unreadable: spin briefly
}

TEST(MachineLoadTest, RunnableThreadsAreCountedNowNotFromTheLoadAverage) {
  const int idle = OtherRunnableThreadsNow();
  ASSERT_GE(idle, 0);
  // Two spinning threads of our own are runnable for the whole sampling window, so the count
  // rises by two whatever else the machine is doing (the load average would need a minute).
  std::atomic<bool> stop{false};
  auto spin = [&stop] { while (!stop.load(std::memory_order_relaxed)) {} };
  std::thread t1(spin), t2(spin);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int busy = OtherRunnableThreadsNow();
  stop = true;
  t1.join();
  t2.join();
  EXPECT_GE(busy, 2) << "idle " << idle;
}

std::string RunDoge(const std::string& env, const std::string& args) {
  const std::string out = testing::TempDir() + "/machine_load_" + std::to_string(getpid()) + ".json";
  const std::string cmd = "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u DOGE_OMP_WAIT " + env + " " +
                          std::string(DOGE_BINARY) + " " + args + " > " + out + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string text = FileExists(out) ? ReadFileToString(out) : "";
  std::remove(out.c_str());
  return text;
}

TEST(MachineLoadTest, BenchReportsTheWaitPolicyAndTheMachineLoad) {
  const std::string args = "bench e2e --model " + std::string(DOGE_TEST_DATA) +
                           "/tiny-model -p 8 -n 0 -t 2 -r 1 --probe-reps 1 --format json";
  // Nothing set: doge chooses (and re-executes once so the OpenMP runtime sees it).
  std::string j = RunDoge("", args);
  EXPECT_NE(j.find("\"machine_load\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"other_cores\""), std::string::npos) << j;
  EXPECT_NE(j.find(" other runnable threads on "), std::string::npos) << j;
  // The user's setting wins and is reported as such.
  j = RunDoge("OMP_WAIT_POLICY=active", args);
  EXPECT_NE(j.find("set by the user"), std::string::npos) << j;
  j = RunDoge("GOMP_SPINCOUNT=5", args);
  EXPECT_NE(j.find("set by the user"), std::string::npos) << j;
}

}  // namespace
}  // namespace doge
