// The run folder's files; see eval_run.h.
#include "tasks/eval_run.h"


#include <cstdio>
#include <ctime>
#include <limits>
#include <unordered_map>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/fingerprint.h"
#include "engine/base/json_read.h"
#include "tasks/data/datasets.h"
#include "tasks/data/documents.h"
#include "tasks/task_names.h"

namespace doge::tasks {

std::pair<std::string, std::string> SplitSubtask(const std::string& name) {
  const size_t colon = name.find(':');
  if (colon == std::string::npos) return {name, ""};
  return {name.substr(0, colon), name.substr(colon + 1)};
}

int EvalTaskPlan::NumFewshot(const std::string& name, int num_fewshot) const {
  auto it = task_k.find(name);
  return it != task_k.end() ? it->second : num_fewshot;
}

bool TaskDataPresent(const TaskSpec& spec, const std::string& dir, int k) {
  const data::DatasetAdapter& adapter = data::FindDatasetAdapter(spec.dataset);
  if (adapter.per_subject()) {
    for (const std::string& s : adapter.subjects()) {
      if (FileExists(data::SplitPath(dir, spec.dataset, spec.evaluation_split, s))) return true;
    }
    return false;
  }
  if (!FileExists(data::SplitPath(dir, spec.dataset, spec.evaluation_split))) return false;
  return k == 0 || FileExists(data::SplitPath(dir, spec.dataset, spec.few_shots_split));
}

EvalTaskPlan PlanEvalTasks(const std::vector<std::string>& given, int num_fewshot,
                           const std::string& protocol, const std::string& data_dir,
                           const std::function<void(const std::string&)>& note) {
  EvalTaskPlan plan;
  for (const TaskSelection& s : ResolveTaskNames(given)) {
    plan.names.push_back(s.task);
    if (s.num_fewshot >= 0) plan.task_k[s.task] = s.num_fewshot;
    if (s.num_fewshot >= 0 && num_fewshot >= 0 && s.num_fewshot != num_fewshot) {
      throw Error(ErrorKind::kUsage, "", "--num-fewshot",
                  "disagrees with the k of '" + s.given + "'");
    }
    if (!s.note.empty()) note(s.note);
  }
  if (plan.names.empty()) throw Error(ErrorKind::kUsage, "", "--tasks", "no task given");
  if (protocol != "auto") FindTaskSpec("mmlu", protocol);  // validates the name
  const std::string checked = protocol == "auto" ? "card-a" : protocol;
  std::map<std::string, int> per_subject_given;
  for (const std::string& n : plan.names) {
    const TaskSpec& spec = FindTaskSpec(SplitSubtask(n).first, checked);
    if (data::FindDatasetAdapter(spec.dataset).per_subject()) ++per_subject_given[spec.task];
  }
  // results.json and details/ are keyed by task name, so MMLU appears once: all subjects or one.
  for (const auto& [task, count] : per_subject_given) {
    if (count > 1) {
      throw Error(ErrorKind::kUsage, "", "--tasks",
                  "give " + task + " once: " + task + " (all subjects) or " + task + ":<subject>");
    }
  }
  std::string missing;
  for (const std::string& n : plan.names) {
    const TaskSpec& spec = FindTaskSpec(SplitSubtask(n).first, checked);
    const int k = plan.NumFewshot(n, num_fewshot);
    if (!TaskDataPresent(spec, data_dir, k >= 0 ? k : spec.num_fewshot)) {
      missing += (missing.empty() ? "" : ", ") + n + " (" + spec.dataset + ")";
    }
  }
  if (!missing.empty()) {
    throw Error(ErrorKind::kDataset, data_dir, "--tasks",
                "no data for " + missing + "; get it with doge data fetch or doge data import " +
                    "(--allow-count-mismatch accepts partial files, not missing datasets)");
  }
  return plan;
}

PreparedTask PrepareEvalTask(const std::string& name, const std::string& protocol, int num_fewshot,
                             int64_t limit, const std::string& data_dir, bool allow_count_mismatch,
                             bool check_counts) {
  const auto [base, subject] = SplitSubtask(name);
  const TaskSpec& spec = FindTaskSpec(base, protocol);
  PrepareOptions popt;
  popt.data_dir = data_dir;
  popt.subject = subject;
  popt.num_fewshot = num_fewshot;
  popt.limit = limit;
  PreparedTask t = PrepareTask(spec, popt);
  if (t.n_docs() == 0) {
    throw Error(ErrorKind::kDataset, data_dir, name,
                "no documents to evaluate (the " + spec.evaluation_split + " split is empty)");
  }
  if (!check_counts) return t;
  for (const SplitRead& r : t.splits_read) {
    data::CheckSplitCount(data_dir, r.dataset, r.split, r.subject, r.n, allow_count_mismatch);
  }
  const data::DatasetAdapter& adapter = data::FindDatasetAdapter(spec.dataset);
  if (adapter.per_subject() && subject.empty() && !t.skipped_subjects.empty()) {
    int64_t total = 0;
    for (const SplitRead& r : t.splits_read) total += r.split == spec.evaluation_split ? r.n : 0;
    // Every subject is part of the task: missing ones fail the count check of the whole split.
    data::CheckSplitCount(data_dir, spec.dataset, spec.evaluation_split, "", total,
                          allow_count_mismatch);
    std::fprintf(stderr,
                 "doge eval: warning: %s: %zu of %zu subjects absent from %s; averaging the rest\n",
                 spec.dataset.c_str(), t.skipped_subjects.size(), adapter.subjects().size(),
                 data_dir.c_str());
  }
  return t;
}

void WriteRequestFields(JsonWriter& w, const std::string& task, int64_t doc_index,
                        const std::string& query, const std::vector<std::string>& choices,
                        int gold_index, const std::vector<int64_t>& fewshot_indices) {
  w.Field("task", task);
  w.Field("doc_index", doc_index);
  w.Field("query", query);
  w.Key("choices").BeginArray();
  for (const std::string& c : choices) w.String(c);
  w.EndArray();
  w.Field("gold_index", gold_index);
  w.Key("fewshot_indices").IntArray(fewshot_indices);
}

std::string DetailLine(const DocResult& r) {
  JsonWriter w;
  w.BeginObject();
  WriteRequestFields(w, r.subtask, r.doc_index, r.query, r.choices, r.gold_index,
                     r.fewshot_indices);
  w.Key("logprobs").BeginArray();
  for (double v : r.logprobs) w.Double(v);
  w.EndArray();
  w.Key("n_tokens").IntArray(r.n_tokens);
  if (!r.is_greedy.empty()) {
    w.Key("is_greedy").BeginArray();
    for (bool b : r.is_greedy) w.Bool(b);
    w.EndArray();
  }
  if (r.prediction < 0) {
    w.Field("prediction", r.generation);
  } else {
    w.Field("prediction", r.prediction);
  }
  bool correct = false;
  for (const auto& [k, v] : r.metrics) {
    (void)k;
    correct = correct || v > 0;
  }
  if (r.metrics.count("acc_norm"))
    correct = r.metrics.at("acc_norm") > 0;
  else if (r.metrics.count("acc"))
    correct = r.metrics.at("acc") > 0;
  w.Field("correct", correct);
  w.Key("metrics").BeginObject();
  for (const auto& [k, v] : r.metrics) w.Field(k, v);
  w.EndObject();
  w.Field("context_tokens", r.context_tokens);
  w.Field("processed_tokens", r.processed_tokens);
  w.EndObject();
  return w.Take();
}

DocResult ParseDetailLine(const std::string& line, const std::string& where) {
  const std::unique_ptr<JsonDocument> doc =
      ParseJsonText(where, line, ErrorKind::kFormat, "invalid JSON");
  const JsonNode root = doc->root();
  constexpr int64_t kIntMin = std::numeric_limits<int32_t>::min();
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  DocResult r;
  r.subtask = root.GetString("task");
  r.doc_index = root.GetInt("doc_index");
  r.query = root.GetString("query");
  r.gold_index = static_cast<int>(root.Get("gold_index").IntIn(kIntMin, kIntMax, "a 32-bit integer"));
  r.choices = root.GetStringArray("choices");
  for (const JsonNode& e : root.Get("fewshot_indices").Items()) r.fewshot_indices.push_back(e.Int());
  for (const JsonNode& e : root.Get("logprobs").Items()) {
    // JsonWriter writes -inf as null.
    r.logprobs.push_back(e.IsNull() ? -std::numeric_limits<double>::infinity() : e.Number());
  }
  for (const JsonNode& e : root.Get("n_tokens").Items()) {
    r.n_tokens.push_back(static_cast<int32_t>(e.IntIn(kIntMin, kIntMax, "a 32-bit integer")));
  }
  if (auto greedy = root.Find("is_greedy"); greedy && greedy->IsArray()) {
    for (const JsonNode& e : greedy->Items()) r.is_greedy.push_back(e.Bool());
  }
  const JsonNode pred = root.Get("prediction");
  if (pred.IsString()) {
    r.generation = pred.String();
    r.prediction = -1;
  } else {
    r.prediction = static_cast<int>(pred.IntIn(kIntMin, kIntMax, "a choice index or a string"));
  }
  r.context_tokens = root.GetInt("context_tokens");
  r.processed_tokens = root.GetInt("processed_tokens");
  return r;
}

std::vector<std::string> ReadDetailsLines(const std::string& path) {
  std::vector<std::string> lines;
  const std::string content = ReadFileToString(path);
  size_t i = 0;
  while (i < content.size()) {
    size_t j = content.find('\n', i);
    if (j == std::string::npos) break;  // no newline: torn write
    lines.push_back(content.substr(i, j - i));
    i = j + 1;
  }
  return lines;
}

namespace {

std::string DocKey(const std::string& subtask, int64_t doc_index) {
  return subtask + "#" + std::to_string(doc_index);
}

constexpr char kOtherRun[] =
    "was written by a different run (model, protocol, k or task version); rerun without --resume "
    "to "
    "start over";

}  // namespace

TaskDetailsFiles::TaskDetailsFiles(const std::string& out_dir, const std::string& task,
                                   std::string header)
    : dir_(out_dir + "/details"),
      details_(dir_ + "/" + task + ".jsonl"),
      partial_(details_ + ".partial"),
      header_(std::move(header)) {}

TaskDetailsFiles::~TaskDetailsFiles() {
  if (file_) std::fclose(file_);
}

std::string TaskDetailsFiles::PartialHeader(const PreparedTask& task, const std::string& identity) {
  JsonWriter w;
  w.BeginObject();
  w.Field("schema", kDetailsPartialSchema);
  w.Field("task", task.spec->task);
  w.Field("protocol", task.spec->protocol);
  w.Field("version", task.spec->version);
  w.Field("k", task.k);
  w.Field("run", identity);
  w.EndObject();
  return w.Take();
}

std::vector<std::string> TaskDetailsFiles::Resume(std::vector<DocResult>& results,
                                                  std::vector<bool>& done) const {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < results.size(); ++i)
    index[DocKey(results[i].subtask, results[i].doc_index)] = i;
  std::vector<std::string> kept;
  const bool from_partial = FileExists(partial_);
  const std::string& src = from_partial ? partial_ : details_;
  if (!from_partial && FileExists(details_)) {
    // A finished task: its run identity sits next to it (details files hold doc lines only).
    const std::string run_file = details_ + ".run";
    if (!FileExists(run_file) || ReadFileToString(run_file) != header_ + "\n") {
      throw Error(ErrorKind::kUsage, details_, "run", kOtherRun);
    }
  }
  if (!FileExists(src)) return kept;
  std::vector<std::string> lines = ReadDetailsLines(src);
  size_t start = 0;
  if (from_partial) {
    if (lines.empty() || lines[0] != header_)
      throw Error(ErrorKind::kUsage, partial_, "header", kOtherRun);
    start = 1;
  }
  for (size_t l = start; l < lines.size(); ++l) {
    DocResult r = ParseDetailLine(lines[l], src + ":" + std::to_string(l + 1));
    auto it = index.find(DocKey(r.subtask, r.doc_index));
    if (it == index.end()) continue;  // e.g. a different --limit: not part of this run
    if (r.query != results[it->second].query ||
        r.fewshot_indices != results[it->second].fewshot_indices) {
      throw Error(ErrorKind::kUsage, src, std::to_string(l + 1) + ": query",
                  "the saved request differs from the one this run builds (data or prompt "
                  "changed); rerun without --resume");
    }
    results[it->second] = std::move(r);
    done[it->second] = true;
    kept.push_back(lines[l]);
  }
  return kept;
}

