// Placeholder: these subcommands arrive with issue #5; replace this file when they do.
#include "engine/error.h"
#include "tasks/cli/commands.h"

namespace doge::cli {
int RunEval(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #5)");
}
int RunTasks(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #5)");
}
}  // namespace doge::cli
