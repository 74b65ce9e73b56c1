// The dataset adapter registry: one entry per dataset of the `doge data` contract, and the only
// place that knows which datasets exist. Everything that depends on which dataset it handles reads
// its entry: the name lists (manifests, fetch, `doge data ls`), the original format and the
// converter `doge data import` / `fetch` run, the accepted splits, the canonical row validator
// (`doge data verify`, loaders), the per-subject layout (MMLU) and the fields the prompt builder's
// templates see (tasks/prompt.cc, through the spec's `doc_hook`).
//
// Adding a dataset: its entry here (with its row parser and converter), a manifest in
// datasets-manifest/, a spec per protocol in tasks/specs/, fixtures and tests. See tasks/README.md.
#ifndef DOGE_TASKS_DATA_DATASETS_H_
#define DOGE_TASKS_DATA_DATASETS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tasks/data/import.h"
#include "tasks/data/jsonl.h"

namespace doge::data {

// The fields an adapter exposes to a spec's templates ({{question}}, {{choices[0]}}).
struct DocFields {
  std::map<std::string, std::string> scalars;             // "question" -> "..."
  std::map<std::string, std::vector<std::string>> lists;  // "choices" -> [n_choices]
  int gold_index = 0;
};

struct DatasetAdapter {
  std::string name;           // "arc_easy": manifest `dataset`, folder under the data dir
  std::string source_format;  // manifest `format` of the original distribution: "arc_jsonl"
  std::string doc_hook;       // spec `doc_hook` that selects these prompt fields: "arc"
  std::vector<std::string> splits;  // canonical split names `doge data import --split` accepts
  // Per-subject datasets (MMLU) keep one canonical file per subject:
  // <dir>/<name>/<subject>/<split>.jsonl; null for one file per split.
  const std::vector<std::string>& (*subjects)() = nullptr;
  // Other original formats `doge data fetch` reads itself (TriviaQA's Hugging Face rows API).
  std::vector<std::string> fetch_formats;
  // Whether the answers come in "<data>-labels.lst" beside the original file: PIQA's jsonl files
  // carry none (required), WinoGrande's dev/train files carry them too (optional).
  enum class Labels { kNone, kOptional, kRequired };
  Labels labels_file = Labels::kNone;

  // Converts one original file to the canonical file `out_path` (labels_path: see above; subject:
  // per-subject datasets). Throws Error(kDataset) naming file, line and field.
  ImportedFile (*convert)(const std::string& src, const std::string& labels_path,
                          const std::string& out_path, const std::string& subject) = nullptr;
  // Datasets whose split is several original files (TriviaQA: web + wikipedia question files):
  // builds the canonical split from every `--from` value; null when a split is one file.
  ImportedFile (*convert_sources)(const std::vector<std::string>& from, const std::string& split,
                                  const std::string& out_path) = nullptr;
  // Parses and validates one canonical row; throws naming the line and field.
  void (*validate_row)(const JsonRow& row) = nullptr;
  // Loads one canonical split as template fields (`subject` for per-subject datasets). Throws the
  // loaders' Error(kDataset) for a malformed row or one the prompt cannot be built from.
  std::vector<DocFields> (*load_fields)(const std::string& dir, const std::string& dataset,
                                        const std::string& split,
                                        const std::string& subject) = nullptr;

  bool per_subject() const { return subjects != nullptr; }
};

// Every adapter, in the order of DatasetNames() (the order of `doge data ls` and `fetch`).
const std::vector<DatasetAdapter>& DatasetAdapters();
// The adapter of `name`; an unknown name throws Error(kUsage, "", field, "unknown dataset ...;
// did you mean ...?").
const DatasetAdapter& FindDatasetAdapter(const std::string& name, const std::string& field = "dataset");
// The adapter whose import format (`source_format`) is `format`, or null.
const DatasetAdapter* FindAdapterByFormat(const std::string& format);
// The first adapter whose doc hook is `hook`, or null; DocHookNames() lists them once each.
const DatasetAdapter* FindAdapterByDocHook(const std::string& hook);
std::vector<std::string> DocHookNames();
// Every original format a manifest split may name: each adapter's source and fetch formats.
std::vector<std::string> SourceFormatNames();

// ---- Prompt-field helpers the adapters use (lighteval 0.7.0 prompt functions) ----
// TriviaQA gold list: sort the raw aliases (code-point order), drop each alias that starts with
// the previously kept one, then lower-case and remove ASCII punctuation.
std::vector<std::string> TriviaqaGoldList(std::vector<std::string> aliases);
// Winogrande: sentence.split("_") into (text before the blank, text after it stripped). Requires
// exactly one "_" (lighteval unpacks two parts); throws Error(kDataset) otherwise.
std::pair<std::string, std::string> WinograndeSplitBlank(const std::string& sentence,
                                                          const std::string& where);
// "high_school_us_history" -> "high school us history"
std::string MmluSubjectWords(const std::string& subject);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_DATASETS_H_
