// CPython `random` port; see py_random.h. The MT19937 code follows the reference algorithm of
// Matsumoto & Nishimura (mt19937ar.c, which CPython's _randommodule.c also uses).
#include "tasks/py_random.h"

#include <cmath>
#include <stdexcept>
#include <unordered_set>

namespace doge::tasks {

namespace {
constexpr int kN = 624;
constexpr int kM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfU;
constexpr uint32_t kUpperMask = 0x80000000U;
constexpr uint32_t kLowerMask = 0x7fffffffU;

int BitLength(uint64_t n) {
  int k = 0;
  while (n) {
    ++k;
    n >>= 1;
  }
  return k;
}
}  // namespace

PyRandom::PyRandom(uint64_t seed) { Seed(seed); }

void PyRandom::Seed(uint64_t seed) {
  // CPython random_seed(): key = 32-bit chunks of abs(n), little end first; at least one word.
  std::vector<uint32_t> key;
  do {
    key.push_back(static_cast<uint32_t>(seed & 0xffffffffU));
    seed >>= 32;
  } while (seed);
  InitByArray(key);
}

void PyRandom::InitGenrand(uint32_t s) {
  mt_[0] = s;
  for (int i = 1; i < kN; ++i) {
    mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  }
  mti_ = kN;
}

void PyRandom::InitByArray(const std::vector<uint32_t>& key) {
  InitGenrand(19650218U);
  int i = 1, j = 0;
  const int key_length = static_cast<int>(key.size());
  for (int k = (kN > key_length ? kN : key_length); k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] +
             static_cast<uint32_t>(j);  // non linear
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= key_length) j = 0;
  }
  for (int k = kN - 1; k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) -
             static_cast<uint32_t>(i);  // non linear
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000U;  // MSB is 1, assuring a non-zero initial array
  mti_ = kN;
}

uint32_t PyRandom::NextUint32() {
  static const uint32_t mag01[2] = {0x0U, kMatrixA};
  uint32_t y;
  if (mti_ >= kN) {  // generate kN words at one time
    int kk;
    for (kk = 0; kk < kN - kM; ++kk) {
      y = (mt_[kk] & kUpperMask) | (mt_[kk + 1] & kLowerMask);
      mt_[kk] = mt_[kk + kM] ^ (y >> 1) ^ mag01[y & 0x1U];
    }
    for (; kk < kN - 1; ++kk) {
      y = (mt_[kk] & kUpperMask) | (mt_[kk + 1] & kLowerMask);
      mt_[kk] = mt_[kk + (kM - kN)] ^ (y >> 1) ^ mag01[y & 0x1U];
    }
    y = (mt_[kN - 1] & kUpperMask) | (mt_[0] & kLowerMask);
    mt_[kN - 1] = mt_[kM - 1] ^ (y >> 1) ^ mag01[y & 0x1U];
    mti_ = 0;
  }
  y = mt_[mti_++];
  // Tempering.
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

uint64_t PyRandom::GetRandBits(int k) {
  if (k < 0 || k > 64) throw std::invalid_argument("GetRandBits: k must be in [0, 64]");
  if (k == 0) return 0;
  if (k <= 32) return NextUint32() >> (32 - k);
  // CPython _random_Random_getrandbits_impl: fill 32-bit words least significant first; the last
  // (most significant) word keeps only its top bits.
  uint64_t result = 0;
  int shift = 0;
  for (int remaining = k; remaining > 0; remaining -= 32, shift += 32) {
    uint32_t r = NextUint32();
    if (remaining < 32) r >>= (32 - remaining);
    result |= static_cast<uint64_t>(r) << shift;
  }
  return result;
}

uint64_t PyRandom::RandBelow(uint64_t n) {
  if (n == 0) return 0;
  const int k = BitLength(n);  // not n-1: n can be 1
  uint64_t r = GetRandBits(k);
  while (r >= n) r = GetRandBits(k);
  return r;
}

std::vector<int64_t> PyRandom::SampleIndices(int64_t n, int64_t k) {
  if (k < 0 || k > n) throw std::invalid_argument("SampleIndices: sample larger than population");
  std::vector<int64_t> result(static_cast<size_t>(k));
  // CPython: setsize = 21; if k > 5: setsize += 4 ** ceil(log(k * 3, 4)).
  int64_t setsize = 21;
  if (k > 5) {
    setsize += static_cast<int64_t>(std::pow(4.0, std::ceil(std::log(k * 3.0) / std::log(4.0))));
  }
  if (n <= setsize) {
    // An n-length list is smaller than a k-length set: partial Fisher-Yates on a copy.
    std::vector<int64_t> pool(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) pool[i] = i;
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = static_cast<int64_t>(RandBelow(static_cast<uint64_t>(n - i)));
      result[i] = pool[j];
      pool[j] = pool[n - i - 1];  // move non-selected item into vacancy
    }
  } else {
    std::unordered_set<int64_t> selected;
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = static_cast<int64_t>(RandBelow(static_cast<uint64_t>(n)));
      while (selected.count(j)) j = static_cast<int64_t>(RandBelow(static_cast<uint64_t>(n)));
      selected.insert(j);
      result[i] = j;
    }
  }
  return result;
}

}  // namespace doge::tasks
