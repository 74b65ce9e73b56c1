// The `doge` binary's own basics (issue #18): bare `doge` prints its help on stdout and exits 0;
// `doge --version` names the kernel ISA it would run (the DOGE_KERNEL_ISA pin included), the
// build type and the git revision the binary was built from.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/base/file_util.h"

namespace doge {
namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

CliRun Doge(const std::string& env_and_args) {
  const std::string dir = "/tmp/doge_cli_basics_" + std::to_string(getpid());
  MakeDirs(dir);
  const std::string cmd = env_and_args.substr(0, env_and_args.find('|')) + " " + DOGE_BINARY + " " +
                          env_and_args.substr(env_and_args.find('|') + 1) + " > " + dir + "/out 2> " + dir + "/err";
  const int st = std::system(cmd.c_str());
  CliRun r{WIFEXITED(st) ? WEXITSTATUS(st) : -1, ReadFileToString(dir + "/out"), ReadFileToString(dir + "/err")};
  if (std::system(("rm -rf " + dir).c_str()) != 0) ADD_FAILURE() << "cannot remove " << dir;
  return r;
}

TEST(CliBasicsTest, BareDogePrintsHelpOnStdoutAndSucceeds) {
  const CliRun r = Doge("|");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: doge <command>"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model "), std::string::npos);  // the model command is listed
  EXPECT_EQ(r.err, "");
}

TEST(CliBasicsTest, VersionNamesTheKernelIsaAndTheBuildType) {
  CliRun r = Doge("DOGE_KERNEL_ISA=portable|--version");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("kernel isa: portable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("build type: "), std::string::npos) << r.out;
  r = Doge("DOGE_KERNEL_ISA=avx9000|--version");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("DOGE_KERNEL_ISA"), std::string::npos) << r.err;
}

// The revision is taken at build time, not at configure time: a build after a commit names the
// new commit without a re-configure (before, it kept the revision of the last configure).
TEST(CliBasicsTest, VersionNamesTheRevisionOfTheBuiltTree) {
  const std::string head_file = "/tmp/doge_cli_basics_head_" + std::to_string(getpid());
  const std::string git = "git -C " + std::string(DOGE_SOURCE_DIR) + " rev-parse --short=12 HEAD > " +
                          head_file + " 2>/dev/null";
  if (std::system(git.c_str()) != 0) {
    std::remove(head_file.c_str());
    GTEST_SKIP() << "not a git checkout: the binary says (unknown)";
  }
  std::string head = ReadFileToString(head_file);
  std::remove(head_file.c_str());
  while (!head.empty() && (head.back() == '\n' || head.back() == '\r')) head.pop_back();
  ASSERT_EQ(head.size(), 12u) << head;
  const CliRun r = Doge("|--version");
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string first = r.out.substr(0, r.out.find('\n'));
  // "doge 0.1.0 (<hash>)" or "(<hash>-dirty)" when tracked files differed at build time.
  EXPECT_TRUE(first.find("(" + head + ")") != std::string::npos ||
              first.find("(" + head + "-dirty)") != std::string::npos)
      << first << " vs HEAD " << head;
}

}  // namespace
}  // namespace doge
