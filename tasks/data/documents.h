// Typed evaluation documents and their loaders. The canonical on-disk form of every split is one
// JSONL file written by `doge data fetch` / `doge data import`, with the Hugging Face dataset's
// field names (what lighteval's prompt functions read):
//
//   <dir>/<dataset>/<split>.jsonl            dataset: arc_easy arc_challenge piqa hellaswag
//                                            openbookqa winogrande triviaqa
//   <dir>/mmlu/<subject>/<split>.jsonl       split: dev validation test
//
// Row schemas (one JSON object per line):
//   arc_easy, arc_challenge  {"id","question","choices":{"text":[..],"label":[..]},"answerKey"}
//   openbookqa               {"id","question_stem","choices":{"text":[..],"label":[..]},"answerKey"}
//   piqa                     {"goal","sol1","sol2","label":0|1}
//   hellaswag                {"ind":int,"activity_label","ctx_a","ctx_b","ctx","endings":[4],
//                             "source_id","split","split_type","label":"0".."3"}  (label a string,
//                             as in Rowan/hellaswag)
//   winogrande               {"qID","sentence","option1","option2","answer":"1"|"2"}
//   mmlu                     {"question","subject","choices":[4],"answer":0..3}
//   triviaqa                 {"question","question_id","answer":{"aliases":[..],
//                             "normalized_aliases":[..],"value","normalized_value"}}
#ifndef DOGE_TASKS_DATA_DOCUMENTS_H_
#define DOGE_TASKS_DATA_DOCUMENTS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace doge::data {

struct ArcDoc {  // also OpenBookQA (question = question_stem)
  std::string id;
  std::string question;
  std::vector<std::string> choice_texts;   // [n_choices]
  std::vector<std::string> choice_labels;  // [n_choices] "A".."E" or "1".."4"
  std::string answer_key;
};
struct PiqaDoc {
  std::string goal, sol1, sol2;
  int label = 0;  // 0 or 1
};
struct HellaswagDoc {
  int64_t ind = 0;
  std::string activity_label, ctx_a, ctx_b, ctx, source_id, split, split_type;
  std::vector<std::string> endings;  // [4]
  int label = 0;                     // 0..3
};
struct WinograndeDoc {
  std::string qid, sentence, option1, option2;
  int answer = 0;  // 1 or 2
};
struct MmluDoc {
  std::string subject, question;
  std::vector<std::string> choices;  // [4]
  int answer = 0;                    // 0..3
};
struct TriviaqaDoc {
  std::string question, question_id, value, normalized_value;
  std::vector<std::string> aliases, normalized_aliases;
};

// The dataset names of the `doge data` contract, in the order of the adapter table (datasets.h).
const std::vector<std::string>& DatasetNames();
// The 57 MMLU subjects in alphabetical order (cais/mmlu `all` concatenates them in this order).
const std::vector<std::string>& MmluSubjects();

// Path of a canonical split file (see the layout above). `subject` only for mmlu.
std::string SplitPath(const std::string& dir, const std::string& dataset,
                      const std::string& split, const std::string& subject = "");

// Loaders: throw doge::Error(kDataset, file, "<line>: field \"x\"", ...) on malformed rows.
std::vector<ArcDoc> LoadArc(const std::string& dir, const std::string& dataset,  // arc_easy|arc_challenge
                            const std::string& split);
std::vector<ArcDoc> LoadOpenBookQa(const std::string& dir, const std::string& split);
std::vector<PiqaDoc> LoadPiqa(const std::string& dir, const std::string& split);
std::vector<HellaswagDoc> LoadHellaswag(const std::string& dir, const std::string& split);
std::vector<WinograndeDoc> LoadWinogrande(const std::string& dir, const std::string& split);
std::vector<MmluDoc> LoadMmlu(const std::string& dir, const std::string& subject,
                              const std::string& split);
std::vector<TriviaqaDoc> LoadTriviaqa(const std::string& dir, const std::string& split);

// The default data directory: $XDG_CACHE_HOME/doge/datasets, else $HOME/.cache/doge/datasets.
std::string DefaultDataDir();

// Checks a loaded split's document count `n` against datasets-manifest/<dataset>.json (the
// manifest directory is $DOGE_DATASETS_MANIFEST or the source tree's datasets-manifest/).
// `subject` only for mmlu ("" = all subjects together). A mismatch throws
// Error(kDataset, "<manifest file>", "splits[i].count", "expected N documents in <dir>/..., found n")
// unless `allow_mismatch`, in which case a warning goes to stderr. A split whose manifest count is
// unknown is not checked. Evaluation calls this once per split it reads.
void CheckSplitCount(const std::string& dir, const std::string& dataset, const std::string& split,
                     const std::string& subject, int64_t n, bool allow_mismatch);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_DOCUMENTS_H_
