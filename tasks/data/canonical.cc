#include "tasks/data/canonical.h"

#include <algorithm>
#include <cstdio>

#include "engine/base/error.h"
#include "engine/base/json_writer.h"
#include "tasks/data/datasets.h"
#include "tasks/text_util.h"

namespace doge::data {

namespace {

void StringArray(JsonWriter& w, const std::vector<std::string>& v) {
  w.BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

void Finish(std::string& out, JsonWriter& w) {
  out += w.str();
  out.push_back('\n');
}

// The first byte of `s` that would corrupt a prompt (a C0 control other than \t \n \r, or DEL),
// or npos.
size_t FindControlByte(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return i;
  }
  return std::string::npos;
}

void CheckText(const std::string& s, const char* field, bool non_empty, const DocFail& fail) {
  if (non_empty && tasks::PyStrip(s).empty()) fail(field, "is empty: the prompt would have no text here");
  if (size_t at = FindControlByte(s); at != std::string::npos) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(s[at]));
    fail(field, std::string("holds the control byte ") + hex + " at byte " + std::to_string(at + 1) +
                    " (it would corrupt the prompt)");
  }
}

void CheckTexts(const std::vector<std::string>& v, const char* field, bool non_empty,
                const DocFail& fail) {
  for (const std::string& s : v) CheckText(s, field, non_empty, fail);
}

}  // namespace

void CheckDocument(const ArcDoc& doc, bool obqa, const DocFail& fail) {
  const char* question = obqa ? "question_stem" : "question";
  CheckText(doc.question, question, true, fail);
  CheckTexts(doc.choice_texts, "choices.text", false, fail);
  CheckTexts(doc.choice_labels, "choices.label", true, fail);
  for (size_t i = 0; i < doc.choice_labels.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (doc.choice_labels[i] == doc.choice_labels[j]) {
        fail("choices.label", "label '" + doc.choice_labels[i] +
                                  "' appears twice: answerKey would be ambiguous");
      }
    }
  }
}

void CheckDocument(const PiqaDoc& doc, const DocFail& fail) {
  CheckText(doc.goal, "goal", true, fail);
  CheckText(doc.sol1, "sol1", false, fail);
  CheckText(doc.sol2, "sol2", false, fail);
}

void CheckDocument(const HellaswagDoc& doc, const DocFail& fail) {
  CheckText(doc.activity_label, "activity_label", false, fail);
  CheckText(doc.ctx_a, "ctx_a", false, fail);
  CheckText(doc.ctx_b, "ctx_b", false, fail);
  CheckText(doc.ctx, "ctx", false, fail);
  CheckTexts(doc.endings, "endings", false, fail);
}

void CheckDocument(const WinograndeDoc& doc, const DocFail& fail) {
  CheckText(doc.sentence, "sentence", true, fail);
  CheckText(doc.option1, "option1", true, fail);
  CheckText(doc.option2, "option2", true, fail);
  const size_t blank = doc.sentence.find('_');
  if (blank == std::string::npos) fail("sentence", "has no \"_\" blank");
  if (doc.sentence.find('_', blank + 1) != std::string::npos) {
    fail("sentence", "has more than one \"_\": which blank the options fill is ambiguous");
  }
}

void CheckDocument(const MmluDoc& doc, const DocFail& fail) {
  CheckText(doc.question, "question", false, fail);
  CheckTexts(doc.choices, "choices", false, fail);
}

void CheckDocument(const TriviaqaDoc& doc, const DocFail& fail) {
  CheckText(doc.question, "question", true, fail);
  CheckTexts(doc.aliases, "answer.aliases", false, fail);
}

namespace {

DocFail RowFail(const JsonRow& row) {
  return [&row](const char* field, const std::string& message) { row.FailAt(field, message); };
}

}  // namespace

void AppendCanonicalRow(std::string& out, const ArcDoc& doc, bool obqa) {
  JsonWriter w;
  w.BeginObject();
  w.Field("id", doc.id);
  w.Field(obqa ? "question_stem" : "question", doc.question);
  w.Key("choices").BeginObject();
  w.Key("text");
  StringArray(w, doc.choice_texts);
  w.Key("label");
  StringArray(w, doc.choice_labels);
  w.EndObject();
  w.Field("answerKey", doc.answer_key);
  w.EndObject();
  Finish(out, w);
}

void AppendCanonicalRow(std::string& out, const PiqaDoc& doc) {
  JsonWriter w;
  w.BeginObject().Field("goal", doc.goal).Field("sol1", doc.sol1).Field("sol2", doc.sol2);
  w.Field("label", doc.label).EndObject();
  Finish(out, w);
}

void AppendCanonicalRow(std::string& out, const HellaswagDoc& doc) {
  JsonWriter w;
  w.BeginObject().Field("ind", doc.ind).Field("activity_label", doc.activity_label);
  w.Field("ctx_a", doc.ctx_a).Field("ctx_b", doc.ctx_b).Field("ctx", doc.ctx);
  w.Key("endings");
  StringArray(w, doc.endings);
  w.Field("source_id", doc.source_id).Field("split", doc.split).Field("split_type", doc.split_type);
  // Rowan/hellaswag stores the label as a string ("0".."3").
  w.Field("label", std::to_string(doc.label)).EndObject();
  Finish(out, w);
}

void AppendCanonicalRow(std::string& out, const WinograndeDoc& doc) {
  JsonWriter w;
  w.BeginObject().Field("qID", doc.qid).Field("sentence", doc.sentence);
  w.Field("option1", doc.option1).Field("option2", doc.option2);
  w.Field("answer", std::to_string(doc.answer)).EndObject();
  Finish(out, w);
}

