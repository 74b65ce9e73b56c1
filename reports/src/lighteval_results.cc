#include "reports/src/lighteval_results.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <vector>

namespace doge::reports {

namespace {

// lighteval task part -> doge task ("" = not one of the card's tasks).
std::string DogeTaskName(const std::string& task) {
  static const std::map<std::string, std::string> k = {
      {"arc:easy", "arc_easy"}, {"arc:challenge", "arc_challenge"}, {"hellaswag", "hellaswag"},
      {"piqa", "piqa"},         {"openbookqa", "openbookqa"},       {"winogrande", "winogrande"},
      {"triviaqa", "triviaqa"}, {"mmlu", "mmlu"},                   {"mmlu:_average", "mmlu"}};
  auto it = k.find(task);
  return it == k.end() ? "" : it->second;
}

std::vector<std::string> SplitBar(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    const size_t j = s.find('|', i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) return out;
    i = j + 1;
  }
}

// config_tasks["suite|task"].evaluation_splits[0], "" when absent.
std::string Split(const JsonNode& root, const std::string& config_key) {
  if (auto ct = root.Find("config_tasks"); ct && ct->IsObject()) {
    if (auto t = ct->Find(config_key); t && t->IsObject()) {
      if (auto s = t->Find("evaluation_splits"); s && s->IsArray() && !s->Items().empty() && s->Items()[0].IsString()) {
        return s->Items()[0].String();
      }
    }
  }
  return "";
}

// Documents of a task key: config_tasks["suite|task"].effective_num_docs, else
// summary_tasks["suite|task|k"].non_truncated + truncated, else 0.
int64_t DocCount(const JsonNode& root, const std::string& config_key, const std::string& key) {
  if (auto ct = root.Find("config_tasks"); ct && ct->IsObject()) {
    if (auto t = ct->Find(config_key); t && t->IsObject()) {
      if (auto n = t->Find("effective_num_docs"); n && n->IsNumber()) return n->IntIn(0, int64_t{1} << 50, "a document count");
    }
  }
  if (auto st = root.Find("summary_tasks"); st && st->IsObject()) {
    if (auto t = st->Find(key); t && t->IsObject()) {
      int64_t n = 0;
      if (auto a = t->Find("non_truncated"); a && a->IsNumber()) n += a->IntIn(0, int64_t{1} << 50, "a document count");
      if (auto b = t->Find("truncated"); b && b->IsNumber()) n += b->IntIn(0, int64_t{1} << 50, "a document count");
      return n;
    }
  }
  return 0;
}

void ReadMetrics(const JsonNode& m, TaskResult* t) {
  for (const auto& [name, v] : m.Members()) {
    const bool is_se = name.size() > 7 && name.compare(name.size() - 7, 7, "_stderr") == 0;
    const std::string metric = is_se ? name.substr(0, name.size() - 7) : name;
    if (v.IsNull()) {
      if (is_se) t->stderrs[metric] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const double x = v.NumberIn(0, 1, is_se ? "a standard error in [0, 1]" : "a fraction in [0, 1]");
    (is_se ? t->stderrs : t->metrics)[metric] = x;
  }
}

}  // namespace

bool IsLightevalResults(const JsonNode& root) {
  return root.IsObject() && !root.Find("schema") && root.Find("config_general") && root.Find("results");
}

EvalResults LightevalToEvalResults(const std::string& path, const JsonNode& root) {
  EvalResults r;
  r.file = path;
  const JsonNode general = root.Get("config_general");
  const std::string model = general.GetString("model_name");
  if (model.empty()) general.Get("model_name").Fail("empty model name");
  r.model_path = model;
  r.model_name = model.substr(model.find_last_of('/') + 1);  // "SmallDoge/Doge-20M" -> "Doge-20M"
  if (auto sha = general.Find("lighteval_sha"); sha && sha->IsString()) r.git_revision = "lighteval " + sha->String();
  // results_2025-01-31T12-00-00.000000.json: the time lighteval wrote it.
  const std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.rfind("results_", 0) == 0) r.created = base.substr(8, base.rfind(".json") == std::string::npos ? std::string::npos : base.rfind(".json") - 8);
  if (auto ms = general.Find("max_samples"); ms && !ms->IsNull()) r.limit = ms->IntIn(0, int64_t{1} << 50, "a document limit");
  // MMLU subjects, averaged (macro, as lighteval's _average) when no mmlu / _average key exists.
  std::map<std::string, TaskResult> subjects;
  for (const auto& [key, value] : root.Get("results").Members()) {
    if (key == "all") continue;
    const std::vector<std::string> parts = SplitBar(key);
    if (parts.size() != 3) value.Fail("expected a key suite|task|k");
    const std::string& task = parts[1];
    const std::string protocol = parts[0] == "custom" ? "card-b" : "card-a";
    if (r.protocol.empty()) r.protocol = protocol;
    TaskResult t;
    t.protocol = protocol;
    t.k = std::atoll(parts[2].c_str());
    t.aggregation = "mean";
    t.n = DocCount(root, parts[0] + "|" + task, key);
    t.split = Split(root, parts[0] + "|" + task);
    ReadMetrics(value, &t);
    if (task.rfind("mmlu:", 0) == 0 && task != "mmlu:_average") {
      t.name = task;
      subjects[task] = std::move(t);
      continue;
    }
    t.name = DogeTaskName(task);
    if (t.name.empty()) continue;  // not a card task
    if (t.name == "mmlu") t.aggregation = task == "mmlu:_average" ? "macro" : "micro";
    r.tasks[t.name] = std::move(t);
  }
  if (!subjects.empty()) {
    int64_t n = 0;
    for (const auto& [name, s] : subjects) n += s.n;
    auto it = r.tasks.find("mmlu");
    if (it == r.tasks.end()) {
      TaskResult m = subjects.begin()->second;
      m.name = "mmlu";
      m.aggregation = "macro";
      m.metrics.clear();
      m.stderrs.clear();
      std::map<std::string, int> count;
      for (const auto& [name, s] : subjects) {
        for (const auto& [metric, v] : s.metrics) {
          m.metrics[metric] += v;
          ++count[metric];
        }
      }
      // se of a mean of independent subject means: sqrt(sum se^2) / n_subjects.
      std::map<std::string, double> var;
      for (const auto& [name, s] : subjects) {
        for (const auto& [metric, v] : s.stderrs) var[metric] += v * v;
      }
      for (auto& [metric, v] : m.metrics) {
        v /= count[metric];
        m.stderrs[metric] = var.count(metric) ? std::sqrt(var[metric]) / count[metric] : std::nan("");
      }
      it = r.tasks.emplace("mmlu", std::move(m)).first;
    }
    it->second.n = n;
    it->second.n_subtasks = static_cast<int64_t>(subjects.size());
  }
  if (r.tasks.empty()) root.Get("results").Fail("no key names a task of the Doge model card (arc:easy, hellaswag, mmlu ...)");
  return r;
}

}  // namespace doge::reports
