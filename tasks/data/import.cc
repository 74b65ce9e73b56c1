#include "tasks/data/import.h"

#include <dirent.h>
#include <simdjson.h>

#include <algorithm>
#include <functional>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/utf8.h"
#include "tasks/data/canonical.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"
#include "tasks/data/jsonl.h"
#include "tasks/text_util.h"

namespace doge::data {

namespace {

// Collects canonical rows and commits them atomically at the end (nothing appears at `path`
// unless the whole conversion succeeded, with at least one row: a source with no documents is
// an error naming it, never an empty file passed off as an import). Buffers 1 MiB at a time.
class CanonicalOut {
 public:
  CanonicalOut(const std::string& path, std::string source)
      : path_(path), source_(std::move(source)), writer_(path) {}
  std::string& buf() { return buf_; }
  void RowDone() {
    ++rows_;
    if (buf_.size() > (1 << 20)) Flush();
  }
  ImportedFile Commit(const std::string& subject) {
    if (rows_ == 0) {
      throw Error(ErrorKind::kDataset, source_, "",
                  "no documents: the import would write an empty " + path_);
    }
    Flush();
    writer_.Commit();
    return ImportedFile{path_, subject, rows_, Sha256File(path_)};
  }

 private:
  void Flush() {
    writer_.Write(buf_);
    buf_.clear();
  }
  std::string path_;
  std::string source_;
  AtomicFileWriter writer_;
  std::string buf_;
  int64_t rows_ = 0;
};

// Reads a labels file (.lst): one label per line. Returns them in order; `path` for errors.
std::vector<std::string> ReadLabels(const std::string& path) {
  if (!FileExists(path)) {
    throw Error(ErrorKind::kDataset, path, "", "labels file missing (expected beside the data file, original naming <split>-labels.lst)");
  }
  std::vector<std::string> out;
  LineReader reader(path);
  std::string_view line;
  while (reader.Next(&line)) out.push_back(tasks::PyStrip(line));
  return out;
}

void CheckLabelCount(const std::string& data_path, int64_t rows, const std::string& labels_path,
                     size_t labels) {
  if (static_cast<int64_t>(labels) != rows) {
    throw Error(ErrorKind::kDataset, labels_path, "",
                "has " + std::to_string(labels) + " lines but " + data_path + " has " +
                    std::to_string(rows) + " rows (they must align line by line)");
  }
}

}  // namespace

// AI2 ARC / OpenBookQA: {"id","question":{"stem","choices":[{"text","label"}]},"answerKey"}.
ImportedFile ConvertArcLike(const std::string& src, const std::string& out_path, bool obqa) {
  CanonicalOut out(out_path, src);
  ForEachJsonlRow(src, [&](const JsonRow& row, int64_t) {
    ArcDoc d;
    d.id = row.GetString("id");
    JsonRow q = row.GetObject("question");
    d.question = q.GetString("stem");
    for (const JsonRow& c : q.GetObjectArray("choices")) {
      d.choice_texts.push_back(c.GetString("text"));
      d.choice_labels.push_back(c.GetString("label"));
    }
    if (d.choice_texts.empty()) q.FailAt("choices", "expected at least one choice, found none");
    d.answer_key = row.GetString("answerKey");
    std::string key = tasks::PyStrip(d.answer_key);
    if (std::find(d.choice_labels.begin(), d.choice_labels.end(), key) == d.choice_labels.end()) {
      row.FailAt("answerKey", "'" + d.answer_key + "' is not one of the choice labels");
    }
    CheckDocument(d, obqa, [&](const char* field, const std::string& message) {
      // The original nests the question: question.stem, question.choices[].text/label.
      const std::string f = std::string(field);
      if (f == "question" || f == "question_stem") q.FailAt("stem", message);
      q.FailAt(f == "choices.text" ? "choices[].text" : "choices[].label", message);
    });
    AppendCanonicalRow(out.buf(), d, obqa);
    out.RowDone();
  });
  return out.Commit("");
}

ImportedFile ConvertPiqa(const std::string& src, const std::string& labels_path,
                         const std::string& out_path) {
  std::vector<std::string> labels = ReadLabels(labels_path);
  // Count data rows first so a short labels file is reported as a count mismatch, not as a
  // missing label on some line.
  int64_t rows = ForEachJsonlRow(src, [](const JsonRow&, int64_t) {});
  CheckLabelCount(src, rows, labels_path, labels.size());
  CanonicalOut out(out_path, src);
  size_t i = 0;
  ForEachJsonlRow(src, [&](const JsonRow& row, int64_t) {
    PiqaDoc d;
    d.goal = row.GetString("goal");
    d.sol1 = row.GetString("sol1");
    d.sol2 = row.GetString("sol2");
    const std::string& l = labels[i];
    if (l != "0" && l != "1") {
      throw Error(ErrorKind::kDataset, labels_path, std::to_string(i + 1),
                  "expected 0 or 1, found '" + l + "'");
    }
    d.label = l[0] - '0';
    ++i;
    CheckDocument(d, [&](const char* field, const std::string& m) { row.FailAt(field, m); });
    AppendCanonicalRow(out.buf(), d);
    out.RowDone();
  });
  return out.Commit("");
}

ImportedFile ConvertWinogrande(const std::string& src, const std::string& labels_path,
                               const std::string& out_path) {
  std::vector<std::string> labels;
  bool have_labels = !labels_path.empty() && FileExists(labels_path);
  if (have_labels) {
    labels = ReadLabels(labels_path);
    int64_t rows = ForEachJsonlRow(src, [](const JsonRow&, int64_t) {});
    CheckLabelCount(src, rows, labels_path, labels.size());
  }
  CanonicalOut out(out_path, src);
  size_t i = 0;
  ForEachJsonlRow(src, [&](const JsonRow& row, int64_t) {
    WinograndeDoc d;
    d.qid = row.GetString("qID");
    d.sentence = row.GetString("sentence");
    d.option1 = row.GetString("option1");
    d.option2 = row.GetString("option2");
    std::string answer;
    if (row.Has("answer")) answer = row.GetString("answer");
    if (have_labels) {
      const std::string& l = labels[i];
      if (!answer.empty() && answer != l) {
        row.FailAt("answer", "'" + answer + "' disagrees with line " + std::to_string(i + 1) + " of " +
                               labels_path + " ('" + l + "')");
      }
      answer = l;
    }
    if (answer.empty()) {
      row.FailAt("answer", have_labels ? "empty" : "missing, and no labels file " + labels_path);
    }
    if (answer != "1" && answer != "2") row.FailAt("answer", "expected \"1\" or \"2\", found \"" + answer + "\"");
    d.answer = answer[0] - '0';
    ++i;
    CheckDocument(d, [&](const char* field, const std::string& m) { row.FailAt(field, m); });
    AppendCanonicalRow(out.buf(), d);
    out.RowDone();
  });
  return out.Commit("");
}

// rowanz/hellaswag: label is an integer there (a string in the HF copy; both accepted).
ImportedFile ConvertHellaswag(const std::string& src, const std::string& out_path) {
  CanonicalOut out(out_path, src);
  ForEachJsonlRow(src, [&](const JsonRow& row, int64_t) {
    HellaswagDoc d = ParseHellaswagUnlabeled(row);
    int64_t label;
    const std::optional<JsonRow> v = row.Find("label");
    if (!v) row.FailAt("label", "missing (the test split has no labels)");
    if (v->IsString()) {
      std::string s = v->String();
      if (s.size() != 1 || s[0] < '0' || s[0] > '9') row.FailAt("label", "expected 0..3, found \"" + s + "\"");
      label = s[0] - '0';
    } else {
      label = v->Int();
    }
    if (label < 0 || label > 3) row.FailAt("label", "expected 0..3, found " + std::to_string(label));
    d.label = static_cast<int>(label);
    CheckDocument(d, [&](const char* field, const std::string& m) { row.FailAt(field, m); });
    AppendCanonicalRow(out.buf(), d);
    out.RowDone();
  });
  return out.Commit("");
}

namespace {

// RFC 4180 CSV: "," separated, fields optionally quoted with '"' ("" inside quotes is a quote,
// quoted fields may span lines), records end with "\n" or "\r\n". Calls fn(fields, line) per
// record, `line` being the record's first line.
void ForEachCsvRecord(const std::string& path,
                      const std::function<void(std::vector<std::string>&, int64_t)>& fn) {
  std::string text = ReadFileToString(path);
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // BOM
  std::vector<std::string> fields;
  std::string field;
  int64_t line = 1, record_line = 1;
  size_t i = 0, n = text.size();
  bool in_record = false;
  while (i < n) {
    char c = text[i];
    if (!in_record) {
      record_line = line;
      in_record = true;
    }
    if (c == '"' && field.empty()) {
      // Quoted field.
      ++i;
      while (true) {
        if (i >= n) throw Error(ErrorKind::kDataset, path, std::to_string(record_line), "unterminated quoted field");
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field.push_back(text[i++]);
      }
      if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        throw Error(ErrorKind::kDataset, path, std::to_string(line), "unexpected character after a closing quote");
      }
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      ++i;
    } else if (c == '\r' && i + 1 < n && text[i + 1] == '\n') {
      ++i;
    } else if (c == '\n') {
      fields.push_back(std::move(field));
      field.clear();
      fn(fields, record_line);
      fields.clear();
      in_record = false;
      ++line;
      ++i;
    } else {
      field.push_back(c);
      ++i;
    }
  }
  if (in_record) {
    fields.push_back(std::move(field));
    fn(fields, record_line);
  }
}

bool IsMmluAnswer(const std::string& a) {
  return a.size() == 1 && ((a[0] >= 'A' && a[0] <= 'D') || (a[0] >= '0' && a[0] <= '3'));
}

}  // namespace

