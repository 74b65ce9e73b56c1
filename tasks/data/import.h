// Conversion of the datasets' original distribution formats to canonical JSONL (documents.h
// layout). `doge data import` calls ImportSplit on a user's local file; `doge data fetch` calls
// ConvertOriginal on the files it downloaded and extracted. Outputs are written atomically, so a
// failed conversion leaves no file behind.
#ifndef DOGE_TASKS_DATA_IMPORT_H_
#define DOGE_TASKS_DATA_IMPORT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace doge::data {

// One canonical file written.
struct ImportedFile {
  std::string path;     // <dir>/<dataset>/<split>.jsonl or <dir>/mmlu/<subject>/<split>.jsonl
  std::string subject;  // mmlu only
  int64_t rows = 0;
  std::string sha256;   // of the canonical bytes
};

// The canonical split names a dataset accepts (mmlu: dev validation test; others: train
// validation test).
const std::vector<std::string>& SplitNamesFor(const std::string& dataset);

// Converts one original file (or, for mmlu_csv, one per-subject CSV) to the canonical file
// `out_path`. `labels_path`: the .lst file for piqa (required) and winogrande (optional: the
// answers are also inside dev/train jsonl; when both exist they must agree). `subject`: mmlu.
// Throws Error(kDataset, file, "<line>[: field \"x\"]", ...) for malformed input; a labels file
// whose line count differs from the data file is an error.
ImportedFile ConvertOriginal(const std::string& format, const std::string& src,
                             const std::string& labels_path, const std::string& out_path,
                             const std::string& subject = "");

// `doge data import`: converts `from` (a file in the original format; for triviaqa see
// TriviaqaQuestionFiles; for mmlu a folder of
// `<subject>_<split>.csv` files, `_dev`/`_val`/`_test`, or a folder holding dev/ val/ test/
// subfolders) into `dir`. PIQA and WinoGrande labels are found beside the data file by the
// original naming: valid.jsonl -> valid-labels.lst. Returns the files written.
std::vector<ImportedFile> ImportSplit(const std::string& dataset, const std::string& split,
                                      const std::string& from, const std::string& dir);

// TriviaQA from the UW release (triviaqa-rc.tar.gz): rc.nocontext's split S is the question
// files qa/web-<orig>.json then qa/wikipedia-<orig>.json (orig: train, dev, test-without-answers),
// concatenated in that order as the Hugging Face `trivia_qa` loading script builds it. `from` is
// the release folder (or its qa/ folder: both files required) or one or both question files in
// any order (one file imports that domain alone). Any other single JSON file in the same format is
// accepted as is. verified-* files and files of another split are usage errors. Returns the files
// in the order they are read.
std::vector<std::string> TriviaqaQuestionFiles(const std::vector<std::string>& from,
                                               const std::string& split);

// ImportSplit with several --from values (only triviaqa takes more than one).
std::vector<ImportedFile> ImportSplit(const std::string& dataset, const std::string& split,
                                      const std::vector<std::string>& from, const std::string& dir);

// The converters of each original format, as the registry (datasets.h) calls them. Same contract
// as ConvertOriginal: `obqa` picks OpenBookQA's key names; labels as described there.
ImportedFile ConvertArcLike(const std::string& src, const std::string& out_path, bool obqa);
ImportedFile ConvertPiqa(const std::string& src, const std::string& labels_path, const std::string& out_path);
ImportedFile ConvertWinogrande(const std::string& src, const std::string& labels_path,
                               const std::string& out_path);
ImportedFile ConvertHellaswag(const std::string& src, const std::string& out_path);
ImportedFile ConvertMmluCsv(const std::string& src, const std::string& out_path, const std::string& subject);
// The question files, in order, concatenated into one canonical split.
ImportedFile ConvertTriviaqaRc(const std::vector<std::string>& srcs, const std::string& out_path);

// "valid.jsonl" -> "valid-labels.lst" (same folder).
std::string LabelsPathFor(const std::string& data_path);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_IMPORT_H_
