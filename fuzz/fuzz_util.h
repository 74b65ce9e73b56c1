// Helpers shared by the libFuzzer targets (fuzz/README.md). Each target hands the fuzzer's bytes
// to the project's real parsing entry point, through a file when that entry point takes a path.
// doge::Error is the documented answer to bad input and is swallowed; anything else (another
// exception, a sanitizer report, a signal) is a finding and crashes the fuzzer.
#ifndef DOGE_FUZZ_FUZZ_UTIL_H_
#define DOGE_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <unistd.h>

#include "engine/base/error.h"

namespace doge::fuzz {

// A private folder for this process, created on first use and removed at exit.
inline const std::string& TempDir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/doge-fuzz-XXXXXX";
    if (!mkdtemp(templ.data())) {
      std::perror("doge fuzz: mkdtemp");
      std::abort();
    }
    static std::string copy = templ;
    std::atexit([] { std::string cmd = "rm -rf '" + copy + "'"; (void)std::system(cmd.c_str()); });
    return templ;
  }();
  return dir;
}

// Writes `bytes` to TempDir()/name (replacing it) and returns the path.
inline std::string WriteTemp(const std::string& name, std::string_view bytes) {
  const std::string path = TempDir() + "/" + name;
  // A new file rather than a truncated one: ext4 (auto_da_alloc) flushes a file truncated and
  // rewritten to disk on close, which made every input cost milliseconds of I/O wait.
  std::remove(path.c_str());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    std::abort();
  }
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
  return path;
}

inline void RemoveTemp(const std::string& name) { std::remove((TempDir() + "/" + name).c_str()); }

// The fuzzer's input as text.
inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Runs `fn`, swallowing doge::Error (expected for malformed input). Everything else escapes.
template <typename Fn>
void ExpectOnlyDogeErrors(Fn&& fn) {
  try {
    fn();
  } catch (const doge::Error&) {
  }
}

}  // namespace doge::fuzz

#endif  // DOGE_FUZZ_FUZZ_UTIL_H_
