// Placeholder: these subcommands arrive with issue #3; replace this file when they do.
#include "engine/error.h"
#include "tasks/cli/commands.h"

namespace doge::cli {
int RunTokenize(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #3)");
}
int RunDetokenize(const Args& args) {
  throw Error(ErrorKind::kUsage, "", args[0], "not available in this build yet (issue #3)");
}
}  // namespace doge::cli
