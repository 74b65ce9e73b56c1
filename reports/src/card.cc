#include "reports/src/card.h"
#include "reports/src/lighteval_results.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "engine/base/error.h"
#include "engine/base/json_writer.h"
#include "reports/src/bench_rows.h"
#include "reports/src/json_read.h"
#include "reports/src/render.h"

namespace doge::reports {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Basename(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// How a card column is computed from our tasks.
struct ColumnSpec {
  const char* name;                 // "ARC"
  std::vector<const char*> tasks;   // averaged, unweighted, before rounding
  const char* metric;               // nullptr: depends on the protocol (MMLU)
};

const std::vector<ColumnSpec>& ColumnSpecs() {
  static const std::vector<ColumnSpec> specs = {
      {"MMLU", {"mmlu"}, nullptr},
      {"TriviaQA", {"triviaqa"}, "qem"},
      {"ARC", {"arc_easy", "arc_challenge"}, "acc_norm"},
      {"PIQA", {"piqa"}, "acc_norm"},
      {"HellaSwag", {"hellaswag"}, "acc_norm"},
      {"OBQA", {"openbookqa"}, "acc_norm"},
      {"Winogrande", {"winogrande"}, "acc"},
  };
  return specs;
}

// MMLU's card metric depends on the protocol that produced the row (eval-protocol.md §3.1):
// protocol A scores single letter tokens (acc), protocol B scores cloze answers (acc_norm).
std::string MetricFor(const ColumnSpec& spec, const EvalResults& r, const TaskResult& t) {
  if (spec.metric) return spec.metric;
  if (t.protocol == "card-a") return "acc";
  if (t.protocol == "card-b") return "acc_norm";
  throw Error(ErrorKind::kFormat, r.file, "tasks." + t.name + ".protocol",
              "unknown protocol '" + t.protocol +
                  "' for the MMLU column (expected card-a: acc, or card-b: acc_norm)");
}

std::string TaskNote(const TaskResult& t, const std::string& metric) {
  std::string s = t.name + " (" + t.protocol + ", k=" + std::to_string(t.k) + ", " + metric +
                  ", " + t.split + " split";
  if (t.aggregation == "macro" || t.aggregation == "micro") {
    s += ", " + t.aggregation + " over " + std::to_string(t.n_subtasks) + " subtasks";
  }
  return s + ", n=" + std::to_string(t.n) + ")";
}

int DecimalsOf(const std::string& printed) {
  size_t dot = printed.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(printed.size() - dot - 1);
}

std::string Dash() { return "\xE2\x80\x94"; }  // "—"

}  // namespace

const std::vector<std::string>& CardColumns() {
  static const std::vector<std::string> cols = [] {
    std::vector<std::string> c;
    for (const auto& s : ColumnSpecs()) c.push_back(s.name);
    return c;
  }();
  return cols;
}

std::string FormatCardPercent(const std::string& column, const Decimal& percent) {
  std::string one = percent.Format(1);
  if (column == "TriviaQA" && one == "0.0") return percent.Format(2);
  return one;
}

EvalResults LoadEvalResults(const std::string& path) {
  auto doc = LoadJsonFile(path);
  JsonNode root = doc->root();
  if (!root.IsObject()) root.Fail("expected a results.json object, found " + root.TypeName());
  if (IsLightevalResults(root)) return LightevalToEvalResults(path, root);  // a lighteval run's row
  CheckSchema(root.Get("schema"), kResultsSchema);
  EvalResults r;
  r.file = path;
  r.fingerprint = ParseFingerprint(root.Get("fingerprint"));
  r.git_revision = root.GetString("git_revision");
  r.created = root.GetString("created");
  JsonNode model = root.Get("model");
  r.model_path = model.GetString("path");
  r.model_name = model.GetString("name");
  if (r.model_name.empty()) model.Get("name").Fail("empty model name");
  r.n_params = model.Get("n_params").IntIn(1, int64_t{1} << 50, "a parameter count");
  if (auto sha = model.Find("sha256")) {
    if (auto w = sha->Find("model.safetensors")) r.weights_sha256 = w->String();
  }
  r.protocol = root.GetString("protocol");
  r.threads = root.Get("threads").IntIn(1, 1 << 20, "a thread count");
  if (auto limit = root.Find("limit"); limit && !limit->IsNull()) r.limit = limit->IntIn(0, int64_t{1} << 50, "a document limit");
  for (const auto& [name, t] : root.Get("tasks").Members()) {
    TaskResult task;
    task.name = name;
    task.protocol = t.GetString("protocol");
    task.version = t.Get("version").IntIn(0, 1 << 20, "a task version");
    task.k = t.Get("k").IntIn(0, 1 << 20, "a few-shot count");
    task.split = t.GetString("split");
    task.aggregation = t.GetString("aggregation");
    task.n = t.Get("n").IntIn(0, int64_t{1} << 50, "a document count");
    if (auto subtasks = t.Find("subtasks")) {
      task.n_subtasks = static_cast<int64_t>(subtasks->Members().size());
    }
    for (const auto& [metric, v] : t.Get("metrics").Members()) {
      double x = v.Number();
      if (!(x >= 0 && x <= 1)) v.Fail("expected a fraction in [0, 1], found " + std::to_string(x));
      task.metrics[metric] = x;
    }
    for (const auto& [metric, v] : t.Get("stderr").Members()) {
      // JsonWriter writes NaN as null: a standard error that could not be estimated (n = 1).
      if (v.IsNull()) {
        task.stderrs[metric] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      double x = v.Number();
      if (!(x >= 0 && x <= 1)) {
        v.Fail("expected a standard error in [0, 1], found " + std::to_string(x));
      }
      task.stderrs[metric] = x;
    }
    r.tasks[name] = std::move(task);
  }
  return r;
}

PublishedCard LoadPublishedCard(const std::string& path) {
  std::unique_ptr<JsonDocument> doc =
      path.empty() ? ParseJsonText("<built-in reports/published/doge-model-card.json>",
                                   BuiltinPublishedCardJson())
                   : LoadJsonFile(path);
  JsonNode root = doc->root();
  CheckSchema(root.Get("schema"), kPublishedCardSchema);
  PublishedCard card;
  card.file = doc->origin.file;
  JsonNode source = root.Get("source");
  card.source_url = source.GetString("url");
  card.source_commit = source.GetString("commit");
  card.source_date = source.GetString("date");
  card.tokens_per_s_cpu = root.GetString("tokens_per_s_cpu");
  std::set<std::string> names;
  for (const JsonNode& r : root.Get("rows").Items()) {
    PublishedRow row;
    row.model = r.GetString("model");
    if (!names.insert(Lower(row.model)).second) r.Get("model").Fail("duplicate row " + row.model);
    row.protocol = r.GetString("protocol");
    row.protocol_note = r.GetString("protocol_note");
    JsonNode values = r.Get("values");
    for (const std::string& col : CardColumns()) {
      JsonNode v = values.Get(col);
      std::string text = v.String();
      try {
        Decimal::Parse(text);
      } catch (const Error&) {
        v.Fail("expected a number as printed on the card (\"25.4\"), found '" + text + "'");
      }
      row.values[col] = text;
    }
    if (auto t = r.Find("tokens_per_s")) row.tokens_per_s = t->String();
    card.rows.push_back(std::move(row));
  }
  return card;
}

namespace {

// --published-row: "ROW" for a single model, or "MODEL=ROW".
struct RowOverrides {
  std::map<std::string, std::string> by_model;  // lower(model) -> row name
  std::string single;                           // "ROW" given without MODEL=
};

RowOverrides ParseRowOverrides(const CardOptions& options) {
  RowOverrides o;
  for (const std::string& spec : options.published_rows) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      if (options.results_files.size() != 1) {
        throw Error(ErrorKind::kUsage, "", "--published-row",
                    "'" + spec + "' without MODEL= needs exactly one results file; use "
                    "MODEL=ROW with several");
      }
      o.single = spec;
    } else {
      o.by_model[Lower(spec.substr(0, eq))] = spec.substr(eq + 1);
    }
  }
  return o;
}

const PublishedRow* FindPublishedRow(const PublishedCard& published, const std::string& name) {
  for (const auto& row : published.rows) {
    if (Lower(row.model) == Lower(name)) return &row;
  }
  return nullptr;
}

// One results.json per model: the same name or the same weights twice is an error naming both.
class ModelsSeen {
 public:
  void Add(const std::string& file, const EvalResults& r) {
    const std::string key = Lower(r.model_name);
    if (auto it = name_.find(key); it != name_.end()) {
      throw Error(ErrorKind::kFormat, file, "model.name",
                  "model '" + r.model_name + "' is already in this card (from " + it->second +
                      "); one results.json per model");
    }
    name_[key] = file;
    if (!r.weights_sha256.empty()) {
      if (auto it = sha_.find(r.weights_sha256); it != sha_.end()) {
        throw Error(ErrorKind::kFormat, file, "model.sha256.model.safetensors",
                    "same weights as " + it->second + " under another name; one results.json per model");
      }
      sha_[r.weights_sha256] = file;
    }
  }

