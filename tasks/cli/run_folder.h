// Output folders that never mix runs. `doge eval --out-dir DIR` and `doge eval merge --out-dir DIR` write a
// run's results.json and details/ (plus lighteval's results/ and lm-eval's <model>/ folders with
// --output-format). Writing a new run over an old one would leave the old run's task files beside
// the new results.json, so such a folder is refused unless the caller resumes the same run or
// asked to overwrite it, in which case the old run's files are removed first (other files are left
// alone).
#ifndef DOGE_TASKS_CLI_RUN_FOLDER_H_
#define DOGE_TASKS_CLI_RUN_FOLDER_H_

#include <string>
#include <vector>

namespace doge::cli {

// The paths inside `dir` that an earlier `doge eval` wrote (empty when none, or no such folder).
std::vector<std::string> EvalRunFiles(const std::string& dir);

// Before a run writes into `dir`: with `resume` nothing happens (the evaluator checks the run is
// the same); with `overwrite` the old run's files are removed (their names go to stderr); else a
// folder holding another run is an Error(kUsage) naming it and the two ways out. `command` names
// the command for the message ("doge eval").
void PrepareRunFolder(const std::string& dir, bool resume, bool overwrite, const std::string& command);

}  // namespace doge::cli

#endif  // DOGE_TASKS_CLI_RUN_FOLDER_H_
