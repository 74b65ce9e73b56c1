// Eval-run comparison; see eval_compare.h.
#include "reports/src/eval_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_writer.h"
#include "engine/base/run_schema.h"
#include "reports/src/json_read.h"
#include "reports/src/render.h"

namespace doge::reports {

namespace {

// One details line, reduced to what the comparison needs.
struct Doc {
  DocRef ref;
  std::vector<double> logprobs;         // [n_choices]
  std::string prediction;               // index as text, or the generation
  std::map<std::string, double> metrics;  // per-doc 0/1
  std::string where;                    // "details/piqa.jsonl:12" for messages
};

struct TaskRun {
  std::string name;
  std::string protocol, split, details_path;
  int64_t version = 0, k = 0;
  std::vector<std::pair<std::string, std::string>> dataset_sha256;
  std::map<std::string, double> metrics;  // results.json "metrics"
  std::vector<Doc> docs;
};

struct Run {
  std::string results_path;
  std::unique_ptr<JsonDocument> doc;
  std::string model_sha, tokenizer_sha, protocol, limit;
  std::vector<std::string> task_order;
  std::map<std::string, TaskRun> tasks;
};

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string ResultsPath(const std::string& input) {
  return IsDirectory(input) ? input + "/results.json" : input;
}

std::string Canonical(const JsonNode& n) {
  // A compact, order-preserving text form of a JSON value for identity comparisons.
  if (n.IsObject()) {
    std::string s = "{";
    for (const auto& [k, v] : n.Members()) s += k + ":" + Canonical(v) + ",";
    return s + "}";
  }
  if (n.IsArray()) {
    std::string s = "[";
    for (const auto& v : n.Items()) s += Canonical(v) + ",";
    return s + "]";
  }
  if (n.IsString()) return "\"" + n.String() + "\"";
  if (n.IsNumber()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", n.Number());
    return buf;
  }
  if (n.IsNull()) return "null";
  return n.Bool() ? "true" : "false";
}

Doc ParseDoc(const std::string& path, int64_t line_no, const std::string& line) {
  const std::string label = path + ":" + std::to_string(line_no);
  auto jd = ParseJsonText(label, line);
  JsonNode root = jd->root();
  if (!root.IsObject()) root.Fail("expected a JSON object per line");
  Doc d;
  d.where = label;
  d.ref.subtask = root.GetString("task");
  d.ref.doc_index = root.GetInt("doc_index");
  for (const JsonNode& v : root.Get("logprobs").Items()) d.logprobs.push_back(v.Number());
  JsonNode pred = root.Get("prediction");
  if (pred.IsString()) {
    d.prediction = pred.String();
  } else {
    d.prediction = std::to_string(pred.Int());
  }
  for (const auto& [k, v] : root.Get("metrics").Members()) d.metrics[k] = v.Number();
  return d;
}

Run LoadRun(const std::string& input) {
  Run run;
  run.results_path = ResultsPath(input);
  if (!FileExists(run.results_path)) {
    throw Error(ErrorKind::kIo, run.results_path, "",
                "not found: give a `doge eval --out-dir` folder or its results.json");
  }
  run.doc = LoadJsonFile(run.results_path);
  JsonNode root = run.doc->root();
  CheckSchema(root.Get("schema"), kResultsSchema);
  run.model_sha = Canonical(root.Get("model").Get("sha256"));
  run.tokenizer_sha = root.Get("tokenizer").GetString("sha256");
  run.protocol = root.GetString("protocol");
  if (auto l = root.Find("limit")) run.limit = Canonical(*l);
  const std::string dir = DirName(run.results_path);
  for (const auto& [name, t] : root.Get("tasks").Members()) {
    TaskRun tr;
    tr.name = name;
    tr.protocol = t.GetString("protocol");
    tr.version = t.GetInt("version");
    tr.k = t.GetInt("k");
    tr.split = t.GetString("split");
    for (const auto& [f, h] : t.Get("dataset_sha256").Members()) tr.dataset_sha256.emplace_back(f, h.String());
    for (const auto& [m, v] : t.Get("metrics").Members()) tr.metrics[m] = v.Number();
    tr.details_path = dir + "/details/" + name + ".jsonl";
    if (!FileExists(tr.details_path)) {
      throw Error(ErrorKind::kIo, tr.details_path, "",
                  "missing: the comparison needs the per-document details next to " + run.results_path);
    }
    const std::string content = ReadFileToString(tr.details_path);
    size_t i = 0;
    int64_t line_no = 0;
    while (i < content.size()) {
      size_t j = content.find('\n', i);
      if (j == std::string::npos) j = content.size();
      ++line_no;
      const std::string line = content.substr(i, j - i);
      if (!line.empty()) tr.docs.push_back(ParseDoc(tr.details_path, line_no, line));
      i = j + 1;
    }
    run.task_order.push_back(name);
    run.tasks.emplace(name, std::move(tr));
  }
  return run;
}

std::string Key(const DocRef& r) { return r.subtask + "#" + std::to_string(r.doc_index); }

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Sci(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string FormatP(double p) {
  char buf[64];
  std::snprintf(buf, sizeof buf, p < 1e-4 ? "%.1e" : "%.4f", p);
  return buf;
}

// Linear-interpolated percentile of a sorted vector (numpy's default).
double SortedPercentile(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

bool IsEvalRunInput(const std::string& path) {
  if (IsDirectory(path)) return true;
  if (!FileExists(path)) return false;
  try {
    auto doc = LoadJsonFile(path);
    JsonNode root = doc->root();
    if (!root.IsObject()) return false;
    auto schema = root.Find("schema");
    return schema && schema->IsString() && schema->String() == kResultsSchema;
  } catch (const Error&) {
    return false;  // not JSON: let the benchmark loader report it
  }
}

McNemarResult ExactMcNemar(int64_t base_only, int64_t new_only) {
  McNemarResult r;
  r.base_only = base_only;
  r.new_only = new_only;
  const int64_t n = base_only + new_only;
  if (n == 0) return r;  // no discordant pair: no evidence of a change
  const int64_t m = std::min(base_only, new_only);
  // P(X <= m) for X ~ Bin(n, 1/2), terms in log space (lgamma) so large n neither over- nor
  // underflows; summed in float64.
  double tail = 0;
  for (int64_t k = 0; k <= m; ++k) {
    const double log_term = std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) -
                            static_cast<double>(n) * std::log(2.0);
    tail += std::exp(log_term);
  }
  r.p_value = std::min(1.0, 2 * tail);
  return r;
}

namespace {

// The tasks of both runs, in BASE's order; a task in one run only is a warning.
std::vector<std::string> CommonTasks(const Run& base, const Run& neu, std::vector<std::string>& warnings) {
  std::vector<std::string> common;
  for (const std::string& t : base.task_order) {
    if (neu.tasks.count(t)) {
      common.push_back(t);
    } else {
      warnings.push_back("task " + t + " is only in BASE (not compared)");
    }
  }
  for (const std::string& t : neu.task_order) {
    if (!base.tasks.count(t)) warnings.push_back("task " + t + " is only in NEW (not compared)");
  }
  if (common.empty()) {
    throw Error(ErrorKind::kFormat, neu.results_path, "tasks",
                "no task in common with " + base.results_path + ": nothing to compare");
  }
  return common;
}

// Setup differences: everything that makes the two runs different experiments.
std::vector<std::string> SetupDifferences(const Run& base, const Run& neu, const std::vector<std::string>& common) {
  std::vector<std::string> diffs;
  if (base.model_sha != neu.model_sha) diffs.push_back("model.sha256: the model weights differ");
  if (base.tokenizer_sha != neu.tokenizer_sha) {
    diffs.push_back("tokenizer.sha256: '" + base.tokenizer_sha + "' vs '" + neu.tokenizer_sha + "'");
  }
  if (base.limit != neu.limit) diffs.push_back("limit: " + base.limit + " vs " + neu.limit);
  for (const std::string& t : common) {
    const TaskRun& a = base.tasks.at(t);
    const TaskRun& b = neu.tasks.at(t);
    if (a.protocol != b.protocol) diffs.push_back("tasks." + t + ".protocol: " + a.protocol + " vs " + b.protocol);
    if (a.version != b.version) {
      diffs.push_back("tasks." + t + ".version: " + std::to_string(a.version) + " vs " + std::to_string(b.version));
    }
    if (a.k != b.k) diffs.push_back("tasks." + t + ".k: " + std::to_string(a.k) + " vs " + std::to_string(b.k));
    if (a.split != b.split) diffs.push_back("tasks." + t + ".split: " + a.split + " vs " + b.split);
    if (a.dataset_sha256 != b.dataset_sha256) diffs.push_back("tasks." + t + ".dataset_sha256: the data files differ");
  }

  return diffs;
}

// What the per-document pass over one task collects besides `tc`.
struct DocPass {
  int64_t only_base = 0, only_new = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> discordant;  // metric -> (b, c)
  std::vector<double> abs_drift;                                   // |Δ logprob| of every choice
  std::vector<DriftEntry> per_doc_worst;
};

// Pairs the documents of one task by (subtask, doc_index): flipped predictions, McNemar's
// discordant pairs per metric and the log-likelihood drift of every choice.
DocPass CompareDocs(const TaskRun& a, const TaskRun& b, const EvalCompareOptions& options, TaskComparison& tc) {
  DocPass p;
  int64_t& only_base = p.only_base;
  auto& discordant = p.discordant;
  auto& abs_drift = p.abs_drift;
  auto& per_doc_worst = p.per_doc_worst;
  std::map<std::string, const Doc*> new_docs;
  for (const Doc& d : b.docs) new_docs[Key(d.ref)] = &d;
  std::set<std::string> seen;
  for (const Doc& d : a.docs) {
    auto it = new_docs.find(Key(d.ref));
    if (it == new_docs.end()) {
      ++only_base;
      continue;
    }
    seen.insert(Key(d.ref));
    const Doc& e = *it->second;
    ++tc.n_docs;
    if (d.prediction != e.prediction) tc.flipped.push_back({d.ref, d.prediction, e.prediction});
    for (const auto& [m, v] : d.metrics) {
      auto f = e.metrics.find(m);
      if (f == e.metrics.end()) continue;
      auto& [bo, no] = discordant[m];
      const bool cb = v > 0, cn = f->second > 0;
      bo += cb && !cn;
      no += !cb && cn;
    }
    if (d.logprobs.size() != e.logprobs.size()) {
      throw Error(ErrorKind::kFormat, e.where, "logprobs",
                  std::to_string(e.logprobs.size()) + " choices, BASE (" + d.where + ") has " +
                      std::to_string(d.logprobs.size()) + ": not the same requests");
    }
    DriftEntry worst;  // this document's largest |Δ| (first choice on ties)
    worst.doc = d.ref;
    double worst_ad = -1;
    for (size_t c = 0; c < d.logprobs.size(); ++c) {
      const double delta = e.logprobs[c] - d.logprobs[c];
      const double ad = std::fabs(delta);
      abs_drift.push_back(ad);
      tc.scatter.emplace_back(d.logprobs[c], e.logprobs[c]);
      if (ad > options.max_logprob_drift) ++tc.n_over_drift;
      if (ad > worst_ad) {
        worst_ad = ad;
        worst.choice = static_cast<int>(c);
        worst.base = d.logprobs[c];
        worst.neu = e.logprobs[c];
        worst.delta = delta;
      }
    }
    if (worst_ad > 0) per_doc_worst.push_back(worst);
  }
  p.only_new = static_cast<int64_t>(b.docs.size()) - static_cast<int64_t>(seen.size());
  return p;
}

}  // namespace

EvalCompareReport CompareEvalRuns(const EvalCompareOptions& options) {
  if (!(options.alpha > 0 && options.alpha < 1)) {
    throw Error(ErrorKind::kUsage, "", "--alpha", "expected a significance level in (0, 1)");
  }
  if (!(options.max_logprob_drift >= 0)) {
    throw Error(ErrorKind::kUsage, "", "--max-logprob-drift", "expected a number >= 0");
  }
  EvalCompareReport report;
  report.options = options;
  Run base = LoadRun(options.base_path);
  Run neu = LoadRun(options.new_path);
  report.base_results = base.results_path;
  report.new_results = neu.results_path;

  const std::vector<std::string> common = CommonTasks(base, neu, report.warnings);
  std::vector<std::string> diffs = SetupDifferences(base, neu, common);
  for (const std::string& t : common) {
    const TaskRun& a = base.tasks.at(t);
    const TaskRun& b = neu.tasks.at(t);
    TaskComparison tc;
    tc.task = t;
    DocPass p = CompareDocs(a, b, options, tc);
    if (p.only_base > 0 || p.only_new > 0) {
      diffs.push_back("tasks." + t + ": " + std::to_string(p.only_base) + " document(s) only in BASE, " +
                      std::to_string(p.only_new) + " only in NEW");
    }
    tc.n_choices = static_cast<int64_t>(p.abs_drift.size());
    std::sort(p.abs_drift.begin(), p.abs_drift.end());
    tc.max_abs_drift = p.abs_drift.empty() ? 0 : p.abs_drift.back();
    tc.p99_abs_drift = SortedPercentile(p.abs_drift, 0.99);
    std::stable_sort(p.per_doc_worst.begin(), p.per_doc_worst.end(), [](const DriftEntry& x, const DriftEntry& y) {
      return std::fabs(x.delta) > std::fabs(y.delta);
    });
    for (const DriftEntry& w : p.per_doc_worst) {
      if (static_cast<int>(tc.worst.size()) >= options.n_worst) break;
      tc.worst.push_back(w);
    }
    // Metrics in results.json order; the McNemar counts come from the per-doc metrics.
    for (const auto& [m, vb] : a.metrics) {
      auto f = b.metrics.find(m);
      if (f == b.metrics.end()) continue;
      MetricComparison mc;
      mc.name = m;
      mc.base = vb;
      mc.neu = f->second;
      mc.diff = mc.neu - mc.base;
      const auto dc = p.discordant.count(m) ? p.discordant.at(m) : std::make_pair(int64_t{0}, int64_t{0});
      mc.mcnemar = ExactMcNemar(dc.first, dc.second);
      mc.significant = mc.mcnemar.p_value < options.alpha;
      if (mc.significant) {
        tc.reasons.push_back(m + " changed: McNemar p = " + FormatP(mc.mcnemar.p_value) + " < alpha " +
                             Sci(options.alpha));
      }
      tc.metrics.push_back(mc);
    }
    if (tc.max_abs_drift > options.max_logprob_drift) {
      tc.reasons.push_back("log-likelihood drift " + Sci(tc.max_abs_drift) + " > " + Sci(options.max_logprob_drift) +
                           " (" + std::to_string(tc.n_over_drift) + " choice(s))");
    }
    if (!tc.reasons.empty()) report.failed = true;
    report.tasks.push_back(std::move(tc));
  }
  if (!diffs.empty() && !options.force) {
    std::string msg = "BASE (" + base.results_path + ") and NEW are not the same experiment:";
    for (const std::string& d : diffs) msg += "\n  " + d;
    msg += "\ncompare runs of the same setup, or pass --force to compare anyway";
    throw Error(ErrorKind::kFormat, neu.results_path, "setup", msg);
  }
  report.mismatches = diffs;
  return report;
}

namespace {

std::string DocName(const std::string& task, const DocRef& r) {
  return (r.subtask == task ? task : task + "/" + r.subtask) + " doc " + std::to_string(r.doc_index);
}

std::string Verdict(const EvalCompareReport& r) { return r.failed ? "FAIL" : "PASS"; }

std::string Signed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.*f", decimals, v);
  return buf;
}

std::string Truncate(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

}  // namespace

std::string RenderEvalCompareMarkdown(const EvalCompareReport& r) {
  std::string out = "# Eval comparison: " + Verdict(r) + "\n\n";
  out += "BASE " + r.base_results + "\nNEW  " + r.new_results + "\n\n";
  out += "McNemar alpha " + Sci(r.options.alpha) + ", max log-likelihood drift " + Sci(r.options.max_logprob_drift) + "\n\n";
  for (const std::string& m : r.mismatches) out += "- setup difference (--force): " + m + "\n";
  for (const std::string& w : r.warnings) out += "- warning: " + w + "\n";
  if (!r.mismatches.empty() || !r.warnings.empty()) out += "\n";
  std::vector<std::vector<std::string>> rows;
  for (const TaskComparison& t : r.tasks) {
    for (const MetricComparison& m : t.metrics) {
      rows.push_back({t.task, m.name, Fixed(m.base, 4), Fixed(m.neu, 4), Signed(m.diff, 4),
                      std::to_string(m.mcnemar.base_only), std::to_string(m.mcnemar.new_only),
                      FormatP(m.mcnemar.p_value), m.significant ? "CHANGED" : "same"});
    }
  }
  out += MarkdownTable({"task", "metric", "base", "new", "Δ", "base only ✓", "new only ✓", "McNemar p", "verdict"}, rows);
  out += "\n";
  rows.clear();
  for (const TaskComparison& t : r.tasks) {
    rows.push_back({t.task, std::to_string(t.n_docs), std::to_string(t.flipped.size()), std::to_string(t.n_choices),
                    Sci(t.max_abs_drift), Sci(t.p99_abs_drift), std::to_string(t.n_over_drift),
                    t.reasons.empty() ? "ok" : "FAIL"});
  }
  out += MarkdownTable({"task", "docs", "flipped", "choices", "max |Δ logprob|", "p99 |Δ|", "over limit", "verdict"}, rows);
  for (const TaskComparison& t : r.tasks) {
    if (t.flipped.empty() && t.worst.empty() && t.reasons.empty()) continue;
    out += "\n## " + t.task + "\n\n";
    for (const std::string& why : t.reasons) out += "- FAIL: " + why + "\n";
    for (const FlippedDoc& f : t.flipped) {
      out += "- flipped: " + DocName(t.task, f.doc) + ": prediction " + Truncate(f.base_prediction, 60) + " -> " +
             Truncate(f.new_prediction, 60) + "\n";
    }
    if (!t.worst.empty()) {
      std::vector<std::vector<std::string>> w;
      for (const DriftEntry& d : t.worst) {
        char b[64], n[64], dd[64];
        std::snprintf(b, sizeof b, "%.9g", d.base);
        std::snprintf(n, sizeof n, "%.9g", d.neu);
        std::snprintf(dd, sizeof dd, "%+.3g", d.delta);
        w.push_back({DocName(t.task, d.doc), std::to_string(d.choice), b, n, dd});
      }
      out += "\nlargest log-likelihood drift:\n\n" + MarkdownTable({"document", "choice", "base", "new", "Δ"}, w);
    }
  }
  out += "\nverdict: " + Verdict(r) + (r.failed ? " (exit 1)" : " (exit 0)") + "\n";
  return out;
}

std::string RenderEvalCompareJson(const EvalCompareReport& r) {
  JsonWriter w(true);
  w.BeginObject();
  w.Field("schema", kEvalCompareSchema);
  w.Field("verdict", Verdict(r));
  w.Field("base", r.base_results).Field("new", r.new_results);
  w.Key("options").BeginObject().Field("alpha", r.options.alpha)
      .Field("max_logprob_drift", r.options.max_logprob_drift).Field("force", r.options.force).EndObject();
  w.Key("mismatches").BeginArray();
  for (const auto& m : r.mismatches) w.String(m);
  w.EndArray();
  w.Key("warnings").BeginArray();
  for (const auto& m : r.warnings) w.String(m);
  w.EndArray();
  w.Key("tasks").BeginArray();
  for (const TaskComparison& t : r.tasks) {
    w.BeginObject();
    w.Field("task", t.task).Field("n_docs", t.n_docs).Field("verdict", t.reasons.empty() ? "ok" : "FAIL");
    w.Key("reasons").BeginArray();
    for (const auto& s : t.reasons) w.String(s);
    w.EndArray();
    w.Key("metrics").BeginArray();
    for (const MetricComparison& m : t.metrics) {
      w.BeginObject().Field("name", m.name).Field("base", m.base).Field("new", m.neu).Field("diff", m.diff);
      w.Field("base_only_correct", m.mcnemar.base_only).Field("new_only_correct", m.mcnemar.new_only);
      w.Field("mcnemar_p", m.mcnemar.p_value).Field("significant", m.significant).EndObject();
    }
    w.EndArray();
    w.Field("n_flipped", static_cast<int64_t>(t.flipped.size()));
    w.Key("flipped").BeginArray();
    for (const FlippedDoc& f : t.flipped) {
      w.BeginObject().Field("subtask", f.doc.subtask).Field("doc_index", f.doc.doc_index)
          .Field("base_prediction", f.base_prediction).Field("new_prediction", f.new_prediction).EndObject();
    }
    w.EndArray();
    w.Key("logprob_drift").BeginObject().Field("n_choices", t.n_choices).Field("max_abs", t.max_abs_drift)
        .Field("p99_abs", t.p99_abs_drift).Field("n_over_limit", t.n_over_drift);
    w.Key("worst").BeginArray();
    for (const DriftEntry& d : t.worst) {
      w.BeginObject().Field("subtask", d.doc.subtask).Field("doc_index", d.doc.doc_index).Field("choice", d.choice)
          .Field("base", d.base).Field("new", d.neu).Field("delta", d.delta).EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take() + "\n";
}

namespace {

// Scatter of (base, new) per choice with the y = x line; points off by more than `limit` in red.
// At most kMaxPoints points are drawn (evenly strided, plus every point beyond the limit) so a
// full HellaSwag run stays a reasonable file.
std::string SvgScatter(const std::string& title, const std::vector<std::pair<double, double>>& pts, double limit) {
  constexpr size_t kMaxPoints = 4000;
  const double W = 440, H = 420, L = 60, R = 35, T = 30, B = 45;
  double lo = 0, hi = 0;
  bool first = true;
  for (const auto& [x, y] : pts) {
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    if (first) {
      lo = std::min(x, y);
      hi = std::max(x, y);
      first = false;
    }
    lo = std::min({lo, x, y});
    hi = std::max({hi, x, y});
  }
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const double pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad;
  auto sx = [&](double v) { return L + (v - lo) / (hi - lo) * (W - L - R); };
  auto sy = [&](double v) { return H - B - (v - lo) / (hi - lo) * (H - T - B); };
  char buf[256];
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Fixed(W, 0) + "\" height=\"" + Fixed(H, 0) +
                  "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">\n";
  s += "<rect x=\"0\" y=\"0\" width=\"" + Fixed(W, 0) + "\" height=\"" + Fixed(H, 0) + "\" fill=\"#fff\"/>\n";
  s += "<text x=\"" + Fixed(W / 2, 0) + "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">" + HtmlEscape(title) + "</text>\n";
  std::snprintf(buf, sizeof buf, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n",
                L, T, W - L - R, H - T - B);
  s += buf;
  std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n",
                sx(lo), sy(lo), sx(hi), sy(hi));
  s += buf;
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4;
    std::snprintf(buf, sizeof buf,
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.4g</text>\n"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n",
                  sx(v), H - B + 14, v, L - 4, sy(v) + 4, v);
    s += buf;
  }
  s += "<text x=\"" + Fixed((L + W - R) / 2, 0) + "\" y=\"" + Fixed(H - 8, 0) +
       "\" text-anchor=\"middle\">BASE log-likelihood per choice</text>\n";
  s += "<text x=\"14\" y=\"" + Fixed((T + H - B) / 2, 0) + "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " +
       Fixed((T + H - B) / 2, 0) + ")\">NEW log-likelihood</text>\n";
  const size_t stride = pts.size() > kMaxPoints ? (pts.size() + kMaxPoints - 1) / kMaxPoints : 1;
  // Two passes: the points within the limit first, then the red ones on top of them.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < pts.size(); ++i) {
      const auto& [x, y] = pts[i];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      const bool off = std::fabs(y - x) > limit;
      if (off != (pass == 1) || (!off && i % stride != 0)) continue;
      std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\" fill-opacity=\"0.7\"/>\n",
                    sx(x), sy(y), off ? "4" : "2.5", off ? "#d62728" : "#1f77b4");
      s += buf;
    }
  }
  s += "</svg>\n";
  return s;
}

}  // namespace