// MMLU CSV: question, A, B, C, D, answer; with or without a header row; answer A-D or 0-3.
ImportedFile ConvertMmluCsv(const std::string& src, const std::string& out_path,
                            const std::string& subject) {
  CanonicalOut out(out_path, src);
  bool first = true;
  ForEachCsvRecord(src, [&](std::vector<std::string>& f, int64_t line) {
    bool is_first = first;
    first = false;
    if (f.size() == 1 && f[0].empty()) return;  // blank line
    if (f.size() != 6) {
      throw Error(ErrorKind::kDataset, src, std::to_string(line),
                  "expected 6 columns (question, 4 choices, answer), found " + std::to_string(f.size()));
    }
    std::string answer = tasks::PyStrip(f[5]);
    // A header row ("question,choice0,...,answer" in the cais/mmlu CSV export) is the one first
    // record whose answer column is not an answer.
    if (is_first && !IsMmluAnswer(answer)) return;
    for (size_t k = 0; k < f.size(); ++k) {
      size_t bad = FindInvalidUtf8(f[k]);
      if (bad != std::string::npos) {
        throw Error(ErrorKind::kDataset, src, std::to_string(line),
                    "column " + std::to_string(k + 1) + " is not valid UTF-8 (byte " + std::to_string(bad + 1) + ")");
      }
    }
    if (!IsMmluAnswer(answer)) {
      throw Error(ErrorKind::kDataset, src, std::to_string(line) + ": column 6 (answer)",
                  "expected A-D or 0-3, found '" + f[5] + "'");
    }
    MmluDoc d;
    d.question = f[0];
    d.subject = subject;
    d.choices.assign(f.begin() + 1, f.begin() + 5);
    d.answer = answer[0] >= 'A' ? answer[0] - 'A' : answer[0] - '0';
    CheckDocument(d, [&](const char* field, const std::string& m) {
      throw Error(ErrorKind::kDataset, src,
                  std::to_string(line) + (std::string(field) == "question" ? ": column 1 (question)"
                                                                           : ": columns 2-5 (choices)"),
                  m);
    });
    AppendCanonicalRow(out.buf(), d);
    out.RowDone();
  });
  return out.Commit(subject);
}

