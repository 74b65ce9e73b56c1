// Task preparation; see requests.h.
#include "tasks/requests.h"

#include <algorithm>
#include <map>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"
#include "tasks/eval_run.h"
#include "tasks/fewshot.h"

namespace doge::tasks {

int64_t PreparedTask::n_docs() const {
  int64_t n = 0;
  for (const TaskUnit& u : units) n += static_cast<int64_t>(u.docs.size());
  return n;
}

namespace {

std::string Relative(const std::string& dir, const std::string& path) {
  std::string prefix = dir;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
}

struct LoadedSplit {
  std::vector<PromptDoc> docs;
  std::vector<std::string> subtask;  // per doc
  std::vector<int64_t> row;          // per doc: row within its subtask's file
};

void AppendSplit(const TaskSpec& spec, const std::string& dir, const std::string& split,
                 const std::string& subject, bool as_fewshot, const std::string& subtask,
                 LoadedSplit& out, std::vector<std::string>& files, std::vector<SplitRead>& reads) {
  const std::string path = data::SplitPath(dir, spec.dataset, split, subject);
  const std::string rel = Relative(dir, path);
  if (std::find(files.begin(), files.end(), rel) == files.end()) files.push_back(rel);
  std::vector<DocFields> fields = LoadDocFields(spec, dir, split, subject);
  bool seen = false;
  for (const SplitRead& r : reads) seen = seen || (r.split == split && r.subject == subject);
  if (!seen) reads.push_back({spec.dataset, split, subject, static_cast<int64_t>(fields.size())});
  for (size_t r = 0; r < fields.size(); ++r) {
    out.docs.push_back(BuildPromptDoc(spec, fields[r], as_fewshot));
    out.subtask.push_back(subtask);
    out.row.push_back(static_cast<int64_t>(r));
  }
}

TaskUnit MakeUnit(const std::string& name, const TaskSpec& spec, int k, const LoadedSplit& eval,
                  const LoadedSplit& pool, const std::string& only_subtask, int64_t limit,
                  const std::string& where) {
  const std::vector<std::vector<int64_t>> shots = SelectFewshots(spec.sampler, k, eval.docs, pool.docs, where);
  TaskUnit unit;
  unit.name = name;
  for (size_t i = 0; i < eval.docs.size(); ++i) {
    if (!only_subtask.empty() && eval.subtask[i] != only_subtask) continue;
    ++unit.n_docs_in_split;
    if (limit >= 0 && static_cast<int64_t>(unit.docs.size()) >= limit) continue;
    EvalDoc d;
    d.subtask = eval.subtask[i];
    d.doc_index = eval.row[i];
    d.doc = eval.docs[i];
    d.fewshot_indices = shots[i];
    std::vector<const PromptDoc*> shot_docs;
    for (int64_t s : shots[i]) shot_docs.push_back(&pool.docs[s]);
    d.context = BuildContext(d.doc, shot_docs);
    unit.docs.push_back(std::move(d));
  }
  return unit;
}

}  // namespace

PreparedTask PrepareTask(const TaskSpec& spec, const PrepareOptions& opt) {
  PreparedTask t;
  t.spec = &spec;
  t.k = opt.num_fewshot >= 0 ? opt.num_fewshot : spec.num_fewshot;
  const std::string& dir = opt.data_dir;
  const data::DatasetAdapter& adapter = data::FindDatasetAdapter(spec.dataset);
  if (!adapter.per_subject()) {
    if (!opt.subject.empty()) {
      throw Error(ErrorKind::kUsage, "", "--task", "'" + spec.task + ":" + opt.subject +
                                                       "': only mmlu has sub-tasks");
    }
    LoadedSplit eval, pool;
    AppendSplit(spec, dir, spec.evaluation_split, "", false, spec.task, eval, t.data_files, t.splits_read);
    if (t.k > 0) AppendSplit(spec, dir, spec.few_shots_split, "", true, spec.task, pool, t.data_files, t.splits_read);
    t.units.push_back(MakeUnit(spec.task, spec, t.k, eval, pool, "", opt.limit, spec.spec_file));
    return t;
  }
  // Per subject (MMLU): the subjects present in the data dir, in the adapter's order (cais/mmlu's
  // alphabetical order).
  std::vector<std::string> subjects;
  for (const std::string& s : adapter.subjects()) {
    if (!opt.subject.empty() && s != opt.subject && spec.subtasks == "per_subject") continue;
    if (FileExists(data::SplitPath(dir, spec.dataset, spec.evaluation_split, s))) {
      subjects.push_back(s);
    } else if (opt.subject.empty() || s == opt.subject) {
      t.skipped_subjects.push_back(s);
    }
  }
  if (!opt.subject.empty()) {
    const auto& all = adapter.subjects();
    if (std::find(all.begin(), all.end(), opt.subject) == all.end()) {
      throw Error(ErrorKind::kUsage, "", "--task", UnknownNameMessage("mmlu subject", opt.subject, all));
    }
    if (std::find(subjects.begin(), subjects.end(), opt.subject) == subjects.end()) {
      throw Error(ErrorKind::kDataset, data::SplitPath(dir, spec.dataset, spec.evaluation_split, opt.subject),
                  "", "mmlu:" + opt.subject + " requested but its " + spec.evaluation_split +
                          " split is not in the data dir");
    }
  }
  if (subjects.empty()) {
    throw Error(ErrorKind::kDataset, dir + "/mmlu", "", "no mmlu subject has a " + spec.evaluation_split + " split here");
  }
  if (spec.subtasks == "per_subject") {
    // card-a: 57 lighteval tasks, each with its own eval split and few-shot split.
    for (const std::string& s : subjects) {
      LoadedSplit eval, pool;
      const std::string name = "mmlu:" + s;
      AppendSplit(spec, dir, spec.evaluation_split, s, false, name, eval, t.data_files, t.splits_read);
      if (t.k > 0) AppendSplit(spec, dir, spec.few_shots_split, s, true, name, pool, t.data_files, t.splits_read);
      t.units.push_back(MakeUnit(name, spec, t.k, eval, pool, "", opt.limit, spec.spec_file));
    }
  } else {
    // card-b: one task over subset `all` (the subjects concatenated); the pool is that same
    // split (no few-shot split is declared), so shots come from all present subjects.
    LoadedSplit eval, pool;
    for (const std::string& s : subjects) {
      AppendSplit(spec, dir, spec.evaluation_split, s, false, "mmlu:" + s, eval, t.data_files, t.splits_read);
      if (t.k > 0) AppendSplit(spec, dir, spec.few_shots_split, s, true, "mmlu:" + s, pool, t.data_files, t.splits_read);
    }
    const std::string only = opt.subject.empty() ? "" : "mmlu:" + opt.subject;
    t.units.push_back(MakeUnit(spec.task, spec, t.k, eval, pool, only, opt.limit, spec.spec_file));
  }
  return t;
}

std::string RenderLine(const EvalDoc& d) {
  JsonWriter w;
  w.BeginObject();
  WriteRequestFields(w, d.subtask, d.doc_index, d.context, d.doc.golds.empty() ? d.doc.choices : d.doc.golds,
                     d.doc.gold_index, d.fewshot_indices);
  w.EndObject();
  return w.Take();
}

}  // namespace doge::tasks
