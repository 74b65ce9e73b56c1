// Prompt construction: typed dataset rows -> template fields (the named doc hooks) -> lighteval
// `Doc`s (query, instruction, choices, gold) -> the few-shot context string. Everything here is
// string work and needs no model or tokenizer, so `doge tasks render` and the tests use it as is.
#ifndef DOGE_TASKS_PROMPT_H_
#define DOGE_TASKS_PROMPT_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tasks/data/datasets.h"
#include "tasks/spec.h"

namespace doge::tasks {

// The fields a dataset adapter exposes to the spec's templates (tasks/data/datasets.h).
using DocFields = data::DocFields;
using data::MmluSubjectWords;
using data::TriviaqaGoldList;
using data::WinograndeSplitBlank;

// lighteval's Doc after the prompt function: what a shot contributes and what gets scored.
struct PromptDoc {
  std::string instruction;           // prepended once to the whole context ("" for most tasks)
  std::string query;                 // the doc's query without the instruction
  std::vector<std::string> choices;  // [n_choices] continuations, leading spaces included
  int gold_index = 0;
  std::vector<std::string> golds;    // generate_until: the gold strings (TriviaQA alias list)

  // doc_to_target: choices[gold_index], or golds[0] for generate_until (the first alias).
  const std::string& Target() const;
  // lighteval drops a drawn shot that `==` the evaluated Doc (dataclass equality: same query,
  // instruction, choices and gold). A shot-form doc can differ from its eval form (MMLU card-a
  // choices " A" vs "A"), in which case it never matches, exactly as in lighteval.
  bool SameDoc(const PromptDoc& other) const;
};

// {{name}}, {{name[i]}}, {{name|capitalize}}; `item` (for choice templates) binds {{item}}.
// Throws Error(kConfig, spec_file, field) for an unknown field or bad syntax.
std::string RenderTemplate(std::string_view tmpl, const DocFields& fields, const std::string& spec_file,
                           const std::string& field, const std::string* item = nullptr);

// Builds the Doc a prompt function would: `as_fewshot` selects fewshot_choices when the spec has
// them (lighteval's `__few_shots` flag).
PromptDoc BuildPromptDoc(const TaskSpec& spec, const DocFields& fields, bool as_fewshot);

// lighteval PromptManager.get_examples without chat template: instruction + "\n\n".join(shot
// queries + targets, then the query); an output of exactly "\n\n" becomes "".
std::string BuildContext(const PromptDoc& doc, const std::vector<const PromptDoc*>& shots);

// ---- Named hooks (what the data cannot express) ----
// hellaswag_preprocess (lighteval 0.7.0 default_prompts.py): " [title]" -> ". ", drop every
// non-greedy "[...]" tag, then one left-to-right pass of "  " -> " ". No strip.
std::string HellaswagPreprocess(std::string_view text);
// Loads one split of the spec's dataset as template fields: the adapter named by the spec's
// `doc_hook` (tasks/data/datasets.h). `subject` only for per-subject datasets (mmlu). Throws the
// loaders' doge::Error on malformed rows.
std::vector<DocFields> LoadDocFields(const TaskSpec& spec, const std::string& data_dir,
                                     const std::string& split, const std::string& subject);

}  // namespace doge::tasks

#endif  // DOGE_TASKS_PROMPT_H_