// TriviaQA rc JSON ({"Data":[{"Question","QuestionId","Answer":{...}}]}), converted as the HF
// `trivia_qa` script does: strings stripped; a question without an Answer (test) gets empty
// alias lists and "<unk>" values. Several files are concatenated in the order given (the HF
// script's order is the caller's job: TriviaqaQuestionFiles). rc.nocontext drops the evidence, so
// only the question files matter; the script's line-oriented reader yields the "Data" records in
// file order, which is what parsing the whole JSON gives.
ImportedFile ConvertTriviaqaRc(const std::vector<std::string>& srcs, const std::string& out_path) {
  CanonicalOut out(out_path, srcs.empty() ? "" : srcs.back());
  for (const std::string& src : srcs) {
    if (!FileExists(src)) throw Error(ErrorKind::kIo, src, "", "input file missing");
    simdjson::padded_string text;
    if (auto err = simdjson::padded_string::load(src).get(text)) {
      throw Error(ErrorKind::kIo, src, "",
                  std::string("cannot read: ") + simdjson::error_message(err));
    }
    size_t bad = FindInvalidUtf8(std::string_view(text.data(), text.size()));
    if (bad != std::string::npos) {
      int64_t line = 1 + std::count(text.data(), text.data() + bad, '\n');
      throw Error(ErrorKind::kDataset, src, std::to_string(line),
                  "not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
    }
    const std::unique_ptr<JsonDocument> doc = ParseJsonText(
        src, std::string_view(text.data(), text.size()), ErrorKind::kDataset, "invalid JSON");
    const JsonRow top = doc->root();
    if (!top.IsObject()) top.Fail("expected a JSON object with \"Data\"");
    std::vector<JsonRow> data = top.GetObjectArray("Data");
    for (const JsonRow& q : data) {
      TriviaqaDoc d;
      d.question = tasks::PyStrip(q.GetString("Question"));
      d.question_id = q.GetString("QuestionId");
      if (q.Has("Answer")) {
        JsonRow a = q.GetObject("Answer");
        for (auto& s : a.GetStringArray("Aliases")) d.aliases.push_back(tasks::PyStrip(s));
        for (auto& s : a.GetStringArray("NormalizedAliases"))
          d.normalized_aliases.push_back(tasks::PyStrip(s));
        d.value = tasks::PyStrip(a.GetString("Value"));
        d.normalized_value = tasks::PyStrip(a.GetString("NormalizedValue"));
      } else {
        d.value = d.normalized_value = "<unk>";
      }
      CheckDocument(d, [&](const char* field, const std::string& m) {
        q.FailAt(std::string(field) == "question" ? "Question" : "Answer.Aliases", m);
      });
      AppendCanonicalRow(out.buf(), d);
      out.RowDone();
    }
  }
  return out.Commit("");
}

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) out.emplace_back(e->d_name);
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

