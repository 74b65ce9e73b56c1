// TaskSpec parsing and the compiled-in registry; see spec.h.
#include "tasks/spec.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "engine/base/error.h"
#include "engine/base/json_read.h"

namespace doge::tasks {

// Generated from tasks/specs/*/*.json by tasks/CMakeLists.txt: {relative path, contents}.
const std::vector<std::pair<std::string, std::string>>& EmbeddedSpecFiles();

namespace {

[[noreturn]] void Fail(const std::string& file, const std::string& field, const std::string& msg) {
  throw Error(ErrorKind::kConfig, file, field, msg);
}

// Spec fields are read through engine/base/json_read.h. An absent optional field takes its
// default; a present one, null included, must have the field's type.
std::string GetString(const JsonNode& o, const char* key, bool required, const std::string& def = "") {
  const std::optional<JsonNode> v = o.Find(key);
  if (!v) {
    if (required) o.FailAt(key, "missing");
    return def;
  }
  return v->String();
}

int GetInt(const JsonNode& o, const char* key, bool required, int def = 0) {
  const std::optional<JsonNode> v = o.Find(key);
  if (!v) {
    if (required) o.FailAt(key, "missing");
    return def;
  }
  return static_cast<int>(
      v->IntIn(std::numeric_limits<int>::min(), std::numeric_limits<int>::max(), "a 32-bit integer"));
}

ChoiceSpec ParseChoices(const JsonNode& o, const char* key) {
  ChoiceSpec c;
  const std::optional<JsonNode> e = o.Find(key);
  if (!e) return c;
  for (const auto& [k, v] : e->Members()) {
    if (k == "literal") {
      c.literal = v.StringArray();
    } else if (k == "templates") {
      c.templates = v.StringArray();
    } else if (k == "from" || k == "template" || k == "transform") {
      (k == "from" ? c.from : k == "template" ? c.item_template : c.transform) = v.String();
    } else {
      v.Fail("unknown field; expected literal, templates, from, template, transform");
    }
  }
  const int forms = !c.literal.empty() + !c.templates.empty() + !c.from.empty();
  if (forms != 1) e->Fail("give exactly one of literal, templates, from");
  if (!c.from.empty() && c.item_template.empty()) e->FailAt("template", "required with \"from\"");
  return c;
}

}  // namespace

std::vector<std::string> TaskSpec::ReportedMetrics() const {
  std::vector<std::string> out;
  for (const std::string& m : metrics) {
    std::string r = m == "acc_norm_nospace" ? "acc_norm" : m;
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

const char* SamplerName(Sampler s) {
  switch (s) {
    case Sampler::kSequential: return "sequential";
    case Sampler::kRandom: return "random";
    case Sampler::kBalanced: return "balanced";
    case Sampler::kRandomSamplingFromTrain: return "random_sampling_from_train";
    case Sampler::kRandomSampling: return "random_sampling";
  }
  return "?";
}

TaskSpec ParseTaskSpec(const std::string& json, const std::string& file) {
  const std::unique_ptr<JsonDocument> doc =
      ParseJsonText(file, json, ErrorKind::kConfig, "invalid JSON");
  const JsonNode o = doc->root();
  if (!o.IsObject()) Fail(file, "", "expected a JSON object");
  static const std::set<std::string> kKnown = {
      "task", "protocol", "version", "lighteval", "dataset", "doc_hook", "subtasks",
      "evaluation_split", "few_shots_split", "few_shots_select", "num_fewshot", "instruction",
      "query", "query_transform", "choices", "fewshot_choices", "golds", "output_type", "metrics",
      "aggregation", "generation_size", "stop_sequence", "stop_on_eos"};
  for (const auto& [k, v] : o.Members()) {
    if (!kKnown.count(k)) v.Fail(UnknownNameMessage("spec field", k, {kKnown.begin(), kKnown.end()}));
  }
  TaskSpec s;
  s.spec_file = file;
  s.task = GetString(o, "task", true);
  s.protocol = GetString(o, "protocol", true);
  s.version = GetInt(o, "version", true);
  s.lighteval = GetString(o, "lighteval", false);
  s.dataset = GetString(o, "dataset", true);
  s.doc_hook = GetString(o, "doc_hook", true);
  s.subtasks = GetString(o, "subtasks", false);
  s.evaluation_split = GetString(o, "evaluation_split", true);
  s.few_shots_split = GetString(o, "few_shots_split", true);
  s.few_shots_select = GetString(o, "few_shots_select", true);
  s.num_fewshot = GetInt(o, "num_fewshot", true);
  s.instruction = GetString(o, "instruction", false);
  s.query = GetString(o, "query", true);
  s.query_transform = GetString(o, "query_transform", false);
  s.choices = ParseChoices(o, "choices");
  s.fewshot_choices = ParseChoices(o, "fewshot_choices");
  s.golds = GetString(o, "golds", false);
  s.aggregation = GetString(o, "aggregation", true);
  s.generation_size = GetInt(o, "generation_size", false);
  if (auto e = o.Find("stop_sequence")) s.stop_sequence = e->StringArray();
  if (auto e = o.Find("stop_on_eos")) s.stop_on_eos = e->Bool();
  s.metrics = o.GetStringArray("metrics");

  const std::string ot = GetString(o, "output_type", true);
  if (ot == "multiple_choice") s.output_type = OutputType::kMultipleChoice;
  else if (ot == "single_token") s.output_type = OutputType::kSingleToken;
  else if (ot == "generate_until") s.output_type = OutputType::kGenerateUntil;
  else Fail(file, "output_type", UnknownNameMessage("output_type", ot,
                                                    {"multiple_choice", "single_token", "generate_until"}));
  const std::vector<std::string> samplers = {"sequential", "random", "balanced",
                                             "random_sampling_from_train", "random_sampling"};
  auto it = std::find(samplers.begin(), samplers.end(), s.few_shots_select);
  if (it == samplers.end()) {
    Fail(file, "few_shots_select", UnknownNameMessage("sampler", s.few_shots_select, samplers));
  }
  s.sampler = static_cast<Sampler>(it - samplers.begin());
  for (const std::string& m : s.metrics) {
    const std::vector<std::string> known = {"acc", "acc_norm", "acc_norm_nospace", "qem"};
    if (std::find(known.begin(), known.end(), m) == known.end()) {
      Fail(file, "metrics", UnknownNameMessage("metric", m, known));
    }
    const bool gen_metric = m == "qem";
    if (gen_metric != (s.output_type == OutputType::kGenerateUntil)) {
      Fail(file, "metrics", "metric '" + m + "' does not fit output_type " + ot);
    }
  }
  if (s.aggregation != "mean" && s.aggregation != "macro" && s.aggregation != "micro") {
    Fail(file, "aggregation", "expected mean, macro or micro, got '" + s.aggregation + "'");
  }
  if (s.output_type == OutputType::kGenerateUntil) {
    if (s.golds.empty()) Fail(file, "golds", "required for generate_until");
    if (s.generation_size <= 0) Fail(file, "generation_size", "must be > 0 for generate_until");
  } else if (s.choices.empty()) {
    Fail(file, "choices", "required for " + ot);
  }
  if (s.num_fewshot < 0) Fail(file, "num_fewshot", "must be >= 0");
  return s;
}

const std::vector<TaskSpec>& AllTaskSpecs() {
  static const std::vector<TaskSpec> kSpecs = [] {
    std::vector<TaskSpec> out;
    for (const auto& [path, content] : EmbeddedSpecFiles()) out.push_back(ParseTaskSpec(content, path));
    return out;
  }();
  return kSpecs;
}

const std::vector<std::string>& ProtocolNames() {
  static const std::vector<std::string> k = {"card-a", "card-b"};
  return k;
}

const std::string& AutoProtocol(int64_t n_params) {
  constexpr int64_t kCardBMinParams = 100000000;
  return ProtocolNames()[n_params < kCardBMinParams ? 0 : 1];
}

const std::vector<std::string>& CardTaskNames() {
  static const std::vector<std::string> k = {"mmlu",      "triviaqa",   "arc_easy", "arc_challenge",
                                             "piqa",      "hellaswag",  "openbookqa", "winogrande"};
  return k;
}

const TaskSpec& FindTaskSpec(const std::string& task, const std::string& protocol) {
  if (std::find(ProtocolNames().begin(), ProtocolNames().end(), protocol) == ProtocolNames().end()) {
    throw Error(ErrorKind::kUsage, "", "--protocol", UnknownNameMessage("protocol", protocol, ProtocolNames()));
  }
  const std::string base = task.substr(0, task.find(':'));
  std::vector<std::string> names;
  for (const TaskSpec& s : AllTaskSpecs()) {
    if (s.protocol != protocol) continue;
    if (s.task == base) return s;
    names.push_back(s.task);
  }
  throw Error(ErrorKind::kUsage, "", "--task", UnknownNameMessage("task", task, names));
}

std::vector<std::string> ExpandTaskList(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const std::string& n : names) {
    if (n == "card") {
      for (const std::string& t : CardTaskNames()) add(t);
    } else if (n == "arc") {  // the card's ARC column
      add("arc_easy");
      add("arc_challenge");
    } else {
      add(n);
    }
  }
  return out;
}

}  // namespace doge::tasks