 private:
  std::map<std::string, std::string> name_;  // lower(name) -> file
  std::map<std::string, std::string> sha_;   // weights sha -> file
};

// The published row a results file is compared with: the override, else the one named like the
// model (folder name); none is fine. `matched` records which MODEL=ROW overrides were used.
std::optional<PublishedRow> ChoosePublishedRow(const PublishedCard& published, const RowOverrides& overrides,
                                               const EvalResults& r, std::set<std::string>& matched) {
  const std::string key = Lower(r.model_name);
  std::string want;
  if (!overrides.single.empty()) {
    want = overrides.single;
  } else if (auto it = overrides.by_model.find(key); it != overrides.by_model.end()) {
    want = it->second;
    matched.insert(key);
  }
  if (!want.empty()) {
    const PublishedRow* p = FindPublishedRow(published, want);
    if (!p) {
      std::vector<std::string> row_names;
      for (const auto& row : published.rows) row_names.push_back(row.model);
      throw Error(ErrorKind::kUsage, "", "--published-row", UnknownNameMessage("published row", want, row_names));
    }
    return *p;
  }
  if (const PublishedRow* p = FindPublishedRow(published, r.model_name)) return *p;
  return std::nullopt;
}

// One column of one model's row. A column whose tasks are missing is an error naming them, or
// with allow_missing an empty cell and a warning.
CardCell BuildCardCell(const ColumnSpec& spec, const std::string& file, const EvalResults& r,
                       const std::optional<PublishedRow>& published, bool allow_missing,
                       std::vector<std::string>& warnings) {
  CardCell cell;
  std::vector<const TaskResult*> tasks;
  std::vector<std::string> missing;
  for (const char* t : spec.tasks) {
    auto it = r.tasks.find(t);
    if (it == r.tasks.end()) {
      missing.push_back(t);
    } else {
      tasks.push_back(&it->second);
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    std::string msg = "task " + list + " missing (needed for the " + spec.name + " column)";
    if (!allow_missing) {
      throw Error(ErrorKind::kFormat, file, "tasks",
                  msg + "; run doge eval with all card tasks, or pass --allow-missing to print \xE2\x80\x94");
    }
    warnings.push_back(r.model_name + ": " + msg + "; shown as \xE2\x80\x94");
    return cell;
  }
  // Value: unweighted mean of the tasks' metric, in exact decimal (ARC = (E + C) / 2 before
  // rounding). se of that mean for independent tasks: sqrt(sum se_i^2) / n_tasks.
  Decimal sum;
  double var = 0;
  std::string note;
  for (const TaskResult* t : tasks) {
    std::string metric = MetricFor(spec, r, *t);
    auto m = t->metrics.find(metric);
    if (m == t->metrics.end()) {
      throw Error(ErrorKind::kFormat, file, "tasks." + t->name + ".metrics." + metric,
                  "missing (the " + std::string(spec.name) + " column reports " + metric + ")");
    }
    auto se = t->stderrs.find(metric);
    if (se == t->stderrs.end()) {
      throw Error(ErrorKind::kFormat, file, "tasks." + t->name + ".stderr." + metric,
                  "missing (needed for the delta test of the " + std::string(spec.name) + " column)");
    }
    sum = sum + Decimal::FromDouble(m->second);
    var += se->second * se->second;
    note += (note.empty() ? "" : " + ") + TaskNote(*t, metric);
  }
  const int n_tasks = static_cast<int>(tasks.size());
  if (n_tasks > 1) note += ", unweighted mean before rounding";
  cell.present = true;
  cell.ours = sum.DividedBy(n_tasks).Times100();
  cell.ours_se = 100.0 * std::sqrt(var) / n_tasks;
  cell.ours_text = FormatCardPercent(spec.name, cell.ours);
  cell.note = note;
  if (published) {
    cell.published_text = published->values.at(spec.name);
    cell.has_delta = true;
    cell.delta = cell.ours - Decimal::Parse(cell.published_text);
    cell.delta_decimals = std::max(1, DecimalsOf(cell.published_text));
    // Flag a difference beyond two standard errors of our estimate. The published value
    // is itself rounded (+-0.05), which this test does not absorb: see the legend.
    // An unknown se (NaN) never flags. A zero se (TriviaQA's 0 of N: every document scored
    // the same) would flag any difference at all: no test then, and the cell says so.
    cell.test_na = cell.ours_se == 0.0;
    cell.flagged = !cell.test_na && std::fabs(cell.delta.ToDouble()) > 2.0 * cell.ours_se;
  }
  return cell;
}

// tokens/s: tg rows of this model (by model_type or folder name, else by parameter count), at the
// largest thread count.
void AttachTokensPerSecond(const std::vector<BenchRow>& bench, CardRow& row) {
  const EvalResults& r = row.results;
  const std::string key = Lower(r.model_name);
  const BenchRow* best = nullptr;
  for (const BenchRow& b : bench) {
    if (b.test.rfind("tg", 0) != 0) continue;
    bool same = Lower(b.model_type) == key || Lower(Basename(b.model)) == key ||
                (b.n_params > 0 && b.n_params == r.n_params);
    if (!same) continue;
    if (best && b.n_threads == best->n_threads && b.test == best->test) {
      throw Error(ErrorKind::kFormat, b.file, "[" + std::to_string(b.index) + "]",
                  "second " + b.test + " row for " + r.model_name + " at " + std::to_string(b.n_threads) +
                      " threads (first in " + best->file + "[" + std::to_string(best->index) +
                      "]); pass one bench run per model");
    }
    // Prefer tg128 (the card's decode test) over other tg lengths, then more threads.
    auto rank = [](const BenchRow& x) { return std::make_pair(x.test == "tg128", x.n_threads); };
    if (!best || rank(b) > rank(*best)) best = &b;
  }
  if (best) {
    row.has_tokens_per_s = true;
    row.tokens_per_s = best->avg;
    row.tokens_per_s_note =
        best->test + ", threads " + std::to_string(best->n_threads) + ", " + best->fingerprint.cpu_model;
  }
}

}  // namespace

ModelCard BuildModelCard(const CardOptions& options) {
  if (options.results_files.empty()) {
    throw Error(ErrorKind::kUsage, "", "RESULTS", "give at least one results.json");
  }
  ModelCard card;
  card.published = LoadPublishedCard(options.published_file);
  const RowOverrides overrides = ParseRowOverrides(options);
  // Bench rows for the tokens/s column.
  std::vector<BenchRow> bench;
  for (const std::string& f : options.bench_files) {
    std::vector<BenchRow> rows = LoadBenchRows(f, kBenchE2eSchema);
    bench.insert(bench.end(), rows.begin(), rows.end());
  }
  ModelsSeen seen;
  std::set<std::string> matched_overrides;
  for (const std::string& file : options.results_files) {
    CardRow row;
    row.results = LoadEvalResults(file);
    const EvalResults& r = row.results;
    seen.Add(file, r);
    row.published = ChoosePublishedRow(card.published, overrides, r, matched_overrides);
    if (r.limit) {
      card.warnings.push_back(r.model_name + ": results were run with limit " + std::to_string(*r.limit) +
                              " documents per task; not comparable to the card");
    }
    for (const ColumnSpec& spec : ColumnSpecs()) {
      row.cells.push_back(BuildCardCell(spec, file, r, row.published, options.allow_missing, card.warnings));
    }
    // The run's protocol (results.json "protocol") against the one that made the card row.
    if (row.published && r.protocol != row.published->protocol) {
      card.warnings.push_back(r.model_name + ": ran protocol " + r.protocol + ", but the card's " +
                              row.published->model + " row was produced by " + row.published->protocol +
                              "; deltas compare different protocols");
    }
    AttachTokensPerSecond(bench, row);
    card.rows.push_back(std::move(row));
  }
  for (const auto& [model, target] : overrides.by_model) {
    if (!matched_overrides.count(model)) {
      throw Error(ErrorKind::kUsage, "", "--published-row",
                  "no results for model '" + model + "' (given as " + model + "=" + target + ")");
    }
  }
  return card;
}

namespace {

std::vector<std::string> CardHeader() {
  std::vector<std::string> h = {"Model", ""};
  for (const auto& c : CardColumns()) h.push_back(c);
  h.push_back("tokens/s");
  return h;
}

std::string FormatTokensPerS(double v) { return Decimal::FromDouble(v).Format(0); }

std::string SeText(const CardCell& c) {
  return std::isfinite(c.ours_se) ? Decimal::FromDouble(c.ours_se).Format(c.delta_decimals)
                                  : std::string("n/a");
}

std::string DeltaText(const CardCell& c) {
  return c.delta.Format(c.delta_decimals, /*plus_sign=*/true) + " \xC2\xB1 " + SeText(c);
}

// Rows of the table; flagged delta cells end in a warning sign and, for HTML, start with "!"
// (HtmlTable shades them).
std::vector<std::vector<std::string>> CardTableRows(const ModelCard& card, bool markdown) {
  std::vector<std::vector<std::string>> rows;
  for (const CardRow& row : card.rows) {
    std::vector<std::string> ours = {row.results.model_name, "ours"};
    for (const CardCell& c : row.cells) ours.push_back(c.present ? c.ours_text : Dash());
    ours.push_back(row.has_tokens_per_s ? FormatTokensPerS(row.tokens_per_s) : Dash());
    rows.push_back(ours);
    if (!row.published) continue;
    std::vector<std::string> pub = {"", "card"};
    for (const auto& col : CardColumns()) pub.push_back(row.published->values.at(col));
    pub.push_back(row.published->tokens_per_s.empty() ? Dash() : row.published->tokens_per_s);
    rows.push_back(pub);
    std::vector<std::string> delta = {"", "\xCE\x94 \xC2\xB1 se"};
    for (const CardCell& c : row.cells) {
      if (!c.present || !c.has_delta) {
        delta.push_back(Dash());
      } else if (c.test_na) {
        delta.push_back(DeltaText(c) + " (test n/a: se 0)");
      } else if (c.flagged) {
        // The warning sign in both forms (the legend explains it); HTML also shades the cell.
        delta.push_back(std::string(markdown ? "" : "!") + DeltaText(c) + " \xE2\x9A\xA0");
      } else {
        delta.push_back(DeltaText(c));
      }
    }
    delta.push_back(Dash());  // tokens/s: different CPUs, no delta
    rows.push_back(delta);
  }
  return rows;
}

// Per column: the distinct task notes, each with the models it applies to.
std::vector<std::pair<std::string, std::string>> ColumnNotes(const ModelCard& card) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t ci = 0; ci < CardColumns().size(); ++ci) {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (const CardRow& row : card.rows) {
      const CardCell& c = row.cells[ci];
      if (!c.present) continue;
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.first == c.note; });
      if (it == groups.end()) {
        groups.push_back({c.note, {row.results.model_name}});
      } else {
        it->second.push_back(row.results.model_name);
      }
    }
    std::string text;
    for (const auto& [note, models] : groups) {
      std::string who;
      for (const auto& m : models) who += (who.empty() ? "" : ", ") + m;
      text += (text.empty() ? "" : "; ") + who + ": " + note;
    }
    out.push_back({CardColumns()[ci], text.empty() ? "no results" : text});
  }
  return out;
}

