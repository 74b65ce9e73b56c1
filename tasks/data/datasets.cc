// The dataset adapter table; see datasets.h.
#include "tasks/data/datasets.h"

#include <algorithm>

#include "engine/base/error.h"
#include "tasks/data/canonical.h"
#include "tasks/data/documents.h"
#include "tasks/text_util.h"

namespace doge::data {

std::vector<std::string> TriviaqaGoldList(std::vector<std::string> aliases) {
  // Python sorts str by code point; UTF-8 byte order is the same order.
  std::sort(aliases.begin(), aliases.end());
  std::vector<std::string> kept;
  for (const std::string& a : aliases) {
    if (kept.empty() || a.rfind(kept.back(), 0) != 0) kept.push_back(a);
  }
  for (std::string& a : kept) a = tasks::RemoveAsciiPunctuation(tasks::PyLower(a));
  return kept;
}

std::pair<std::string, std::string> WinograndeSplitBlank(const std::string& sentence,
                                                         const std::string& where) {
  const size_t blank = sentence.find('_');
  if (blank == std::string::npos || sentence.find('_', blank + 1) != std::string::npos) {
    throw Error(ErrorKind::kDataset, where, "sentence",
                "expected exactly one '_' blank, found " +
                    std::to_string(std::count(sentence.begin(), sentence.end(), '_')) + ": " +
                    sentence);
  }
  return {sentence.substr(0, blank), tasks::PyStrip(sentence.substr(blank + 1))};
}

std::string MmluSubjectWords(const std::string& subject) {
  return tasks::ReplaceAll(subject, "_", " ");
}

namespace {

// "<split file>:<row>" for errors about one document.
std::string RowWhere(const std::string& dir, const std::string& dataset, const std::string& split,
                     const std::string& subject, size_t row) {
  return SplitPath(dir, dataset, split, subject) + ":" + std::to_string(row + 1);
}

// ---- Prompt fields, one function per doc hook: the names lighteval's prompt functions read ----

// prompt.arc / prompt.openbookqa: the question, the choice texts and labels, and the gold index
// (arc: choices.label.index(answerKey); openbookqa: ["A".."E"].index(answerKey.strip())).
std::vector<DocFields> ArcFields(const std::string& dir, const std::string& dataset,
                                 const std::string& split, bool obqa) {
  std::vector<ArcDoc> docs = obqa ? LoadOpenBookQa(dir, split) : LoadArc(dir, dataset, split);
  std::vector<DocFields> out;
  for (size_t r = 0; r < docs.size(); ++r) {
    const ArcDoc& d = docs[r];
    DocFields f;
    f.scalars[obqa ? "question_stem" : "question"] = d.question;
    f.lists["choices"] = d.choice_texts;
    f.lists["labels"] = d.choice_labels;
    int gold = -1;
    if (!obqa) {
      auto it = std::find(d.choice_labels.begin(), d.choice_labels.end(), d.answer_key);
      if (it != d.choice_labels.end()) gold = static_cast<int>(it - d.choice_labels.begin());
    } else {
      const std::string key = tasks::PyStrip(d.answer_key);
      const std::vector<std::string> letters = {"A", "B", "C", "D", "E"};
      auto it = std::find(letters.begin(), letters.end(), key);
      if (it != letters.end()) gold = static_cast<int>(it - letters.begin());
    }
    if (gold < 0) {
      throw Error(ErrorKind::kDataset, RowWhere(dir, dataset, split, "", r), "answerKey",
                  "'" + d.answer_key + "' is not one of the choice labels");
    }
    f.gold_index = gold;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<DocFields> PiqaFields(const std::string& dir, const std::string&,
                                  const std::string& split, const std::string&) {
  std::vector<DocFields> out;
  for (const PiqaDoc& d : LoadPiqa(dir, split)) {
    DocFields f;
    f.scalars = {{"goal", d.goal}, {"sol1", d.sol1}, {"sol2", d.sol2}};
    f.gold_index = d.label;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<DocFields> HellaswagFields(const std::string& dir, const std::string&,
                                       const std::string& split, const std::string&) {
  std::vector<DocFields> out;
  for (const HellaswagDoc& d : LoadHellaswag(dir, split)) {
    DocFields f;
    f.scalars = {{"activity_label", d.activity_label},
                 {"ctx_a", d.ctx_a},
                 {"ctx_b", d.ctx_b},
                 {"ctx", d.ctx}};
    f.lists["endings"] = d.endings;
    f.gold_index = d.label;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<DocFields> WinograndeFields(const std::string& dir, const std::string& dataset,
                                        const std::string& split, const std::string&) {
  std::vector<WinograndeDoc> docs = LoadWinogrande(dir, split);
  std::vector<DocFields> out;
  for (size_t r = 0; r < docs.size(); ++r) {
    const WinograndeDoc& d = docs[r];
    auto [before, after] = WinograndeSplitBlank(d.sentence, RowWhere(dir, dataset, split, "", r));
    DocFields f;
    f.scalars = {{"sentence", d.sentence},
                 {"option1", d.option1},
                 {"option2", d.option2},
                 {"sentence_before_blank", before},
                 {"sentence_after_blank", after}};
    f.gold_index = d.answer - 1;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<DocFields> MmluFields(const std::string& dir, const std::string&,
                                  const std::string& split, const std::string& subject) {
  std::vector<DocFields> out;
  for (const MmluDoc& d : LoadMmlu(dir, subject, split)) {
    DocFields f;
    // prompt.mmlu names the subject of the task, which is the file's subject.
    f.scalars = {{"question", d.question},
                 {"subject", subject},
                 {"subject_words", MmluSubjectWords(subject)}};
    f.lists["choices"] = d.choices;
    f.gold_index = d.answer;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<DocFields> TriviaqaFields(const std::string& dir, const std::string& dataset,
                                      const std::string& split, const std::string&) {
  std::vector<TriviaqaDoc> docs = LoadTriviaqa(dir, split);
  std::vector<DocFields> out;
  for (size_t r = 0; r < docs.size(); ++r) {
    if (docs[r].aliases.empty()) {
      throw Error(ErrorKind::kDataset, RowWhere(dir, dataset, split, "", r), "answer.aliases",
                  "empty alias list (lighteval's triviaqa prompt needs at least one)");
    }
    DocFields f;
    f.scalars = {{"question", docs[r].question}};
    f.lists["gold_aliases"] = TriviaqaGoldList(docs[r].aliases);
    out.push_back(std::move(f));
  }
  return out;
}

// ---- The table ----

const std::vector<std::string> kSplits = {"train", "validation", "test"};

DatasetAdapter Arc(const std::string& name) {
  DatasetAdapter a;
  a.name = name;
  a.source_format = "arc_jsonl";
  a.doc_hook = "arc";
  a.splits = kSplits;
  a.convert = [](const std::string& src, const std::string&, const std::string& out,
                 const std::string&) { return ConvertArcLike(src, out, false); };
  a.validate_row = [](const JsonRow& r) { ParseArcRow(r, false); };
  a.load_fields = [](const std::string& dir, const std::string& dataset, const std::string& split,
                     const std::string&) { return ArcFields(dir, dataset, split, false); };
  return a;
}

DatasetAdapter OpenBookQa() {
  DatasetAdapter a;
  a.name = "openbookqa";
  a.source_format = "obqa_jsonl";
  a.doc_hook = "openbookqa";
  a.splits = kSplits;
  a.convert = [](const std::string& src, const std::string&, const std::string& out,
                 const std::string&) { return ConvertArcLike(src, out, true); };
  a.validate_row = [](const JsonRow& r) { ParseArcRow(r, true); };
  a.load_fields = [](const std::string& dir, const std::string& dataset, const std::string& split,
                     const std::string&) { return ArcFields(dir, dataset, split, true); };
  return a;
}

DatasetAdapter Piqa() {
  DatasetAdapter a;
  a.name = "piqa";
  a.source_format = "piqa_jsonl";
  a.doc_hook = "piqa";
  a.splits = kSplits;
  a.labels_file = DatasetAdapter::Labels::kRequired;
  a.convert = [](const std::string& src, const std::string& labels, const std::string& out,
                 const std::string&) { return ConvertPiqa(src, labels, out); };
  a.validate_row = [](const JsonRow& r) { ParsePiqaRow(r); };
  a.load_fields = PiqaFields;
  return a;
}

DatasetAdapter Hellaswag() {
  DatasetAdapter a;
  a.name = "hellaswag";
  a.source_format = "hellaswag_jsonl";
  a.doc_hook = "hellaswag";
  a.splits = kSplits;
  a.convert = [](const std::string& src, const std::string&, const std::string& out,
                 const std::string&) { return ConvertHellaswag(src, out); };
  a.validate_row = [](const JsonRow& r) { ParseHellaswagRow(r); };
  a.load_fields = HellaswagFields;
  return a;
}

DatasetAdapter Winogrande() {
  DatasetAdapter a;
  a.name = "winogrande";
  a.source_format = "winogrande_jsonl";
  a.doc_hook = "winogrande";
  a.splits = kSplits;
  a.labels_file = DatasetAdapter::Labels::kOptional;
  a.convert = [](const std::string& src, const std::string& labels, const std::string& out,
                 const std::string&) { return ConvertWinogrande(src, labels, out); };
  a.validate_row = [](const JsonRow& r) { ParseWinograndeRow(r); };
  a.load_fields = WinograndeFields;
  return a;
}

DatasetAdapter Mmlu() {
  DatasetAdapter a;
  a.name = "mmlu";
  a.source_format = "mmlu_csv";
  a.doc_hook = "mmlu";
  a.splits = {"dev", "validation", "test"};
  a.subjects = MmluSubjects;
  a.convert = [](const std::string& src, const std::string&, const std::string& out,
                 const std::string& subject) { return ConvertMmluCsv(src, out, subject); };
  a.validate_row = [](const JsonRow& r) { ParseMmluRow(r); };
  a.load_fields = MmluFields;
  return a;
}

DatasetAdapter Triviaqa() {
  DatasetAdapter a;
  a.name = "triviaqa";
  a.source_format = "triviaqa_rc_json";
  a.fetch_formats = {"triviaqa_hf_rows"};
  a.doc_hook = "triviaqa";
  a.splits = kSplits;
  a.convert = [](const std::string& src, const std::string&, const std::string& out,
                 const std::string&) { return ConvertTriviaqaRc({src}, out); };
  a.convert_sources = [](const std::vector<std::string>& from, const std::string& split,
                         const std::string& out) {
    return ConvertTriviaqaRc(TriviaqaQuestionFiles(from, split), out);
  };
  a.validate_row = [](const JsonRow& r) { ParseTriviaqaRow(r); };
  a.load_fields = TriviaqaFields;
  return a;
}

}  // namespace

const std::vector<DatasetAdapter>& DatasetAdapters() {
  static const std::vector<DatasetAdapter> kAdapters = {
      Arc("arc_easy"), Arc("arc_challenge"), Piqa(), Hellaswag(),
      OpenBookQa(),    Winogrande(),         Mmlu(), Triviaqa()};
  return kAdapters;
}

const DatasetAdapter& FindDatasetAdapter(const std::string& name, const std::string& field) {
  for (const DatasetAdapter& a : DatasetAdapters()) {
    if (a.name == name) return a;
  }
  throw Error(ErrorKind::kUsage, "", field, UnknownNameMessage("dataset", name, DatasetNames()));
}

const DatasetAdapter* FindAdapterByFormat(const std::string& format) {
  for (const DatasetAdapter& a : DatasetAdapters()) {
    if (a.source_format == format) return &a;
  }
  return nullptr;
}

const DatasetAdapter* FindAdapterByDocHook(const std::string& hook) {
  for (const DatasetAdapter& a : DatasetAdapters()) {
    if (a.doc_hook == hook) return &a;
  }
  return nullptr;
}

std::vector<std::string> DocHookNames() {
  std::vector<std::string> out;
  for (const DatasetAdapter& a : DatasetAdapters()) {
    if (std::find(out.begin(), out.end(), a.doc_hook) == out.end()) out.push_back(a.doc_hook);
  }
  return out;
}

std::vector<std::string> SourceFormatNames() {
  std::vector<std::string> out;
  for (const DatasetAdapter& a : DatasetAdapters()) {
    out.push_back(a.source_format);
    out.insert(out.end(), a.fetch_formats.begin(), a.fetch_formats.end());
  }
  return out;
}

}  // namespace doge::data
