// Task names as people write them, mapped onto ours. `--tasks` accepts:
//   ours          arc_easy, mmlu, mmlu:anatomy, and the groups card and arc
//   lighteval     suite|task|k|truncate (lighteval 0.7's task string): lighteval|arc:easy|5|0,
//                 leaderboard|hellaswag|5|0, original|mmlu|5|0, original|mmlu:anatomy|5|0, and
//                 the bare task part (arc:easy); k is taken from the string
//   lm-eval       arc_easy, arc_challenge, hellaswag, piqa, openbookqa, winogrande, triviaqa,
//                 mmlu and mmlu_<subject>, where they name the same task one-to-one
// Every name runs our task with the protocol doge evaluates (the card's lighteval 0.7.0 setup,
// tasks/specs/README.md): a lighteval suite other than the one the card used, or an lm-eval name,
// selects the same data and metric but not that tool's prompt, so the resolution carries a note
// saying so.
#ifndef DOGE_TASKS_TASK_NAMES_H_
#define DOGE_TASKS_TASK_NAMES_H_

#include <string>
#include <vector>

namespace doge::tasks {

struct TaskSelection {
  std::string task;      // ours: "arc_easy", or "mmlu:anatomy" for one MMLU subject
  int num_fewshot = -1;  // k from a lighteval string; -1 = the protocol's (or --num-fewshot)
  std::string given;     // as written on the command line
  std::string note;      // "" or a remark for stderr (another suite's or tool's name)
};

// Resolves and de-duplicates `given` (in order). Throws Error(kUsage, "", "--tasks", ...) for an
// unknown name ("unknown task 'arc_esay'; did you mean arc_easy? ..."), a malformed lighteval
// string, or one task asked for with two different k.
std::vector<TaskSelection> ResolveTaskNames(const std::vector<std::string>& given);

// The text `doge eval --tasks list` prints: every accepted spelling per task, with the k it
// implies and what it runs.
std::string TaskNamesListing();

}  // namespace doge::tasks

#endif  // DOGE_TASKS_TASK_NAMES_H_
