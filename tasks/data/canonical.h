// Canonical JSONL rows: one function per document type that appends the row in the schema order
// of documents.h (compact JSON via engine/base/json_writer.h, then "\n"), and one parser per type that
// reads a row back with field-level errors. Fetch, import and the loaders all use these, so the
// bytes (and therefore the hashes in the lock file) depend only on the documents.
#ifndef DOGE_TASKS_DATA_CANONICAL_H_
#define DOGE_TASKS_DATA_CANONICAL_H_

#include <functional>
#include <string>

#include "tasks/data/documents.h"
#include "tasks/data/jsonl.h"

namespace doge::data {

// `obqa` selects OpenBookQA's key name "question_stem" instead of ARC's "question".
void AppendCanonicalRow(std::string& out, const ArcDoc& doc, bool obqa);
void AppendCanonicalRow(std::string& out, const PiqaDoc& doc);
void AppendCanonicalRow(std::string& out, const HellaswagDoc& doc);
void AppendCanonicalRow(std::string& out, const WinograndeDoc& doc);
void AppendCanonicalRow(std::string& out, const MmluDoc& doc);
void AppendCanonicalRow(std::string& out, const TriviaqaDoc& doc);

// Parsers of canonical rows (also validate value ranges: piqa label 0|1, winogrande answer
// "1"|"2", hellaswag 4 endings and label "0".."3", mmlu 4 choices and answer 0..3, ARC answerKey
// among the labels).
ArcDoc ParseArcRow(const JsonRow& row, bool obqa);
PiqaDoc ParsePiqaRow(const JsonRow& row);
HellaswagDoc ParseHellaswagRow(const JsonRow& row);
// Every HellaSwag field but the label, with the same checks: the canonical parser reads the label
// as a string, the converter of rowanz/hellaswag (import.cc) as an integer or a string.
HellaswagDoc ParseHellaswagUnlabeled(const JsonRow& row);
WinograndeDoc ParseWinograndeRow(const JsonRow& row);
MmluDoc ParseMmluRow(const JsonRow& row);
TriviaqaDoc ParseTriviaqaRow(const JsonRow& row);

// Semantic checks of one document, shared by import (original formats) and load (canonical
// rows): what the prompt builder and the metrics assume. Every text field is free of control
// bytes other than tab, newline and carriage return (they would corrupt a prompt); the question
// of ARC / OpenBookQA / PIQA / WinoGrande / TriviaQA is not empty; ARC labels are distinct and not
// empty (so answerKey names exactly one choice); a WinoGrande sentence has exactly one "_" blank
// and both options are non-empty. `fail(field, message)` throws, naming file and line.
using DocFail = std::function<void(const char* field, const std::string& message)>;
void CheckDocument(const ArcDoc& doc, bool obqa, const DocFail& fail);
void CheckDocument(const PiqaDoc& doc, const DocFail& fail);
void CheckDocument(const HellaswagDoc& doc, const DocFail& fail);
void CheckDocument(const WinograndeDoc& doc, const DocFail& fail);
void CheckDocument(const MmluDoc& doc, const DocFail& fail);
void CheckDocument(const TriviaqaDoc& doc, const DocFail& fail);

// Parses and re-validates every row of a canonical split file; returns the number of documents.
// `dataset` names an adapter (datasets.h) whose row validator is used. Used by `doge data verify`.
int64_t ValidateCanonicalFile(const std::string& dataset, const std::string& path);

}  // namespace doge::data

#endif  // DOGE_TASKS_DATA_CANONICAL_H_
