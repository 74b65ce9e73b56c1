// MachineFingerprint: what machine and build produced a number. Every JSON the project writes
// (results.json, doge bench rows, kernel benchmark context) embeds it under "fingerprint", and
// `doge report compare` refuses to compare runs whose fingerprints differ unless --force.
#ifndef DOGE_ENGINE_BASE_FINGERPRINT_H_
#define DOGE_ENGINE_BASE_FINGERPRINT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace doge {

class JsonWriter;

// The short git hash of the source tree this binary was built from ("-dirty" when tracked files
// differed from it, "unknown" outside a checkout), taken at build time.
const char* GitRevision();

struct MachineFingerprint {
  std::string cpu_model;           // /proc/cpuinfo "model name"
  int32_t n_cores = 0;             // logical CPUs available to this process
  std::vector<std::string> isa;    // CPU features relevant to the kernels: avx2 fma avx512f ...
  std::vector<std::string> isa_compiled;  // features the binary was compiled for (__AVX2__ ...)
  std::string kernel_isa;          // the kernels the run used: portable | avx2 | avx512
                                   // (engine/base/kernel_isa.h); empty in files written before it
  int64_t memory_bytes = 0;        // /proc/meminfo MemTotal
  std::string compiler;            // "g++ 12.2.0"
  std::string build_type;          // "Release"
  std::string flags;               // compile flags that change speed ("-O3 -march=native ...")
  std::string git_revision;        // short hash of the source tree the binary was built from
  std::string hostname;
  std::string os;                  // uname sysname + release
};

// Reads /proc and the build stamps once; cheap to call again (cached).
const MachineFingerprint& GetMachineFingerprint();

// Writes the fingerprint as a JSON object value (call after w.Key("fingerprint")).
void WriteFingerprintJson(JsonWriter& w, const MachineFingerprint& f);

// Fields that make two runs incomparable (cpu_model, n_cores, isa_compiled, kernel_isa when both
// files have it, compiler, flags, build_type): returns "cpu_model: 'A' vs 'B'" lines, empty when comparable. hostname, memory and
// git_revision are deliberately not compared (comparing revisions is the point of a comparison).
std::vector<std::string> FingerprintDifferences(const MachineFingerprint& a,
                                                const MachineFingerprint& b);

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_FINGERPRINT_H_