std::string TokensNote(const ModelCard& card) {
  std::string s = "tokens/s: ours = `doge bench e2e` decode (tg128 preferred) at the largest "
                  "thread count measured";
  std::string per;
  for (const CardRow& row : card.rows) {
    if (row.has_tokens_per_s) {
      per += (per.empty() ? "" : "; ") + row.results.model_name + ": " + row.tokens_per_s_note;
    }
  }
  s += per.empty() ? " (no --bench file given)" : " (" + per + ")";
  return s + "; card = " + card.published.tokens_per_s_cpu + ", not comparable across CPUs.";
}

std::vector<std::string> RunLines(const ModelCard& card) {
  std::vector<std::string> out;
  for (const CardRow& row : card.rows) {
    const EvalResults& r = row.results;
    std::string s = r.model_name + ": " + r.file + " (git " + r.git_revision + ", " + r.created +
                    ", protocol " + r.protocol + ", threads " + std::to_string(r.threads) +
                    ", " + r.fingerprint.cpu_model + ")";
    if (row.published) {
      s += "; card row " + row.published->model + " (" + row.published->protocol_note + ")";
    } else {
      s += "; no published row";
    }
    out.push_back(s);
  }
  return out;
}

std::vector<std::string> FlagLines(const ModelCard& card) {
  std::vector<std::string> out;
  for (const CardRow& row : card.rows) {
    for (size_t ci = 0; ci < row.cells.size(); ++ci) {
      const CardCell& c = row.cells[ci];
      if (!c.flagged) continue;
      out.push_back(row.results.model_name + " " + CardColumns()[ci] + ": ours " + c.ours_text +
                    ", card " + c.published_text + ", \xCE\x94 " +
                    c.delta.Format(c.delta_decimals, true) + ", se " + SeText(c) +
                    " (|\xCE\x94| > 2 se)");
    }
  }
  return out;
}

