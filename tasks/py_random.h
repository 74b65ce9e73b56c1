// PyRandom: a bit-exact port of the parts of CPython's `random.Random` that lighteval 0.7.0's
// few-shot samplers use (MT19937 seeded through init_by_array, getrandbits, _randbelow, shuffle,
// sample, randrange). Few-shot selection is part of the evaluation protocol (eval-protocol.md
// §2.3), so these must reproduce CPython's streams exactly; tests/tasks/py_random_test.cc checks
// them against the system python3.
#ifndef DOGE_TASKS_PY_RANDOM_H_
#define DOGE_TASKS_PY_RANDOM_H_

#include <array>
#include <cstddef>
#include <utility>
#include <cstdint>
#include <vector>

namespace doge::tasks {

class PyRandom {
 public:
  // random.Random(seed) / random.seed(seed) for a non-negative int seed: the key passed to
  // init_by_array is abs(seed) split into 32-bit words, least significant first ([0] for 0).
  explicit PyRandom(uint64_t seed);
  void Seed(uint64_t seed);

  // One MT19937 output (genrand_uint32).
  uint32_t NextUint32();
  // random.getrandbits(k), 0 <= k <= 64 (CPython fills 32-bit words from the low end; for k <= 32
  // it is the top k bits of one output).
  uint64_t GetRandBits(int k);
  // random._randbelow(n) (the getrandbits variant): k = n.bit_length(), draw k bits until < n.
  // n == 0 returns 0 without drawing, like CPython.
  uint64_t RandBelow(uint64_t n);
  // random.randrange(n) for n > 0.
  uint64_t RandRange(uint64_t n) { return RandBelow(n); }

  // random.shuffle(x), in place.
  template <typename T>
  void Shuffle(std::vector<T>& x) {
    for (size_t i = x.size(); i-- > 1;) {
      size_t j = static_cast<size_t>(RandBelow(i + 1));
      std::swap(x[i], x[j]);
    }
  }

  // random.sample(range(n), k): the indices CPython's sample picks from a population of size n,
  // in selection order. Uses the same two algorithms and the same set-size threshold
  // (21, plus 4**ceil(log(3k, 4)) when k > 5) so that the random stream is consumed identically.
  // Requires k <= n.
  std::vector<int64_t> SampleIndices(int64_t n, int64_t k);

 private:
  void InitGenrand(uint32_t s);
  void InitByArray(const std::vector<uint32_t>& key);
  std::array<uint32_t, 624> mt_{};  // MT19937 state words
  int mti_ = 625;                   // next word to use; 624 = regenerate
};

}  // namespace doge::tasks

#endif  // DOGE_TASKS_PY_RANDOM_H_