void AppendCanonicalRow(std::string& out, const MmluDoc& doc) {
  JsonWriter w;
  w.BeginObject().Field("question", doc.question).Field("subject", doc.subject);
  w.Key("choices");
  StringArray(w, doc.choices);
  w.Field("answer", doc.answer).EndObject();
  Finish(out, w);
}

void AppendCanonicalRow(std::string& out, const TriviaqaDoc& doc) {
  JsonWriter w;
  w.BeginObject().Field("question", doc.question).Field("question_id", doc.question_id);
  w.Key("answer").BeginObject();
  w.Key("aliases");
  StringArray(w, doc.aliases);
  w.Key("normalized_aliases");
  StringArray(w, doc.normalized_aliases);
  w.Field("value", doc.value).Field("normalized_value", doc.normalized_value);
  w.EndObject().EndObject();
  Finish(out, w);
}

ArcDoc ParseArcRow(const JsonRow& row, bool obqa) {
  ArcDoc d;
  d.id = row.GetString("id");
  d.question = row.GetString(obqa ? "question_stem" : "question");
  JsonRow choices = row.GetObject("choices");
  d.choice_texts = choices.GetStringArray("text");
  d.choice_labels = choices.GetStringArray("label");
  if (d.choice_texts.size() != d.choice_labels.size()) {
    choices.FailAt("label", "has " + std::to_string(d.choice_labels.size()) + " entries, \"text\" has " +
                              std::to_string(d.choice_texts.size()));
  }
  if (d.choice_texts.empty()) choices.FailAt("text", "expected at least one choice, found none");
  d.answer_key = row.GetString("answerKey");
  // lighteval strips answerKey before looking it up (OBQA); compare the same way.
  std::string key = tasks::PyStrip(d.answer_key);
  if (std::find(d.choice_labels.begin(), d.choice_labels.end(), key) == d.choice_labels.end()) {
    row.FailAt("answerKey", "'" + d.answer_key + "' is not one of the choice labels");
  }
  CheckDocument(d, obqa, RowFail(row));
  return d;
}

PiqaDoc ParsePiqaRow(const JsonRow& row) {
  PiqaDoc d;
  d.goal = row.GetString("goal");
  d.sol1 = row.GetString("sol1");
  d.sol2 = row.GetString("sol2");
  int64_t label = row.GetInt("label");
  if (label != 0 && label != 1) row.FailAt("label", "expected 0 or 1, found " + std::to_string(label));
  d.label = static_cast<int>(label);
  CheckDocument(d, RowFail(row));
  return d;
}

HellaswagDoc ParseHellaswagUnlabeled(const JsonRow& row) {
  HellaswagDoc d;
  d.ind = row.GetInt("ind");
  d.activity_label = row.GetString("activity_label");
  d.ctx_a = row.GetString("ctx_a");
  d.ctx_b = row.GetString("ctx_b");
  d.ctx = row.GetString("ctx");
  d.endings = row.GetStringArray("endings");
  if (d.endings.size() != 4) {
    row.FailAt("endings", "expected 4 endings, found " + std::to_string(d.endings.size()));
  }
  d.source_id = row.GetString("source_id");
  d.split = row.GetString("split");
  d.split_type = row.GetString("split_type");
  return d;
}

HellaswagDoc ParseHellaswagRow(const JsonRow& row) {
  HellaswagDoc d = ParseHellaswagUnlabeled(row);
  std::string label = row.GetString("label");
  if (label.size() != 1 || label[0] < '0' || label[0] > '3') {
    row.FailAt("label", "expected \"0\"..\"3\", found \"" + label + "\"");
  }
  d.label = label[0] - '0';
  CheckDocument(d, RowFail(row));
  return d;
}

WinograndeDoc ParseWinograndeRow(const JsonRow& row) {
  WinograndeDoc d;
  d.qid = row.GetString("qID");
  d.sentence = row.GetString("sentence");
  d.option1 = row.GetString("option1");
  d.option2 = row.GetString("option2");
  std::string answer = row.GetString("answer");
  if (answer != "1" && answer != "2") {
    row.FailAt("answer", "expected \"1\" or \"2\", found \"" + answer + "\"");
  }
  d.answer = answer[0] - '0';
  CheckDocument(d, RowFail(row));
  return d;
}

MmluDoc ParseMmluRow(const JsonRow& row) {
  MmluDoc d;
  d.question = row.GetString("question");
  d.subject = row.GetString("subject");
  d.choices = row.GetStringArray("choices");
  if (d.choices.size() != 4) {
    row.FailAt("choices", "expected 4 choices, found " + std::to_string(d.choices.size()));
  }
  int64_t answer = row.GetInt("answer");
  if (answer < 0 || answer > 3) row.FailAt("answer", "expected 0..3, found " + std::to_string(answer));
  d.answer = static_cast<int>(answer);
  CheckDocument(d, RowFail(row));
  return d;
}

TriviaqaDoc ParseTriviaqaRow(const JsonRow& row) {
  TriviaqaDoc d;
  d.question = row.GetString("question");
  d.question_id = row.GetString("question_id");
  JsonRow answer = row.GetObject("answer");
  d.aliases = answer.GetStringArray("aliases");
  d.normalized_aliases = answer.GetStringArray("normalized_aliases");
  d.value = answer.GetString("value");
  d.normalized_value = answer.GetString("normalized_value");
  CheckDocument(d, RowFail(row));
  return d;
}

int64_t ValidateCanonicalFile(const std::string& dataset, const std::string& path) {
  const DatasetAdapter& adapter = FindDatasetAdapter(dataset);
  return ForEachJsonlRow(path, [&adapter](const JsonRow& r, int64_t) { adapter.validate_row(r); });
}

}  // namespace doge::data