const char kRoundingNote[] =
    "Rounding as the card: percent, half-up, one decimal, in decimal arithmetic (0.2725 -> 27.3); "
    "TriviaQA keeps two decimals when one decimal would print 0.0. \xCE\x94 = ours (unrounded) "
    "\xE2\x88\x92 card (as printed), with as many decimals as the card value; se = standard "
    "error of our estimate (ARC: sqrt(se_E\xC2\xB2 + se_C\xC2\xB2) / 2); \xE2\x9A\xA0 marks "
    "|\xCE\x94| > 2 se; where se is 0 by construction (0 or all of N correct) the test is n/a. "
    "The card's own rounding (\xC2\xB1" "0.05) is not included in se. Charts: ours \xC2\xB1 se.";

}  // namespace

std::string RenderCardMarkdown(const ModelCard& card) {
  std::string out = "# Doge model card: our evaluation beside the published table\n\n";
  out += MarkdownTable(CardHeader(), CardTableRows(card, /*markdown=*/true));
  out += "\n" + std::string(kRoundingNote) + "\n";
  std::vector<std::string> flags = FlagLines(card);
  if (!flags.empty()) {
    out += "\n## Flagged cells\n\n";
    for (const auto& f : flags) out += "- " + f + "\n";
  }
  out += "\n## Columns\n\n";
  for (const auto& [col, note] : ColumnNotes(card)) out += "- " + col + ": " + note + "\n";
  out += "- " + TokensNote(card) + "\n";
  out += "\n## Runs\n\n";
  for (const auto& l : RunLines(card)) out += "- " + l + "\n";
  out += "- card: " + card.published.source_url + " (" + card.published.source_date + ")\n";
  if (!card.warnings.empty()) {
    out += "\n## Warnings\n\n";
    for (const auto& w : card.warnings) out += "- " + w + "\n";
  }
  return out;
}

