// Helpers shared by the report tests: temp dirs, file I/O, running the `doge` CLI with its exit
// code and output, and path normalisation so expected markdown can name inputs relative to
// tests/data/reports.
#ifndef DOGE_TESTS_REPORTS_REPORT_TEST_UTIL_H_
#define DOGE_TESTS_REPORTS_REPORT_TEST_UTIL_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace doge::reports::testing {

inline std::string ReportsData() { return std::string(DOGE_TEST_DATA) + "/reports"; }

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void Spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// Input paths in reports are printed as given; tests pass absolute paths under
// tests/data/reports and strip that prefix before comparing with the expected text.
inline std::string Relativize(const std::string& s) {
  return ReplaceAll(s, ReportsData() + "/", "");
}

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "doge_reports_XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `doge <args>` (args already shell-quoted where needed) through /bin/sh.
inline CommandResult RunDoge(const std::string& args) {
  TempDir dir;
  std::string cmd = std::string(DOGE_BINARY) + " " + args + " >" + dir.File("out") + " 2>" +
                    dir.File("err");
  int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(dir.File("out"));
  r.err = Slurp(dir.File("err"));
  return r;
}

}  // namespace doge::reports::testing

#endif  // DOGE_TESTS_REPORTS_REPORT_TEST_UTIL_H_
