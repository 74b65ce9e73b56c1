#include "tasks/cli/run_folder.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "engine/base/error.h"

namespace doge::cli {

namespace fs = std::filesystem;

namespace {

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool EndsWith(const std::string& s, const std::string& x) {
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

// lm-eval's layout (tasks/export_formats.h): DIR/<model>/results_<time>.json and
// samples_<task>_<time>.jsonl, nothing else.
bool IsLmEvalFolder(const fs::path& p) {
  std::error_code ec;
  bool any = false;
  for (const fs::directory_entry& e : fs::directory_iterator(p, ec)) {
    const std::string n = e.path().filename().string();
    const bool ours = e.is_regular_file() && ((StartsWith(n, "results_") && EndsWith(n, ".json")) ||
                                              (StartsWith(n, "samples_") && EndsWith(n, ".jsonl")));
    if (!ours) return false;
    any = true;
  }
  return any && !ec;
}

}  // namespace

std::vector<std::string> EvalRunFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    const bool run_file = n == "results.json" || (e.is_directory() && (n == "details" || n == "results")) ||
                          (e.is_directory() && IsLmEvalFolder(e.path()));
    if (run_file) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void PrepareRunFolder(const std::string& dir, bool resume, bool overwrite, const std::string& command) {
  if (resume) return;
  const std::vector<std::string> old = EvalRunFiles(dir);
  if (old.empty()) return;
  if (!overwrite) {
    std::string list;
    for (size_t i = 0; i < old.size() && i < 4; ++i) list += (i ? ", " : "") + fs::path(old[i]).filename().string();
    throw Error(ErrorKind::kUsage, dir, "--out-dir",
                "holds another run (" + list + "); " + command +
                    " would mix the two. Pass --resume to continue that run, --overwrite to replace "
                    "it, or choose another folder");
  }
  for (const std::string& p : old) {
    std::error_code ec;
    fs::remove_all(p, ec);
    if (ec) throw Error(ErrorKind::kIo, p, "", "cannot remove the old run's file: " + ec.message());
    std::fprintf(stderr, "%s: --overwrite: removed %s\n", command.c_str(), p.c_str());
  }
}

}  // namespace doge::cli
