// Placeholder: these subcommands arrive with issue #6; replace this file when they do.
#include "engine/error.h"
#include "tasks/cli/commands.h"

namespace doge::cli {
int RunBench(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #6)");
}
}  // namespace doge::cli
