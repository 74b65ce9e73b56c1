// The subcommands of the `doge` binary. Each family is implemented in its own cmd_*.cc and takes
// the arguments after its name (argv[0] is the subcommand name, for usage lines). They return the
// process exit code and throw doge::Error for bad input; main() prints it once.
#ifndef DOGE_TASKS_CLI_COMMANDS_H_
#define DOGE_TASKS_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace doge::cli {

using Args = std::vector<std::string>;

// cmd_engine.cc
int RunLogits(const Args& args);    // doge logits --model DIR --ids 0,5,7 -o F [--incremental K]
int RunGenerate(const Args& args);  // doge generate --model DIR (--prompt T | --ids L) --max-new-tokens N
int RunInfo(const Args& args);      // doge info --model DIR
int RunScore(const Args& args);     // doge score --model DIR --context C --continuation X
int RunDev(const Args& args);       // doge dev random-checkpoint --shape doge-20m --out-dir DIR
// cmd_tokenize.cc
int RunTokenize(const Args& args);
int RunDetokenize(const Args& args);
// cmd_data.cc
int RunData(const Args& args);  // doge data fetch|import|verify|ls
// cmd_model.cc
int RunModel(const Args& args);  // doge model fetch|ls|path
// cmd_eval.cc
int RunEval(const Args& args);
int RunEvalMerge(const Args& args);  // doge eval merge SHARD_DIR... --out-dir DIR (cmd_eval_merge.cc)
int RunTasks(const Args& args);  // doge tasks ls|render
// cmd_bench.cc
int RunBench(const Args& args);  // doge bench kernels|e2e|eval
// cmd_report.cc
int RunReport(const Args& args);  // doge report card|compare|machines

// cmd_quantize.cc
int RunQuantize(const Args& args);  // doge quantize --model DIR --out-dir DIR2 --type q8

// cmd_perplexity.cc
int RunPerplexity(const Args& args);  // doge perplexity --model DIR --file TEXT [--convention ...]

// Shared helpers for the subcommands.
// Parses "0,5,7" (spaces allowed) into ids; throws Error(kUsage, "", flag, ...) on bad input.
std::vector<int> ParseIntList(const std::string& flag, const std::string& text);
// Parses "a,b,c" into strings (empty items dropped).
std::vector<std::string> ParseStringList(const std::string& text);
// Number of threads to use: `requested` if > 0, else all cores.
int ResolveThreads(int requested);

}  // namespace doge::cli

#endif  // DOGE_TASKS_CLI_COMMANDS_H_