std::string RenderEvalCompareHtml(const EvalCompareReport& r) {
  std::string body = "<p>BASE " + HtmlEscape(r.base_results) + "<br>NEW " + HtmlEscape(r.new_results) +
                     "<br>McNemar alpha " + HtmlEscape(Sci(r.options.alpha)) + ", max log-likelihood drift " +
                     HtmlEscape(Sci(r.options.max_logprob_drift)) + "</p>\n";
  body += std::string("<p><b>verdict: ") + (r.failed ? "FAIL (exit 1)" : "PASS (exit 0)") + "</b></p>\n";
  if (!r.mismatches.empty() || !r.warnings.empty()) {
    body += "<ul>\n";
    for (const auto& m : r.mismatches) body += "<li>setup difference (--force): " + HtmlEscape(m) + "</li>\n";
    for (const auto& m : r.warnings) body += "<li>warning: " + HtmlEscape(m) + "</li>\n";
    body += "</ul>\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const TaskComparison& t : r.tasks) {
    for (const MetricComparison& m : t.metrics) {
      rows.push_back({t.task, m.name, Fixed(m.base, 4), Fixed(m.neu, 4), Signed(m.diff, 4),
                      std::to_string(m.mcnemar.base_only), std::to_string(m.mcnemar.new_only),
                      FormatP(m.mcnemar.p_value), m.significant ? "!CHANGED" : "same"});
    }
  }
  body += "<h2>Metrics</h2>\n" +
          HtmlTable({"task", "metric", "base", "new", "Δ", "base only ✓", "new only ✓", "McNemar p", "verdict"}, rows);
  rows.clear();
  for (const TaskComparison& t : r.tasks) {
    rows.push_back({t.task, std::to_string(t.n_docs), std::to_string(t.flipped.size()), std::to_string(t.n_choices),
                    Sci(t.max_abs_drift), Sci(t.p99_abs_drift), std::to_string(t.n_over_drift),
                    t.reasons.empty() ? "ok" : "!FAIL"});
  }
  body += "<h2>Predictions and log-likelihood drift</h2>\n" +
          HtmlTable({"task", "docs", "flipped", "choices", "max |Δ|", "p99 |Δ|", "over limit", "verdict"}, rows);
  for (const TaskComparison& t : r.tasks) {
    body += "<h2>" + HtmlEscape(t.task) + "</h2>\n";
    if (!t.reasons.empty() || !t.flipped.empty()) {
      body += "<ul>\n";
      for (const auto& why : t.reasons) body += "<li>FAIL: " + HtmlEscape(why) + "</li>\n";
      for (const FlippedDoc& f : t.flipped) {
        body += "<li>flipped: " + HtmlEscape(DocName(t.task, f.doc)) + ": prediction " +
                HtmlEscape(Truncate(f.base_prediction, 60)) + " &rarr; " + HtmlEscape(Truncate(f.new_prediction, 60)) +
                "</li>\n";
      }
      body += "</ul>\n";
    }
    if (!t.scatter.empty()) body += SvgScatter(t.task + ": NEW vs BASE per choice", t.scatter, r.options.max_logprob_drift);
  }
  return HtmlPage("doge eval comparison", body);
}

}  // namespace doge::reports
