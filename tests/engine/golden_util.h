// Helpers shared by the engine tests: fixture paths and golden tensor access.
#ifndef DOGE_TESTS_ENGINE_GOLDEN_UTIL_H_
#define DOGE_TESTS_ENGINE_GOLDEN_UTIL_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/safetensors.h"

namespace doge::testing {

inline std::string FixtureDir(const std::string& name) {
  return std::string(DOGE_TEST_DATA) + "/doge-tiny/" + name;
}

// A golden tensor as fp32 values plus its shape.
struct Golden {
  std::vector<int64_t> shape;
  std::vector<float> f;      // F32 values (also for I64 tensors: converted)
};

inline Golden ReadGolden(const SafetensorsFile& file, const std::string& name) {
  const TensorView* t = file.Find(name);
  EXPECT_NE(t, nullptr) << name;
  Golden g;
  if (!t) return g;
  g.shape = t->shape;
  g.f.resize(static_cast<size_t>(t->numel()));
  std::memcpy(g.f.data(), t->data, g.f.size() * 4);
  return g;
}

// max |a - b| over n values.
inline double MaxAbsDiff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace doge::testing

#endif  // DOGE_TESTS_ENGINE_GOLDEN_UTIL_H_
