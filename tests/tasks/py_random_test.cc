// PyRandom against the system's CPython: the test writes a small script, runs python3, and
// compares every number. CPython is the reference the few-shot samplers must match bit for bit
// (eval-protocol.md §2.3).
#include "tasks/py_random.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace doge::tasks {
namespace {

// Runs `script` with python3 and returns its stdout; skips the test when python3 is missing.
std::string RunPython(const std::string& script) {
  char path[] = "/tmp/doge_pyrandom_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  std::string s = script;
  EXPECT_EQ(write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  close(fd);
  std::string cmd = std::string("python3 ") + path;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = p ? pclose(p) : -1;
  std::remove(path);
  EXPECT_EQ(rc, 0) << "python3 failed";
  return out;
}

std::vector<uint64_t> Numbers(const std::string& text) {
  std::istringstream in(text);
  std::vector<uint64_t> v;
  uint64_t x;
  while (in >> x) v.push_back(x);
  return v;
}

const std::vector<uint64_t> kSeeds = {0, 1, 42, 1234, 4294967295ULL, 4294967301ULL};

TEST(PyRandomTest, GetRandBitsMatchesCPython) {
  std::string script = "import random\n";
  std::vector<uint64_t> mine;
  for (uint64_t seed : kSeeds) {
    script += "r = random.Random(" + std::to_string(seed) + ")\n";
    script += "print(*[r.getrandbits(k) for k in [1, 5, 8, 31, 32, 33, 48, 64, 0, 17] * 3])\n";
    PyRandom r(seed);
    for (int rep = 0; rep < 3; ++rep) {
      for (int k : {1, 5, 8, 31, 32, 33, 48, 64, 0, 17}) mine.push_back(r.GetRandBits(k));
    }
  }
  EXPECT_EQ(Numbers(RunPython(script)), mine);
}

TEST(PyRandomTest, RandBelowAndRandRangeMatchCPython) {
  std::string script = "import random\n";
  std::vector<uint64_t> mine;
  const std::vector<uint64_t> ns = {1, 2, 3, 5, 7, 100, 1000, 40398, 138384, 1u << 31, 4294967295ULL};
  for (uint64_t seed : kSeeds) {
    script += "r = random.Random(" + std::to_string(seed) + ")\n";
    script += "print(*[r._randbelow(n) for n in [1, 2, 3, 5, 7, 100, 1000, 40398, 138384, 2**31, 2**32-1]])\n";
    script += "print(*[r.randrange(n) for n in [1, 2, 3, 5, 7, 100, 1000, 40398, 138384, 2**31, 2**32-1]])\n";
    PyRandom r(seed);
    for (uint64_t n : ns) mine.push_back(r.RandBelow(n));
    for (uint64_t n : ns) mine.push_back(r.RandRange(n));
  }
  EXPECT_EQ(Numbers(RunPython(script)), mine);
}

TEST(PyRandomTest, ShuffleMatchesCPython) {
  std::string script = "import random\n";
  std::vector<uint64_t> mine;
  for (uint64_t seed : kSeeds) {
    for (int n : {0, 1, 2, 10, 25, 1172, 10042}) {
      script += "r = random.Random(" + std::to_string(seed) + "); x = list(range(" + std::to_string(n) +
                ")); r.shuffle(x); print(*x); print(r.getrandbits(32))\n";
      PyRandom r(seed);
      std::vector<uint64_t> x(n);
      for (int i = 0; i < n; ++i) x[i] = i;
      r.Shuffle(x);
      mine.insert(mine.end(), x.begin(), x.end());
      mine.push_back(r.GetRandBits(32));  // the stream position after the shuffle matches too
    }
  }
  EXPECT_EQ(Numbers(RunPython(script)), mine);
}

TEST(PyRandomTest, SampleMatchesCPythonOnBothSidesOfTheSetSizeThreshold) {
  // (n, k): n <= 21 (k <= 5) and n <= 85 (k = 6) take the pool algorithm, larger n the set one.
  const std::vector<std::pair<int64_t, int64_t>> cases = {
      {5, 5}, {6, 5}, {21, 5}, {22, 5}, {25, 5}, {40, 6}, {85, 6}, {86, 6}, {2251, 5}, {40398, 6},
      {30, 10}, {200, 16}, {7, 0}};
  std::string script = "import random\n";
  std::vector<uint64_t> mine;
  for (uint64_t seed : kSeeds) {
    script += "r = random.Random(" + std::to_string(seed) + ")\n";
    PyRandom r(seed);
    for (auto [n, k] : cases) {
      // Several draws from one stream, as the per-doc samplers do.
      for (int rep = 0; rep < 4; ++rep) {
        script += "print(*r.sample(range(" + std::to_string(n) + "), " + std::to_string(k) + "))\n";
        for (int64_t v : r.SampleIndices(n, k)) mine.push_back(static_cast<uint64_t>(v));
      }
    }
    script += "print(r.getrandbits(32))\n";
    mine.push_back(r.GetRandBits(32));
  }
  EXPECT_EQ(Numbers(RunPython(script)), mine);
}

TEST(PyRandomTest, KnownFirstOutputOfSeed42) {
  // random.Random(42).random() == 0.6394267984578837 is widely quoted; random() is
  // (a*67108864+b)/2**53 with a = getrandbits(27)... written out: a = out1 >> 5, b = out2 >> 6.
  PyRandom r(42);
  const uint64_t a = r.NextUint32() >> 5, b = r.NextUint32() >> 6;
  const double x = (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  EXPECT_DOUBLE_EQ(x, 0.6394267984578837);
}

TEST(PyRandomTest, SampleRejectsTooLargeK) { EXPECT_THROW(PyRandom(0).SampleIndices(3, 4), std::invalid_argument); }

}  // namespace
}  // namespace doge::tasks