std::string RenderCardJson(const ModelCard& card) {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Field("schema", std::string(kCardReportSchema));
  w.Key("fingerprint");
  WriteFingerprintJson(w, GetMachineFingerprint());
  w.Key("published").BeginObject();
  w.Field("file", card.published.file);
  w.Field("source_url", card.published.source_url);
  w.Field("source_commit", card.published.source_commit);
  w.Field("tokens_per_s_cpu", card.published.tokens_per_s_cpu);
  w.EndObject();
  w.Key("columns").BeginArray();
  for (const auto& c : CardColumns()) w.String(c);
  w.EndArray();
  w.Key("rows").BeginArray();
  for (const CardRow& row : card.rows) {
    w.BeginObject();
    w.Field("model", row.results.model_name);
    w.Field("results_file", row.results.file);
    w.Field("git_revision", row.results.git_revision);
    w.Field("protocol", row.results.protocol);
    w.Key("published_row");
    if (row.published) {
      w.String(row.published->model);
    } else {
      w.Null();
    }
    w.Key("cells").BeginObject();
    for (size_t ci = 0; ci < row.cells.size(); ++ci) {
      const CardCell& c = row.cells[ci];
      w.Key(CardColumns()[ci]).BeginObject();
      w.Field("present", c.present);
      if (c.present) {
        w.Field("ours_percent", c.ours.ToDouble());
        w.Field("ours_text", c.ours_text);
        w.Field("stderr_percent", c.ours_se);
        w.Field("note", c.note);
      }
      if (c.present && c.has_delta) {
        w.Field("card_text", c.published_text);
        w.Field("delta_percent", c.delta.ToDouble());
        w.Field("delta_text", c.delta.Format(c.delta_decimals, true));
        w.Field("flagged", c.flagged);
        w.Field("test", c.test_na ? "n/a (se 0)" : "|delta| > 2 se");
      }
      w.EndObject();
    }
    w.EndObject();
    w.Key("tokens_per_s");
    if (row.has_tokens_per_s) {
      w.BeginObject();
      w.Field("value", row.tokens_per_s);
      w.Field("note", row.tokens_per_s_note);
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("card_tokens_per_s");
    if (row.published && !row.published->tokens_per_s.empty()) {
      w.String(row.published->tokens_per_s);
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("warnings").BeginArray();
  for (const auto& s : card.warnings) w.String(s);
  w.EndArray();
  w.EndObject();
  return w.Take() + "\n";
}

std::string RenderCardHtml(const ModelCard& card) {
  std::string body = HtmlTable(CardHeader(), CardTableRows(card, /*markdown=*/false));
  body += "<p>" + HtmlEscape(kRoundingNote) + "</p>\n";
  for (const CardRow& row : card.rows) {
    std::vector<BarGroup> groups;
    for (size_t ci = 0; ci < row.cells.size(); ++ci) {
      BarGroup g;
      g.label = CardColumns()[ci];
      const CardCell& c = row.cells[ci];
      g.values.push_back(c.present ? std::optional<double>(c.ours.ToDouble()) : std::nullopt);
      g.texts.push_back(c.present ? c.ours_text : "");
      g.errors.push_back(c.present ? std::optional<double>(c.ours_se) : std::nullopt);
      if (row.published) {
        g.values.push_back(Decimal::Parse(row.published->values.at(g.label)).ToDouble());
        g.texts.push_back(row.published->values.at(g.label));
      }
      groups.push_back(g);
    }
    std::vector<std::string> series = {"ours"};
    if (row.published) series.push_back("card (" + row.published->model + ")");
    body += "<div class=\"chart\">\n" +
            SvgBarChart(row.results.model_name + ": accuracy per task", "percent", series,
                        groups, 1) +
            "</div>\n";
  }
  std::vector<std::string> flags = FlagLines(card);
  if (!flags.empty()) {
    body += "<h2>Flagged cells</h2>\n<ul>\n";
    for (const auto& f : flags) body += "<li>" + HtmlEscape(f) + "</li>\n";
    body += "</ul>\n";
  }
  body += "<h2>Columns</h2>\n<ul>\n";
  for (const auto& [col, note] : ColumnNotes(card)) {
    body += "<li>" + HtmlEscape(col + ": " + note) + "</li>\n";
  }
  body += "<li>" + HtmlEscape(TokensNote(card)) + "</li>\n</ul>\n<h2>Runs</h2>\n<ul>\n";
  for (const auto& l : RunLines(card)) body += "<li>" + HtmlEscape(l) + "</li>\n";
  body += "<li>card: " + HtmlEscape(card.published.source_url) + "</li>\n</ul>\n";
  if (!card.warnings.empty()) {
    body += "<h2>Warnings</h2>\n<ul>\n";
    for (const auto& w : card.warnings) body += "<li>" + HtmlEscape(w) + "</li>\n";
    body += "</ul>\n";
  }
  return HtmlPage("Doge model card: our evaluation beside the published table", body);
}

}  // namespace doge::reports