const std::vector<std::string>& SplitNamesFor(const std::string& dataset) {
  return FindDatasetAdapter(dataset).splits;
}

std::string LabelsPathFor(const std::string& data_path) {
  std::string base = data_path;
  if (EndsWith(base, ".jsonl")) base.resize(base.size() - 6);
  return base + "-labels.lst";
}

ImportedFile ConvertOriginal(const std::string& format, const std::string& src,
                             const std::string& labels_path, const std::string& out_path,
                             const std::string& subject) {
  if (!FileExists(src)) throw Error(ErrorKind::kIo, src, "", "input file missing");
  if (const DatasetAdapter* a = FindAdapterByFormat(format)) {
    return a->convert(src, labels_path, out_path, subject);
  }
  throw Error(ErrorKind::kInternal, "", "format", "no converter for '" + format + "'");
}

std::string TriviaqaOriginalSplit(const std::string& split) {
  if (split == "train") return "train";
  if (split == "validation") return "dev";
  if (split == "test") return "test-without-answers";
  throw Error(ErrorKind::kUsage, "", "--split",
              UnknownNameMessage("split for triviaqa", split, SplitNamesFor("triviaqa")));
}

std::vector<std::string> TriviaqaQuestionFiles(const std::vector<std::string>& from,
                                               const std::string& split) {
  const std::string orig = TriviaqaOriginalSplit(split);
  const std::vector<std::string> domains = {"web", "wikipedia"};
  if (from.empty()) throw Error(ErrorKind::kUsage, "", "--from", "required");
  auto base_name = [](const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  };
  if (from.size() == 1 && IsDirectory(from[0])) {
    // The folder of the UW release (holding qa/) or its qa/ folder itself.
    std::string qa = from[0];
    if (!FileExists(qa + "/web-" + orig + ".json") &&
        !FileExists(qa + "/wikipedia-" + orig + ".json") && IsDirectory(qa + "/qa")) {
      qa += "/qa";
    }
    std::vector<std::string> files, missing;
    for (const std::string& domain : domains) {
      const std::string f = qa + "/" + domain + "-" + orig + ".json";
      (FileExists(f) ? files : missing).push_back(f);
    }
    if (files.empty()) {
      throw Error(
          ErrorKind::kDataset, from[0], "",
          "no web-" + orig + ".json or wikipedia-" + orig +
              ".json here (nor in a qa/ subfolder); "
              "expected the question files of the UW TriviaQA release (triviaqa-rc.tar.gz)");
    }
    if (!missing.empty()) {
      throw Error(ErrorKind::kDataset, missing[0], "",
                  "missing: rc.nocontext's " + split + " split is web-" + orig +
                      ".json followed by wikipedia-" + orig +
                      ".json; pass the one file present with --from to import that domain alone");
    }
    return files;
  }
  std::vector<std::string> files;
  std::vector<std::string> seen_domains;
  for (const std::string& f : from) {
    if (IsDirectory(f)) {
      throw Error(
          ErrorKind::kUsage, f, "--from",
          "a folder must be the only --from (found " + std::to_string(from.size()) + " values)");
    }
    if (!FileExists(f)) throw Error(ErrorKind::kIo, f, "--from", "input file missing");
    const std::string name = base_name(f);
    if (name.rfind("verified-", 0) == 0) {
      throw Error(
          ErrorKind::kUsage, f, "--from",
          "the verified-* files are a hand-checked subset of the dev questions; Hugging Face's "
          "rc.nocontext (what lighteval evaluates) does not include them. Use web-" +
              orig + ".json and/or wikipedia-" + orig + ".json");
    }
    // A file named as in the release must belong to --split, and each domain may come once.
    for (const std::string& domain : domains) {
      if (name.rfind(domain + "-", 0) != 0 || !EndsWith(name, ".json")) continue;
      const std::string file_split =
          name.substr(domain.size() + 1, name.size() - domain.size() - 6);
      if (file_split != "train" && file_split != "dev" && file_split != "test-without-answers")
        continue;
      if (file_split != orig) {
        throw Error(ErrorKind::kUsage, f, "--from",
                    name + " is the UW '" + file_split + "' split; --split " + split + " expects " +
                        domain + "-" + orig + ".json");
      }
      if (std::find(seen_domains.begin(), seen_domains.end(), domain) != seen_domains.end()) {
        throw Error(ErrorKind::kUsage, f, "--from",
                    "two " + domain + "-" + orig + ".json files given");
      }
      seen_domains.push_back(domain);
    }
    if (std::find(files.begin(), files.end(), f) != files.end()) {
      throw Error(ErrorKind::kUsage, f, "--from", "given twice");
    }
    files.push_back(f);
  }
  // The HF script reads sorted(glob("qa/*-dev.json")): web before wikipedia. Order by file name
  // so the order on the command line does not matter.
  std::stable_sort(files.begin(), files.end(), [&](const std::string& a, const std::string& b) {
    return base_name(a) < base_name(b);
  });
  return files;
}

