// TaskSpec: one evaluation task under one protocol, declared as data in tasks/specs/<protocol>/
// <task>.json (parsed with simdjson) and compiled into the binary, so `doge` needs no spec files
// at run time. Field names follow lighteval's LightevalTaskConfig (evaluation_split,
// few_shots_split, few_shots_select, generation_size, stop_sequence) so a spec can be diffed
// against the task it reproduces; tasks/specs/README.md has the parity notes.
#ifndef DOGE_TASKS_SPEC_H_
#define DOGE_TASKS_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

namespace doge::tasks {

enum class OutputType { kMultipleChoice, kSingleToken, kGenerateUntil };
// lighteval FewShotSelection members.
enum class Sampler { kSequential, kRandom, kBalanced, kRandomSamplingFromTrain, kRandomSampling };

// How a doc's continuation strings are built.
struct ChoiceSpec {
  std::vector<std::string> literal;    // fixed strings ("A".."D")
  std::string from;                    // a list field of the doc ("choices", "endings") ...
  std::string item_template;           // ... each rendered with {{item}}
  std::vector<std::string> templates;  // or one template per choice
  std::string transform;               // named hook applied to each choice ("" = none)
  bool empty() const { return literal.empty() && from.empty() && templates.empty(); }
};

struct TaskSpec {
  std::string task;       // card task name: mmlu triviaqa arc_easy arc_challenge piqa hellaswag ...
  std::string protocol;   // card-a | card-b
  int version = 0;        // bumped on any change of the rendered requests (README changelog)
  std::string lighteval;  // the lighteval task it reproduces, for people
  std::string dataset;    // canonical dataset folder (tasks/data/documents.h)
  std::string doc_hook;   // typed doc -> template fields: arc openbookqa piqa hellaswag winogrande
                          // mmlu triviaqa (tasks/prompt.h)
  std::string subtasks;   // mmlu only: "per_subject" (57 tasks) | "all_subjects_one_task"
  std::string evaluation_split, few_shots_split;
  std::string few_shots_select;  // as written in the spec
  Sampler sampler = Sampler::kBalanced;
  int num_fewshot = 5;
  std::string instruction;      // template, prepended once to the whole context
  std::string query;            // template, without the instruction
  std::string query_transform;  // named hook on the rendered instruction+query
  ChoiceSpec choices;           // continuations of the evaluated doc
  ChoiceSpec fewshot_choices;   // continuations when the doc is a shot (empty = same)
  std::string golds;            // generate_until: the list field holding the gold strings
  OutputType output_type = OutputType::kMultipleChoice;
  std::vector<std::string> metrics;  // acc acc_norm acc_norm_nospace qem
  std::string aggregation;           // mean | macro | micro
  int generation_size = 0;
  std::vector<std::string> stop_sequence;
  bool stop_on_eos = false;  // lighteval adds the tokenizer's EOS string to the stops
  std::string spec_file;     // "tasks/specs/card-a/arc_easy.json" (for errors)

  // The names results.json reports ("acc", "acc_norm"; nospace is reported as acc_norm, as lighteval
  // does) in a stable order.
  std::vector<std::string> ReportedMetrics() const;
};

// Parses one spec; throws doge::Error(kConfig, file, field, ...) on unknown or missing fields.
TaskSpec ParseTaskSpec(const std::string& json, const std::string& file);

// All compiled-in specs (tasks/specs/*/*.json), parsed once.
const std::vector<TaskSpec>& AllTaskSpecs();
const std::vector<std::string>& ProtocolNames();  // card-a, card-b
// `--protocol auto`: the protocol that produced the model's card row, told apart by size: the
// card made Doge-20M/60M's rows with card-a and Doge-160M/320M's with card-b, and 100M
// parameters lies between the two groups.
const std::string& AutoProtocol(int64_t n_params);
// The seven card columns in card order (ARC = arc_easy + arc_challenge).
const std::vector<std::string>& CardTaskNames();
// Throws Error(kUsage) with a did-you-mean message for an unknown task or protocol.
const TaskSpec& FindTaskSpec(const std::string& task, const std::string& protocol);
// Expands "card" and comma lists; "mmlu:anatomy" names one subject. Returns base task names
// (with subject suffix kept) in card order for "card", in the given order otherwise.
std::vector<std::string> ExpandTaskList(const std::vector<std::string>& names);

const char* SamplerName(Sampler s);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_SPEC_H_
