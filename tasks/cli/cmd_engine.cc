// Placeholder: these subcommands arrive with issue #2; replace this file when they do.
#include "engine/error.h"
#include "tasks/cli/commands.h"

namespace doge::cli {
int RunLogits(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #2)");
}
int RunGenerate(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #2)");
}
int RunInfo(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #2)");
}
int RunScore(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #2)");
}
int RunDev(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #2)");
}
}  // namespace doge::cli
