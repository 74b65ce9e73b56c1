#include "engine/base/fingerprint.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "engine/base/error.h"
#include "engine/base/json_writer.h"
#include "engine/base/kernel_isa.h"

#include "doge_git_revision.h"  // generated at build time: DOGE_GIT_REVISION
#ifndef DOGE_BUILD_TYPE
#define DOGE_BUILD_TYPE "unknown"
#endif
#ifndef DOGE_BUILD_FLAGS
#define DOGE_BUILD_FLAGS ""
#endif

namespace doge {

const char* GitRevision() { return DOGE_GIT_REVISION; }

namespace {

MachineFingerprint Probe() {
  MachineFingerprint f;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::set<std::string> flags;
  while (std::getline(cpuinfo, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && f.cpu_model.empty()) f.cpu_model = value;
    if (key == "flags" && flags.empty()) {
      std::istringstream is(value);
      std::string flag;
      while (is >> flag) flags.insert(flag);
    }
  }
  for (const char* name : {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
                           "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16",
                           "amx_tile", "avx_vnni"}) {
    if (flags.count(name)) f.isa.push_back(name);
  }
#ifdef __AVX2__
  f.isa_compiled.push_back("avx2");
#endif
#ifdef __FMA__
  f.isa_compiled.push_back("fma");
#endif
#ifdef __AVX512F__
  f.isa_compiled.push_back("avx512f");
#endif
#ifdef __AVX512VNNI__
  f.isa_compiled.push_back("avx512_vnni");
#endif
#ifdef __AVX512BF16__
  f.isa_compiled.push_back("avx512_bf16");
#endif
  if (f.isa_compiled.empty()) f.isa_compiled.push_back("sse2");
  try {
    f.kernel_isa = KernelIsaName(ActiveKernelIsa());
  } catch (const Error& e) {  // a bad DOGE_KERNEL_ISA: reported where the kernels are chosen
    f.kernel_isa = "invalid";
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    f.n_cores = CPU_COUNT(&set);
  } else {
    f.n_cores = static_cast<int32_t>(std::thread::hardware_concurrency());
  }
  std::ifstream meminfo("/proc/meminfo");
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      f.memory_bytes = std::stoll(line.substr(9)) * 1024;
      break;
    }
  }
#if defined(__clang__)
  f.compiler = std::string("clang++ ") + __clang_version__;
#elif defined(__GNUC__)
  f.compiler = std::string("g++ ") + __VERSION__;
#else
  f.compiler = "unknown";
#endif
  f.build_type = DOGE_BUILD_TYPE;
  f.flags = DOGE_BUILD_FLAGS;
  f.git_revision = GitRevision();
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) f.hostname = host;
  struct utsname u;
  if (uname(&u) == 0) f.os = std::string(u.sysname) + " " + u.release;
  return f;
}

void StringArray(JsonWriter& w, const std::vector<std::string>& v) {
  w.BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

}  // namespace

const MachineFingerprint& GetMachineFingerprint() {
  static const MachineFingerprint f = Probe();
  return f;
}

void WriteFingerprintJson(JsonWriter& w, const MachineFingerprint& f) {
  w.BeginObject();
  w.Field("cpu_model", f.cpu_model);
  w.Field("n_cores", f.n_cores);
  w.Key("isa");
  StringArray(w, f.isa);
  w.Key("isa_compiled");
  StringArray(w, f.isa_compiled);
  w.Field("kernel_isa", f.kernel_isa);
  w.Field("memory_bytes", f.memory_bytes);
  w.Field("compiler", f.compiler);
  w.Field("build_type", f.build_type);
  w.Field("flags", f.flags);
  w.Field("git_revision", f.git_revision);
  w.Field("hostname", f.hostname);
  w.Field("os", f.os);
  w.EndObject();
}

std::vector<std::string> FingerprintDifferences(const MachineFingerprint& a,
                                                const MachineFingerprint& b) {
  std::vector<std::string> out;
  auto cmp = [&](const char* name, const std::string& x, const std::string& y) {
    if (x != y) out.push_back(std::string(name) + ": '" + x + "' vs '" + y + "'");
  };
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
    return s;
  };
  cmp("cpu_model", a.cpu_model, b.cpu_model);
  cmp("n_cores", std::to_string(a.n_cores), std::to_string(b.n_cores));
  cmp("isa_compiled", join(a.isa_compiled), join(b.isa_compiled));
  if (!a.kernel_isa.empty() && !b.kernel_isa.empty()) cmp("kernel_isa", a.kernel_isa, b.kernel_isa);
  cmp("compiler", a.compiler, b.compiler);
  cmp("build_type", a.build_type, b.build_type);
  cmp("flags", a.flags, b.flags);
  return out;
}

}  // namespace doge