void TaskDetailsFiles::StartPartial(const std::vector<std::string>& kept_lines) {
  MakeDirs(dir_);
  std::string initial = header_ + "\n";
  for (const std::string& l : kept_lines) initial += l + "\n";
  WriteFileAtomic(partial_, initial);
  file_ = std::fopen(partial_.c_str(), "ab");
  if (!file_) throw Error(ErrorKind::kIo, partial_, "", "cannot open for appending");
}

void TaskDetailsFiles::AppendPartial(const std::string& text) {
  if (!file_) return;
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
}

void TaskDetailsFiles::Finish(const std::vector<DocResult>& results) {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  std::string all;
  for (const DocResult& r : results) all += DetailLine(r) + "\n";
  WriteFileAtomic(details_, all);
  WriteFileAtomic(details_ + ".run", header_ + "\n");
  std::remove(partial_.c_str());
}

void WriteFinishedDetails(const std::string& out_dir, const std::string& task,
                          const std::string& text, const std::string& run) {
  WriteFileAtomic(out_dir + "/details/" + task + ".jsonl", text);
  WriteFileAtomic(out_dir + "/details/" + task + ".jsonl.run", run);
}

std::string UtcTimestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void WriteMetricSummaryJson(JsonWriter& w, const std::map<std::string, MetricSummary>& m) {
  w.Key("metrics").BeginObject();
  for (const auto& [k, v] : m) w.Field(k, v.value);
  w.EndObject();
  w.Key("stderr").BeginObject();
  for (const auto& [k, v] : m) w.Field(k, v.stderr);
  w.EndObject();
}