std::vector<ImportedFile> ImportSplit(const std::string& dataset, const std::string& split,
                                      const std::vector<std::string>& from,
                                      const std::string& dir) {
  const DatasetAdapter& adapter = FindDatasetAdapter(dataset, "--dataset");
  if (adapter.convert_sources) {
    const auto& splits = adapter.splits;
    if (std::find(splits.begin(), splits.end(), split) == splits.end()) {
      throw Error(ErrorKind::kUsage, "", "--split",
                  UnknownNameMessage("split for " + dataset, split, splits));
    }
    return {adapter.convert_sources(from, split, SplitPath(dir, dataset, split))};
  }
  if (from.size() != 1) {
    throw Error(ErrorKind::kUsage, "", "--from",
                dataset + " imports one file (mmlu: one folder); found " +
                    std::to_string(from.size()) + " --from values");
  }
  return ImportSplit(dataset, split, from[0], dir);
}

std::vector<ImportedFile> ImportSplit(const std::string& dataset, const std::string& split,
                                      const std::string& from, const std::string& dir) {
  const DatasetAdapter& adapter = FindDatasetAdapter(dataset, "--dataset");
  const std::string& format = adapter.source_format;
  const auto& splits = adapter.splits;
  if (std::find(splits.begin(), splits.end(), split) == splits.end()) {
    throw Error(ErrorKind::kUsage, "", "--split",
                UnknownNameMessage("split for " + dataset, split, splits) +
                    " (original \"Dev\"/\"dev\"/\"valid\" files are --split validation; "
                    "WinoGrande train_xl is --split train)");
  }
  std::vector<ImportedFile> out;
  if (adapter.convert_sources) return ImportSplit(dataset, split, std::vector<std::string>{from}, dir);
  if (!adapter.per_subject()) {
    if (IsDirectory(from)) {
      throw Error(ErrorKind::kUsage, from, "--from", "expected a file in the original format, found a folder");
    }
    std::string labels = adapter.labels_file != DatasetAdapter::Labels::kNone ? LabelsPathFor(from) : "";
    out.push_back(ConvertOriginal(format, from, labels, SplitPath(dir, dataset, split)));
    return out;
  }
  // Per subject (MMLU): a folder of <subject>_<orig>.csv; the Berkeley tar calls validation "val".
  if (!IsDirectory(from)) {
    throw Error(ErrorKind::kUsage, from, "--from", "mmlu imports a folder of <subject>_<split>.csv files");
  }
  std::vector<std::string> suffixes = split == "validation"
                                          ? std::vector<std::string>{"_val.csv", "_validation.csv"}
                                          : std::vector<std::string>{"_" + split + ".csv"};
  auto collect = [&](const std::string& folder) {
    std::vector<std::pair<std::string, std::string>> files;  // subject, path
    for (const std::string& name : ListDir(folder)) {
      for (const std::string& suffix : suffixes) {
        if (EndsWith(name, suffix) && name.size() > suffix.size()) {
          files.emplace_back(name.substr(0, name.size() - suffix.size()), folder + "/" + name);
        }
      }
    }
    return files;
  };
  auto files = collect(from);
  if (files.empty()) {
    for (const std::string& sub : split == "validation" ? std::vector<std::string>{"val", "validation"}
                                                        : std::vector<std::string>{split}) {
      if (IsDirectory(from + "/" + sub)) files = collect(from + "/" + sub);
      if (!files.empty()) break;
    }
  }
  if (files.empty()) {
    throw Error(ErrorKind::kDataset, from, "", "no <subject>" + suffixes[0] + " files here (nor in a " +
                                                   (split == "validation" ? std::string("val") : split) + "/ subfolder)");
  }
  const auto& subjects = adapter.subjects();
  for (const auto& [subject, path] : files) {
    if (std::find(subjects.begin(), subjects.end(), subject) == subjects.end()) {
      throw Error(ErrorKind::kDataset, path, "", UnknownNameMessage("MMLU subject", subject, subjects));
    }
  }
  for (const auto& [subject, path] : files) {
    out.push_back(ConvertOriginal(format, path, "", SplitPath(dir, dataset, split, subject), subject));
  }
  return out;
}

}  // namespace doge::data
