// The `doge` binary's own basics (issue #18): bare `doge` prints its help on stdout and exits 0;
// `doge --version` names the kernel ISA it would run (the DOGE_KERNEL_ISA pin included) and the
// build type.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace
}  // namespace doge