namespace {

// The provenance half of results.json: machine, build, model, tokenizer, settings.
void WriteRunHeader(JsonWriter& w, const EvalRunRecord& run) {
  const MachineFingerprint& fp = GetMachineFingerprint();
  w.Field("schema", kResultsSchema);
  w.Key("fingerprint");
  WriteFingerprintJson(w, fp);
  w.Field("git_revision", fp.git_revision);
  w.Field("created", UtcTimestamp());
  w.Key("model").BeginObject();
  w.Field("path", run.model_path);
  w.Field("id", run.model_id);
  w.Field("name", run.model_name);
  w.Field("n_params", run.n_params);
  w.Field("layout", run.layout);
  w.Key("sha256").BeginObject();
  for (const auto& [n, h] : run.weights_sha256) w.Field(n, h);
  w.EndObject();
  w.EndObject();
  w.Key("tokenizer").BeginObject();
  w.Field("path", run.tokenizer_path);
  w.Field("sha256", run.tokenizer_sha256);
  w.EndObject();
  w.Field("protocol", run.protocol);
  w.Field("threads", run.threads);
  w.Field("wall_time_s", run.wall_time_s);
  w.Key("limit");
  if (run.limit >= 0)
    w.Int(run.limit);
  else
    w.Null();
}

// How the run was split: --shard (this folder holds one slice of every task; n and the metrics
// are the slice's, `doge eval merge` checks and joins the slices) and mpirun (who scored what:
// the only part of an MPI run's results that depends on the ranks).
void WriteRunSplit(JsonWriter& w, const EvalRunRecord& run) {
  if (run.sharded) {
    w.Key("shard").BeginObject();
    w.Field("index", run.shard.index);
    w.Field("count", run.shard.count);
    w.Field("run", run.run_identity);
    w.Key("n_total").BeginObject();
    for (const auto& [task, n] : run.n_total) w.Field(task, n);
    w.EndObject();
    w.EndObject();
  }
  if (run.n_ranks > 1) {
    w.Key("distributed").BeginObject();
    w.Field("ranks", run.n_ranks);
    w.Key("rank_info").BeginArray();
    for (const RankInfo& r : run.ranks) {
      w.BeginObject();
      w.Field("rank", r.rank);
      w.Field("host", r.host);
      w.Field("threads", r.threads);
      w.Field("cpu_model", r.cpu_model);
      w.Field("docs_scored", r.docs_scored);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
}

// One task's entry: its protocol, the metrics (and per subtask), data hashes and performance.
void WriteTaskResult(JsonWriter& w, const TaskResult& r, const PrefixReuse& reuse) {
  const TaskSpec& s = *r.spec;
  w.Key(s.task).BeginObject();
  w.Field("protocol", s.protocol);
  w.Field("version", s.version);
  w.Field("k", r.k);
  w.Field("split", s.evaluation_split);
  w.Field("fewshot_split", s.few_shots_split);
  w.Field("sampler", s.few_shots_select);
  w.Field("lighteval", s.lighteval);
  w.Field("n", r.n);
  WriteMetricSummaryJson(w, r.metrics);
  w.Field("aggregation", s.aggregation);
  if (!r.subtasks.empty()) {
    w.Key("subtasks").BeginObject();
    for (const auto& [name, sub] : r.subtasks) {
      w.Key(name).BeginObject();
      w.Field("n", sub.n);
      WriteMetricSummaryJson(w, sub.metrics);
      w.EndObject();
    }
    w.EndObject();
  }
  w.Key("dataset_sha256").BeginObject();
  for (const auto& [f, h] : r.dataset_sha256) w.Field(f, h);
  w.EndObject();
  w.Field("docs_per_s", r.docs_per_s);
  w.Field("scored_tokens_per_s", r.scored_tokens_per_s);
  w.Field("docs_scored", r.docs_scored);
  w.Field("wall_time_s", r.wall_time_s);
  w.Key("prefix_cache").BeginObject();
  w.Field("tokens_reused", reuse.reused);
  w.Field("tokens_scored", reuse.scored);
  w.Field("hit_rate", reuse.rate());
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string ResultsJson(const EvalRunRecord& run) {
  JsonWriter w(true);
  w.BeginObject();
  WriteRunHeader(w, run);
  WriteRunSplit(w, run);
  w.Key("tasks").BeginObject();
  for (size_t i = 0; i < run.results.size(); ++i)
    WriteTaskResult(w, run.results[i], run.reuse.at(i));
  w.EndObject();
  w.EndObject();
  return w.str() + "\n";
}

void WriteResultsJson(const std::string& out_dir, const EvalRunRecord& run) {
  WriteFileAtomic(out_dir + "/results.json", ResultsJson(run));
}

}  // namespace doge::tasks
