#include "engine/base/error.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace doge {

namespace {
std::string Compose(const std::string& file, const std::string& field, const std::string& message) {
  std::string out;
  if (!file.empty()) out += file + ": ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}
}  // namespace

Error::Error(ErrorKind kind, std::string file, std::string field, std::string message)
    : std::runtime_error(Compose(file, field, message)),
      kind_(kind),
      file_(std::move(file)),
      field_(std::move(field)),
      message_(std::move(message)) {}

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage: return 2;
    case ErrorKind::kIo:
    case ErrorKind::kFormat:
    case ErrorKind::kShape:
    case ErrorKind::kConfig:
    case ErrorKind::kDataset:
    case ErrorKind::kNetwork: return 3;
    case ErrorKind::kInternal: return 1;
    case ErrorKind::kInterrupted: return 130;
  }
  return 1;
}

std::string FormatShape(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

namespace {
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string NearestName(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& a : candidates) {
    size_t d = EditDistance(name, a);
    if (d < best_d) best_d = d, best = a;
  }
  return !best.empty() && best_d <= std::max<size_t>(2, name.size() / 3) ? best : std::string();
}

std::string UnknownNameMessage(const std::string& what, const std::string& name,
                               const std::vector<std::string>& available) {
  std::string out = "unknown " + what + " '" + name + "'";
  if (const std::string best = NearestName(name, available); !best.empty()) {
    out += "; did you mean " + best + "?";
  }
  out += " available: ";
  for (size_t i = 0; i < available.size(); ++i) {
    if (i) out += ", ";
    out += available[i];
  }
  return out;
}

namespace internal {
void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "doge: internal check failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}
}  // namespace internal

}  // namespace doge
