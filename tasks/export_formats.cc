#include "tasks/export_formats.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/hub_cache.h"
#include "engine/base/json_writer.h"
#include "tasks/spec.h"

namespace doge::tasks {

namespace {

namespace sj = simdjson;

// One task of results.json, with what the exporters need.
struct Summary {
  int64_t n = 0;
  std::map<std::string, double> metrics, stderrs;
};
struct TaskEntry {
  std::string name;  // ours: "arc_easy", "mmlu" or "mmlu:anatomy"
  std::string protocol;
  int64_t version = 0;
  int64_t k = 0;
  std::string split, fewshot_split, sampler, lighteval, aggregation;
  Summary all;
  std::map<std::string, Summary> subtasks;  // MMLU subjects
  double wall_time_s = 0;
};
struct Run {
  std::string created;      // "2026-12-07T03:10:00Z"
  std::string model_label;  // "SmallDoge/Doge-20M" for a hub id, else the folder's name
  std::string model_sha;    // the snapshot commit for a hub id ("" otherwise)
  std::string git_revision;
  int64_t n_params = 0;
  double wall_time_s = 0;
  int64_t limit = -1;
  std::vector<TaskEntry> tasks;
};

[[noreturn]] void Bad(const std::string& file, const std::string& field, const std::string& what) {
  throw Error(ErrorKind::kFormat, file, field, what + " (expected a results.json written by doge eval)");
}

std::string Str(sj::dom::element e, const char* key, const std::string& file, const std::string& where) {
  std::string_view v;
  if (e[key].get(v) != sj::SUCCESS) Bad(file, where + key, "missing or not a string");
  return std::string(v);
}
int64_t Int(sj::dom::element e, const char* key, const std::string& file, const std::string& where) {
  int64_t v;
  if (e[key].get(v) != sj::SUCCESS) Bad(file, where + key, "missing or not an integer");
  return v;
}
double Num(sj::dom::element e, const char* key, const std::string& file, const std::string& where) {
  sj::dom::element x;
  if (e[key].get(x) != sj::SUCCESS) Bad(file, where + key, "missing");
  if (x.is_null()) return std::nan("");
  double v;
  if (x.get(v) != sj::SUCCESS) Bad(file, where + key, "not a number");
  return v;
}

Summary ReadSummary(sj::dom::element e, const std::string& file, const std::string& where) {
  Summary s;
  s.n = Int(e, "n", file, where);
  sj::dom::object m, se;
  if (e["metrics"].get(m) != sj::SUCCESS) Bad(file, where + "metrics", "missing");
  if (e["stderr"].get(se) != sj::SUCCESS) Bad(file, where + "stderr", "missing");
  for (auto [k, v] : m) {
    double d = std::nan("");
    if (!v.is_null() && v.get(d) != sj::SUCCESS) Bad(file, where + "metrics." + std::string(k), "not a number");
    s.metrics[std::string(k)] = d;
  }
  for (auto [k, v] : se) {
    double d = std::nan("");
    if (!v.is_null() && v.get(d) != sj::SUCCESS) Bad(file, where + "stderr." + std::string(k), "not a number");
    s.stderrs[std::string(k)] = d;
  }
  return s;
}

Run ReadRun(const std::string& out_dir) {
  const std::string file = out_dir + "/results.json";
  const std::string text = ReadFileToString(file);
  sj::dom::parser parser;
  sj::dom::element root;
  if (auto err = parser.parse(text).get(root)) Bad(file, "", std::string("not JSON: ") + sj::error_message(err));
  Run run;
  run.created = Str(root, "created", file, "");
  std::string_view git;
  if (root["git_revision"].get(git) == sj::SUCCESS) run.git_revision = std::string(git);
  run.wall_time_s = Num(root, "wall_time_s", file, "");
  sj::dom::element limit;
  if (root["limit"].get(limit) == sj::SUCCESS && !limit.is_null() && limit.get(run.limit) != sj::SUCCESS) {
    Bad(file, "limit", "not an integer or null");
  }
  sj::dom::element model;
  if (root["model"].get(model) != sj::SUCCESS) Bad(file, "model", "missing");
  run.model_label = Str(model, "name", file, "model.");
  run.n_params = Int(model, "n_params", file, "model.");
  std::string_view id;
  HubModelId hub;
  if (model["id"].get(id) == sj::SUCCESS && !IsDirectory(std::string(id)) && ParseHubModelId(std::string(id), &hub)) {
    run.model_label = hub.repo_id;
    // The snapshot folder's name is the commit the model was read at.
    const std::string path = Str(model, "path", file, "model.");
    const std::string commit = path.substr(path.find_last_of('/') + 1);
    if (IsCommitHash(commit)) run.model_sha = commit;
  }
  sj::dom::object tasks;
  if (root["tasks"].get(tasks) != sj::SUCCESS) Bad(file, "tasks", "missing or not an object");
  for (auto [key, e] : tasks) {
    TaskEntry t;
    t.name = std::string(key);
    const std::string where = "tasks." + t.name + ".";
    t.protocol = Str(e, "protocol", file, where);
    t.version = Int(e, "version", file, where);
    t.k = Int(e, "k", file, where);
    t.split = Str(e, "split", file, where);
    t.fewshot_split = Str(e, "fewshot_split", file, where);
    t.sampler = Str(e, "sampler", file, where);
    t.lighteval = Str(e, "lighteval", file, where);
    t.aggregation = Str(e, "aggregation", file, where);
    t.all = ReadSummary(e, file, where);
    t.wall_time_s = Num(e, "wall_time_s", file, where);
    sj::dom::object subs;
    if (e["subtasks"].get(subs) == sj::SUCCESS) {
      for (auto [sk, sv] : subs) t.subtasks[std::string(sk)] = ReadSummary(sv, file, where + "subtasks." + std::string(sk) + ".");
    }
    run.tasks.push_back(std::move(t));
  }
  return run;
}

// lighteval and lm-eval both name files by datetime.now().isoformat() with ':' -> '-'.
std::string Timestamp(const std::string& created) {
  std::string t = created;
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  std::replace(t.begin(), t.end(), ':', '-');
  return t + ".000000";
}

// One line of details/<task>.jsonl, parsed once; the raw line is kept for fields copied as-is.
struct Detail {
  std::string subtask, query, prediction_json;
  int64_t doc_index = 0, gold_index = -1;
  std::vector<std::string> choices;
  std::vector<double> logprobs;
  std::vector<bool> is_greedy;
  std::vector<int64_t> fewshot;
  std::map<std::string, double> metrics;
  bool has_prediction_text = false;
  std::string prediction_text;
};

std::vector<Detail> ReadDetails(const std::string& out_dir, const std::string& task) {
  const std::string file = out_dir + "/details/" + task + ".jsonl";
  std::vector<Detail> out;
  if (!FileExists(file)) return out;  // a run without details (none written): results only
  const std::string text = ReadFileToString(file);
  sj::dom::parser parser;
  size_t line_no = 0, i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string::npos) j = text.size();
    const std::string line = text.substr(i, j - i);
    i = j + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::string where = std::to_string(line_no);
    sj::dom::element e;
    if (parser.parse(line).get(e) != sj::SUCCESS) Bad(file, where, "not a JSON line");
    Detail d;
    d.subtask = Str(e, "task", file, where + ":");
    d.doc_index = Int(e, "doc_index", file, where + ":");
    d.query = Str(e, "query", file, where + ":");
    d.gold_index = Int(e, "gold_index", file, where + ":");
    sj::dom::array arr;
    if (e["choices"].get(arr) == sj::SUCCESS) {
      for (sj::dom::element c : arr) {
        std::string_view s;
        if (c.get(s) == sj::SUCCESS) d.choices.emplace_back(s);
      }
    }
    if (e["logprobs"].get(arr) == sj::SUCCESS) {
      for (sj::dom::element c : arr) {
        double v = std::nan("");
        if (!c.is_null() && c.get(v) != sj::SUCCESS) Bad(file, where + ":logprobs", "not a number");
        d.logprobs.push_back(v);
      }
    }
    if (e["is_greedy"].get(arr) == sj::SUCCESS) {
      for (sj::dom::element c : arr) {
        bool b = false;
        if (c.get(b) != sj::SUCCESS) Bad(file, where + ":is_greedy", "not a boolean");
        d.is_greedy.push_back(b);
      }
    }
    if (e["fewshot_indices"].get(arr) == sj::SUCCESS) {
      for (sj::dom::element c : arr) {
        int64_t v = 0;
        if (c.get(v) != sj::SUCCESS) Bad(file, where + ":fewshot_indices", "not an integer");
        d.fewshot.push_back(v);
      }
    }
    std::string_view pred;
    if (e["prediction"].get(pred) == sj::SUCCESS) {
      d.has_prediction_text = true;
      d.prediction_text = std::string(pred);
    }
    sj::dom::object m;
    if (e["metrics"].get(m) == sj::SUCCESS) {
      for (auto [k, v] : m) {
        double x = std::nan("");
        if (!v.is_null() && v.get(x) != sj::SUCCESS) Bad(file, where + ":metrics." + std::string(k), "not a number");
        d.metrics[std::string(k)] = x;
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

// "lighteval|arc:easy|5|0 (default_tasks.py ...)" -> {"lighteval", "arc:easy"}.
std::pair<std::string, std::string> LightevalSuiteTask(const TaskEntry& t) {
  const std::string first = t.lighteval.substr(0, t.lighteval.find(' '));
  const size_t a = first.find('|');
  const size_t b = a == std::string::npos ? std::string::npos : first.find('|', a + 1);
  if (b == std::string::npos) return {"custom", t.name};
  std::string task = first.substr(a + 1, b - a - 1);
  // One MMLU subject run on its own: the subject's own lighteval task.
  const size_t colon = t.name.find(':');
  if (colon != std::string::npos) task += t.name.substr(colon);
  return {first.substr(0, a), task};
}

void MetricsObject(JsonWriter& w, const Summary& s) {
  w.BeginObject();
  for (const auto& [m, v] : s.metrics) {
    w.Field(m, v);
    auto e = s.stderrs.find(m);
    w.Field(m + "_stderr", e == s.stderrs.end() ? std::nan("") : e->second);
  }
  w.EndObject();
}

// "mmlu:anatomy" -> "anatomy" (results.json's subtask keys carry the task prefix).
std::string SubjectOf(const std::string& subtask) { return subtask.substr(subtask.find(':') + 1); }

std::string Hex16(const std::string& s) { return Sha256Hex(s).substr(0, 16); }

// One lighteval results key with its summary: per MMLU subject plus _average for per-subject
// MMLU (card-a), else one per task.
struct LightevalRow {
  std::string key, config_key, name, suite;
  const TaskEntry* task;
  Summary summary;
  std::string subject;  // an MMLU subject row: only its documents
};

std::vector<LightevalRow> LightevalRows(const Run& run) {
  std::vector<LightevalRow> rows;
  for (const TaskEntry& t : run.tasks) {
    const auto [suite, name] = LightevalSuiteTask(t);
    const std::string k = std::to_string(t.k);
    if (!t.subtasks.empty() && t.aggregation == "macro") {
      for (const auto& [subtask, s] : t.subtasks) {
        const std::string subject = SubjectOf(subtask);
        rows.push_back({suite + "|" + name + ":" + subject + "|" + k, suite + "|" + name + ":" + subject,
                        name + ":" + subject, suite, &t, s, subtask});
      }
      rows.push_back({suite + "|" + name + ":_average|" + k, "", name + ":_average", suite, &t, t.all, ""});
    } else {
      rows.push_back({suite + "|" + name + "|" + k, suite + "|" + name, name, suite, &t, t.all, ""});
    }
  }
  return rows;
}

void WriteLightevalConfigGeneral(JsonWriter& w, const Run& run) {
  w.Key("config_general").BeginObject();
  w.Field("lighteval_sha", "");  // not lighteval: doge's revision is under doge_git_revision
  w.Field("num_fewshot_seeds", 1);
  w.Key("override_batch_size").Null();
  w.Key("max_samples");
  if (run.limit >= 0) w.Int(run.limit); else w.Null();
  w.Field("job_id", "0");
  w.Field("start_time", 0.0);
  w.Field("end_time", run.wall_time_s);
  w.Field("total_evaluation_time_secondes", std::to_string(run.wall_time_s));
  w.Field("model_name", run.model_label);
  w.Field("model_sha", run.model_sha);
  w.Field("model_dtype", "torch.float32");
  char size[32];
  std::snprintf(size, sizeof size, "%.2f GB", run.n_params * 4.0 / 1e9);  // fp32 parameters, as lighteval prints
  w.Field("model_size", size);
  w.Field("doge_git_revision", run.git_revision);
  w.EndObject();
}

void WriteLightevalResults(JsonWriter& w, const std::vector<LightevalRow>& rows) {
  // results: each key, then "all" = the mean of each metric over the keys that have it
  // (lighteval averages every task key; _average keys are not double-counted here).
  w.Key("results").BeginObject();
  std::map<std::string, std::pair<double, int>> sum, sum_se;
  for (const LightevalRow& r : rows) {
    w.Key(r.key);
    MetricsObject(w, r.summary);
    const bool is_average = r.name.size() > 9 && r.name.compare(r.name.size() - 9, 9, ":_average") == 0;
    if (is_average) continue;
    for (const auto& [m, v] : r.summary.metrics) {
      if (std::isnan(v)) continue;
      sum[m].first += v;
      ++sum[m].second;
      auto e = r.summary.stderrs.find(m);
      if (e != r.summary.stderrs.end() && !std::isnan(e->second)) {
        sum_se[m].first += e->second;
        ++sum_se[m].second;
      }
    }
  }
  w.Key("all").BeginObject();
  for (const auto& [m, s] : sum) {
    w.Field(m, s.first / s.second);
    auto e = sum_se.find(m);
    w.Field(m + "_stderr", e == sum_se.end() ? std::nan("") : e->second.first / e->second.second);
  }
  w.EndObject();
  w.EndObject();
}

void WriteLightevalConfigTasks(JsonWriter& w, const std::vector<LightevalRow>& rows) {
  w.Key("config_tasks").BeginObject();
  for (const LightevalRow& r : rows) {
    if (r.config_key.empty()) continue;
    const TaskSpec& spec = FindTaskSpec(r.task->name.substr(0, r.task->name.find(':')), r.task->protocol);
    w.Key(r.config_key).BeginObject();
    w.Field("name", r.name);
    w.Key("suite").BeginArray().String(r.suite).EndArray();
    w.Field("hf_subset", spec.dataset);
    w.Key("evaluation_splits").BeginArray().String(r.task->split).EndArray();
    w.Field("few_shots_split", r.task->fewshot_split);
    w.Field("few_shots_select", r.task->sampler);
    w.Key("metric").BeginArray();
    for (const std::string& m : spec.ReportedMetrics()) w.String(m);
    w.EndArray();
    w.Field("original_num_docs", r.summary.n);
    w.Field("effective_num_docs", r.summary.n);
    w.Field("version", r.task->version);
    w.EndObject();
  }
  w.EndObject();
}

// summary_tasks and summary_general.
void WriteLightevalSummaries(JsonWriter& w, const std::vector<LightevalRow>& rows,
                             std::map<std::string, std::vector<Detail>>& details) {
  // summary_tasks: doge never truncates or pads; the hashes are of the rendered queries.
  w.Key("summary_tasks").BeginObject();
  int64_t total = 0;
  std::string all_queries;
  for (const LightevalRow& r : rows) {
    std::string queries;
    for (const Detail& d : details[r.task->name]) {
      if (r.subject.empty() || d.subtask == r.subject) queries += d.query;
    }
    w.Key(r.key).BeginObject();
    w.Key("hashes").BeginObject();
    w.Field("hash_examples", Hex16(queries));
    w.Field("hash_full_prompts", Hex16(queries));
    w.EndObject();
    w.Field("truncated", 0);
    w.Field("non_truncated", r.summary.n);
    w.Field("padded", 0);
    w.Field("non_padded", r.summary.n);
    w.Field("effective_few_shots", static_cast<double>(r.task->k));
    w.Field("num_truncated_few_shots", 0);
    w.EndObject();
    if (!r.config_key.empty()) {
      total += r.summary.n;
      all_queries += queries;
    }
  }
  w.EndObject();
  w.Key("summary_general").BeginObject();
  w.Key("hashes").BeginObject();
  w.Field("hash_examples", Hex16(all_queries));
  w.Field("hash_full_prompts", Hex16(all_queries));
  w.EndObject();
  w.Field("truncated", 0);
  w.Field("non_truncated", total);
  w.Field("padded", 0);
  w.Field("non_padded", total);
  w.Field("num_truncated_few_shots", 0);
  w.EndObject();
}

// One line of lighteval's details (its columns; lighteval itself writes parquet).
std::string LightevalDetailLine(const Detail& d, int k) {
  JsonWriter l;
  l.BeginObject();
  l.Field("example", d.query);
  l.Field("instruction", "");
  l.Field("full_prompt", d.query);
  l.Field("num_effective_few_shots", static_cast<int64_t>(d.fewshot.size()));
  l.Field("num_asked_few_shots", k);
  l.Key("predictions").BeginArray();
  if (d.has_prediction_text) {
    l.String(d.prediction_text);
  } else {
    for (size_t i = 0; i < d.logprobs.size(); ++i) {
      l.BeginArray().Double(d.logprobs[i]).Bool(i < d.is_greedy.size() && d.is_greedy[i]).EndArray();
    }
  }
  l.EndArray();
  l.Key("gold").BeginArray();
  if (d.gold_index >= 0 && d.gold_index < static_cast<int64_t>(d.choices.size())) l.String(d.choices[d.gold_index]);
  l.EndArray();
  l.Key("choices").BeginArray();
  for (const std::string& c : d.choices) l.String(c);
  l.EndArray();
  l.Key("gold_index").BeginArray().Int(d.gold_index).EndArray();
  l.Key("metrics").BeginObject();
  for (const auto& [m, v] : d.metrics) l.Field(m, v);
  l.EndObject();
  l.Field("truncated", 0).Field("padded", 0);
  l.EndObject();
  return l.Take();
}

std::vector<std::string> ExportLighteval(const std::string& out_dir, const Run& run) {
  const std::string ts = Timestamp(run.created);
  std::vector<std::string> written;
  const std::vector<LightevalRow> rows = LightevalRows(run);
  JsonWriter w(true);
  w.BeginObject();
  WriteLightevalConfigGeneral(w, run);
  WriteLightevalResults(w, rows);
  w.Key("versions").BeginObject();
  w.Field("all", 0);
  for (const LightevalRow& r : rows) w.Field(r.key, r.task->version);
  w.EndObject();
  WriteLightevalConfigTasks(w, rows);
  std::map<std::string, std::vector<Detail>> details;
  for (const TaskEntry& t : run.tasks) details[t.name] = ReadDetails(out_dir, t.name);
  WriteLightevalSummaries(w, rows, details);
  w.EndObject();
  const std::string results = out_dir + "/results/" + run.model_label + "/results_" + ts + ".json";
  WriteFileAtomic(results, w.str() + "\n");
  written.push_back(results);

  // Details: lighteval's columns, one JSONL per task key (lighteval itself writes parquet).
  for (const LightevalRow& r : rows) {
    if (r.config_key.empty()) continue;
    const std::vector<Detail>& ds = details[r.task->name];
    if (ds.empty()) continue;
    std::string text;
    for (const Detail& d : ds) {
      if (!r.subject.empty() && d.subtask != r.subject) continue;
      text += LightevalDetailLine(d, r.task->k) + "\n";
    }
    const std::string path = out_dir + "/details/" + run.model_label + "/" + ts + "/details_" + r.key + "_" + ts + ".jsonl";
    WriteFileAtomic(path, text);
    written.push_back(path);
  }
  return written;
}

// lm-eval names: ours, MMLU subjects as mmlu_<subject> (one subject alone: that name too).
std::string LmEvalName(const std::string& ours) {
  const size_t colon = ours.find(':');
  return colon == std::string::npos ? ours : ours.substr(0, colon) + "_" + ours.substr(colon + 1);
}

// "<metric>,none" and "<metric>_stderr,none" of a summary.
void LmEvalMetrics(JsonWriter& w, const Summary& s) {
  for (const auto& [m, v] : s.metrics) {
    w.Field(m + ",none", v);
    auto e = s.stderrs.find(m);
    w.Field(m + "_stderr,none", e == s.stderrs.end() ? std::nan("") : e->second);
  }
}

// results, groups and group_subtasks.
void WriteLmEvalResults(JsonWriter& w, const Run& run) {
  w.Key("results").BeginObject();
  for (const TaskEntry& t : run.tasks) {
    w.Key(LmEvalName(t.name)).BeginObject();
    w.Field("alias", LmEvalName(t.name));
    LmEvalMetrics(w, t.all);
    w.EndObject();
    for (const auto& [subject, s] : t.subtasks) {
      w.Key("mmlu_" + SubjectOf(subject)).BeginObject();
      w.Field("alias", " - mmlu_" + SubjectOf(subject));
      LmEvalMetrics(w, s);
      w.EndObject();
    }
  }
  w.EndObject();
  w.Key("groups").BeginObject();
  for (const TaskEntry& t : run.tasks) {
    if (t.subtasks.empty()) continue;
    w.Key(LmEvalName(t.name)).BeginObject();
    w.Field("alias", LmEvalName(t.name));
    LmEvalMetrics(w, t.all);
    w.EndObject();
  }
  w.EndObject();
  w.Key("group_subtasks").BeginObject();
  for (const TaskEntry& t : run.tasks) {
    w.Key(LmEvalName(t.name)).BeginArray();
    for (const auto& [subject, s] : t.subtasks) w.String("mmlu_" + SubjectOf(subject));
    w.EndArray();
  }
  w.EndObject();
}

void WriteLmEvalConfigs(JsonWriter& w, const Run& run) {
  w.Key("configs").BeginObject();
  for (const TaskEntry& t : run.tasks) {
    const TaskSpec& spec = FindTaskSpec(t.name.substr(0, t.name.find(':')), t.protocol);
    w.Key(LmEvalName(t.name)).BeginObject();
    w.Field("task", LmEvalName(t.name));
    w.Field("dataset_path", spec.dataset);
    w.Field("test_split", t.split);
    w.Field("fewshot_split", t.fewshot_split);
    w.Field("num_fewshot", t.k);
    w.Field("output_type", spec.output_type == OutputType::kGenerateUntil ? "generate_until" : "multiple_choice");
    w.Key("metric_list").BeginArray();
    for (const std::string& m : spec.ReportedMetrics()) {
      w.BeginObject().Field("metric", m).Field("aggregation", t.aggregation == "micro" || t.aggregation == "macro" ? "mean" : t.aggregation).Field("higher_is_better", true).EndObject();
    }
    w.EndArray();
    w.Key("metadata").BeginObject();
    w.Field("version", static_cast<double>(t.version));
    w.Field("protocol", t.protocol);
    w.Field("reproduces", t.lighteval);
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
}

// versions, n-shot, higher_is_better and n-samples.
void WriteLmEvalCounts(JsonWriter& w, const Run& run) {
  w.Key("versions").BeginObject();
  for (const TaskEntry& t : run.tasks) {
    w.Field(LmEvalName(t.name), static_cast<double>(t.version));
    for (const auto& [subject, s] : t.subtasks) w.Field("mmlu_" + SubjectOf(subject), static_cast<double>(t.version));
  }
  w.EndObject();
  w.Key("n-shot").BeginObject();
  for (const TaskEntry& t : run.tasks) {
    w.Field(LmEvalName(t.name), t.k);
    for (const auto& [subject, s] : t.subtasks) w.Field("mmlu_" + SubjectOf(subject), t.k);
  }
  w.EndObject();
  w.Key("higher_is_better").BeginObject();
  for (const TaskEntry& t : run.tasks) {
    auto hib = [&](const Summary& s) {
      w.BeginObject();
      for (const auto& [m, v] : s.metrics) w.Field(m, true);
      w.EndObject();
    };
    w.Key(LmEvalName(t.name));
    hib(t.all);
    for (const auto& [subject, s] : t.subtasks) {
      w.Key("mmlu_" + SubjectOf(subject));
      hib(s);
    }
  }
  w.EndObject();
  w.Key("n-samples").BeginObject();
  for (const TaskEntry& t : run.tasks) {
    if (t.subtasks.empty()) {
      w.Key(LmEvalName(t.name)).BeginObject().Field("original", t.all.n).Field("effective", t.all.n).EndObject();
    }
    for (const auto& [subject, s] : t.subtasks) {
      w.Key("mmlu_" + SubjectOf(subject)).BeginObject().Field("original", s.n).Field("effective", s.n).EndObject();
    }
  }
  w.EndObject();
}

// One line of samples_<task>_<ts>.jsonl, as lm-eval's --log_samples writes it.
std::string LmEvalSampleLine(const Detail& d) {
  std::string target = d.has_prediction_text || d.gold_index < 0 || d.gold_index >= static_cast<int64_t>(d.choices.size())
                           ? (d.choices.empty() ? "" : d.choices.front())
                           : d.choices[d.gold_index];
  JsonWriter l;
  l.BeginObject();
  l.Field("doc_id", d.doc_index);
  l.Key("doc").BeginObject().Field("query", d.query).Key("choices").BeginArray();
  for (const std::string& c : d.choices) l.String(c);
  l.EndArray().Field("gold", d.gold_index).EndObject();
  l.Field("target", d.gold_index >= 0 ? std::to_string(d.gold_index) : target);
  l.Key("arguments").BeginObject();
  if (d.has_prediction_text) {
    l.Key("gen_args_0").BeginObject().Field("arg_0", d.query).EndObject();
  } else {
    for (size_t i = 0; i < d.choices.size(); ++i) {
      l.Key("gen_args_" + std::to_string(i)).BeginObject().Field("arg_0", d.query).Field("arg_1", d.choices[i]).EndObject();
    }
  }
  l.EndObject();
  auto resp = [&](size_t i) {
    l.BeginArray().String(std::to_string(d.logprobs[i])).String(i < d.is_greedy.size() && d.is_greedy[i] ? "True" : "False").EndArray();
  };
  l.Key("resps").BeginArray();
  if (d.has_prediction_text) {
    l.BeginArray().String(d.prediction_text).EndArray();
  } else {
    for (size_t i = 0; i < d.logprobs.size(); ++i) {
      l.BeginArray();
      resp(i);
      l.EndArray();
    }
  }
  l.EndArray();
  l.Key("filtered_resps").BeginArray();
  if (d.has_prediction_text) {
    l.String(d.prediction_text);
  } else {
    for (size_t i = 0; i < d.logprobs.size(); ++i) resp(i);
  }
  l.EndArray();
  l.Field("filter", "none");
  l.Key("metrics").BeginArray();
  for (const auto& [m, v] : d.metrics) l.String(m);
  l.EndArray();
  l.Field("doc_hash", Sha256Hex(d.query + "\x1f" + std::to_string(d.doc_index)));
  l.Field("prompt_hash", Sha256Hex(d.query));
  l.Field("target_hash", Sha256Hex(target));
  for (const auto& [m, v] : d.metrics) l.Field(m, v);
  l.EndObject();
  return l.Take();
}

std::vector<std::string> ExportLmEval(const std::string& out_dir, const Run& run) {
  const std::string ts = Timestamp(run.created);
  std::string sanitized = run.model_label;
  for (size_t i = sanitized.find('/'); i != std::string::npos; i = sanitized.find('/', i + 2)) sanitized.replace(i, 1, "__");
  JsonWriter w(true);
  w.BeginObject();
  WriteLmEvalResults(w, run);
  WriteLmEvalConfigs(w, run);
  WriteLmEvalCounts(w, run);
  w.Key("config").BeginObject();
  w.Field("model", "doge");
  w.Field("model_args", "pretrained=" + run.model_label + ",dtype=float32");
  w.Field("batch_size", 1);
  w.Key("limit");
  if (run.limit >= 0) w.Int(run.limit); else w.Null();
  w.EndObject();
  w.Field("git_hash", run.git_revision);
  w.Field("model_name", run.model_label);
  w.Field("model_name_sanitized", sanitized);
  w.Field("total_evaluation_time_seconds", std::to_string(run.wall_time_s));
  w.EndObject();
  std::vector<std::string> written;
  const std::string dir = out_dir + "/" + sanitized;
  const std::string results = dir + "/results_" + ts + ".json";
  WriteFileAtomic(results, w.str() + "\n");
  written.push_back(results);

  // samples_<task>_<ts>.jsonl: one line per document, as lm-eval's --log_samples writes them.
  for (const TaskEntry& t : run.tasks) {
    const std::vector<Detail> ds = ReadDetails(out_dir, t.name);
    if (ds.empty()) continue;
    std::map<std::string, std::string> by_task;  // lm-eval task name -> lines
    for (const Detail& d : ds) {
      const std::string name = t.subtasks.empty() || t.name.find(':') != std::string::npos ? LmEvalName(t.name) : "mmlu_" + SubjectOf(d.subtask);
      by_task[name] += LmEvalSampleLine(d) + "\n";
    }
    for (const auto& [name, text] : by_task) {
      const std::string path = dir + "/samples_" + name + "_" + ts + ".jsonl";
      WriteFileAtomic(path, text);
      written.push_back(path);
    }
  }
  return written;
}

}  // namespace

std::vector<std::string> ParseOutputFormats(const std::string& text) {
  static const std::vector<std::string> kFormats = {"doge", "lighteval", "lm-eval"};
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    std::string f = text.substr(i, j - i);
    i = j + 1;
    f.erase(0, f.find_first_not_of(" \t"));
    f.erase(f.find_last_not_of(" \t") + 1);
    if (f.empty()) continue;
    if (f == "lm_eval" || f == "lmeval" || f == "lm-evaluation-harness") f = "lm-eval";
    if (std::find(kFormats.begin(), kFormats.end(), f) == kFormats.end()) {
      throw Error(ErrorKind::kUsage, "", "--output-format", UnknownNameMessage("output format", f, kFormats));
    }
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  if (out.empty()) throw Error(ErrorKind::kUsage, "", "--output-format", "empty; give doge, lighteval or lm-eval");
  return out;
}

std::vector<std::string> ExportResults(const std::string& out_dir, const std::string& format) {
  if (format == "doge") return {};
  const Run run = ReadRun(out_dir);
  if (format == "lighteval") return ExportLighteval(out_dir, run);
  if (format == "lm-eval") return ExportLmEval(out_dir, run);
  throw Error(ErrorKind::kUsage, "", "--output-format", UnknownNameMessage("output format", format, {"doge", "lighteval", "lm-eval"}));
}

}  // namespace doge::tasks
