// `doge eval merge SHARD_DIR... --out-dir DIR`: joins the folders of `doge eval --shard K/N` runs into
// the results.json and details/ one unsharded run writes. It checks that the shards belong to the
// same run (same identity: model and tokenizer hashes, protocol, limit; same tasks, k, versions
// and dataset hashes; same shard count) and cover every document exactly once, then recomputes
// every metric from the details lines with the evaluator's own code (ComputeDocMetrics,
// AggregateTask). Needs neither the model nor the data.
#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <simdjson.h>

#include "engine/base/error.h"
#include "engine/base/file_util.h"
#include "engine/base/json_read.h"
#include "engine/base/json_writer.h"
#include "tasks/cli/commands.h"
#include "tasks/cli/flags.h"
#include "tasks/cli/json_copy.h"
#include "tasks/cli/run_folder.h"
#include "tasks/eval_run.h"
#include "tasks/evaluator.h"
#include "tasks/requests.h"
#include "tasks/spec.h"

namespace doge::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kMergeHelp =
    "usage: doge eval merge SHARD_DIR... --out-dir DIR [--overwrite]\n\n"
    "Joins the --out-dir folders of `doge eval ... --shard K/N` (K = 0..N-1) into DIR/results.json and\n"
    "DIR/details/, the same a single `doge eval` run of that command writes (timing, host and\n"
    "throughput fields aside: the merged ones sum the shards' counts and rates and take the\n"
    "longest wall time; `merged_from` lists the shards). Refuses shards of different runs (model,\n"
    "tokenizer, protocol, k, limit, task versions, dataset hashes, shard count), a missing or\n"
    "repeated shard, and details that do not cover every document exactly once.\n\n"
    "example (Slurm job array, 4 shards):\n"
    "  sbatch --array=0-3 --wrap 'doge eval --model M --tasks card --shard $SLURM_ARRAY_TASK_ID/4 \\\n"
    "         --out-dir runs/shard-$SLURM_ARRAY_TASK_ID'\n"
    "  doge eval merge runs/shard-0 runs/shard-1 runs/shard-2 runs/shard-3 --out-dir runs/card\n";

// One shard folder, parsed.
struct Shard {
  std::string dir;
  std::string results_path;
  std::unique_ptr<JsonDocument> doc;  // owns `root`
  simdjson::dom::element root;
  int index = 0, count = 0;
  std::string run;  // the run identity without " shard=K/N"
};

std::string Raw(simdjson::dom::element e) { return simdjson::minify(e); }

double Number(simdjson::dom::element e) {
  double d = 0;
  if (e.is_int64()) return static_cast<double>(e.get_int64().value());
  if (!e.get_double().get(d)) return d;
  return 0;  // null (a NaN rate)
}

std::vector<std::string> Lines(const std::string& text, const std::string& path) {
  std::vector<std::string> v;
  size_t i = 0, j;
  while ((j = text.find('\n', i)) != std::string::npos) {
    v.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  if (i != text.size()) throw Error(ErrorKind::kFormat, path, "line " + std::to_string(v.size() + 1), "no final newline (torn write?)");
  return v;
}

// The per-task fields that record this run's throughput, not its results.
bool IsPerformanceField(std::string_view key) {
  return key == "docs_per_s" || key == "scored_tokens_per_s" || key == "docs_scored" || key == "wall_time_s" ||
         key == "prefix_cache";
}

void WriteSummary(JsonWriter& w, const std::map<std::string, tasks::MetricSummary>& m, bool stderr_part) {
  w.BeginObject();
  for (const auto& [k, v] : m) w.Field(k, stderr_part ? v.stderr : v.value);
  w.EndObject();
}

// The merged value of a per-task performance field over the shards: counts and rates add up (the
// shards run side by side), wall time is the longest shard's; an object (prefix cache statistics)
// adds its integer counters and recomputes hit_rate = tokens_reused / tokens_scored.
void WritePerformance(JsonWriter& w, std::string_view key, const std::vector<simdjson::dom::element>& values) {
  if (key == "wall_time_s") {
    double m = 0;
    for (auto v : values) m = std::max(m, Number(v));
    w.Double(m);
  } else if (key == "docs_scored") {
    int64_t sum = 0;
    for (auto v : values) sum += static_cast<int64_t>(Number(v));
    w.Int(sum);
  } else if (values[0].is_object()) {
    std::map<std::string, int64_t> ints;
    w.BeginObject();
    for (auto [k, v0] : values[0].get_object()) {
      if (v0.is_int64()) {
        int64_t sum = 0;
        for (auto v : values) {
          int64_t x = 0;
          if (!v[k].get_int64().get(x)) sum += x;
        }
        ints[std::string(k)] = sum;
        w.Field(k, sum);
      } else if (k == "hit_rate") {
        // Written after the counters it is computed from (they precede it in the evaluator's output).
        const double reused = static_cast<double>(ints["tokens_reused"]), scored = static_cast<double>(ints["tokens_scored"]);
        w.Field(k, scored > 0 ? reused / scored : 0.0);
      } else if (v0.is_number()) {
        double sum = 0;
        for (auto v : values) sum += v[k].error() ? 0.0 : Number(v[k].value());
        w.Field(k, sum);
      } else {
        w.Key(k);
        CopyJson(w, v0);
      }
    }
    w.EndObject();
  } else {
    double sum = 0;
    for (auto v : values) sum += Number(v);
    w.Double(sum);
  }
}

// Loads a finished shard folder's results.json and identifies the shard (index, count, run).
std::unique_ptr<Shard> LoadShard(const std::string& dir) {
  auto s = std::make_unique<Shard>();
  s->dir = dir;
  s->results_path = dir + "/results.json";
  if (!FileExists(s->results_path)) {
    throw Error(ErrorKind::kUsage, s->results_path, "", "not found: " + dir + " is not a finished shard folder");
  }
  // Through the JSON layer: a key given twice with different values is refused here too.
  s->doc = LoadJsonFile(s->results_path, ErrorKind::kFormat, "invalid JSON");
  s->root = s->doc->root_element;
  const std::optional<JsonNode> shard = s->doc->root().Find("shard");
  if (!shard) {
    throw Error(ErrorKind::kUsage, s->results_path, "shard",
                "missing: not a shard (was it written by doge eval --shard K/N?)");
  }
  const int64_t count = shard->Get("count").IntIn(1, std::numeric_limits<int32_t>::max(), "a shard count");
  const int64_t index = shard->Get("index").IntIn(0, count - 1, "a shard index below shard.count");
  const std::string run = shard->GetString("run");
  s->index = static_cast<int>(index);
  s->count = static_cast<int>(count);
  const std::string suffix = " shard=" + std::to_string(index) + "/" + std::to_string(count);
  s->run = run;
  if (s->run.size() < suffix.size() || s->run.compare(s->run.size() - suffix.size(), suffix.size(), suffix) != 0) {
    throw Error(ErrorKind::kFormat, s->results_path, "shard.run", "does not end with '" + suffix + "'");
  }
  s->run.resize(s->run.size() - suffix.size());
  return s;
}

// Same run: everything that decides the per-document results must agree with the first shard.
void CheckSameRun(const std::vector<std::unique_ptr<Shard>>& shards) {
  const Shard& ref = *shards[0];
  for (const auto& sp : shards) {
    const Shard& s = *sp;
    auto differ = [&](const std::string& field, const std::string& a, const std::string& b) {
      throw Error(ErrorKind::kUsage, s.results_path, field,
                  "belongs to another run than " + ref.results_path + ": " + b + " vs " + a);
    };
    if (s.count != ref.count) differ("shard.count", std::to_string(ref.count), std::to_string(s.count));
    if (s.run != ref.run) differ("shard.run", ref.run, s.run);
    for (const char* f : {"protocol", "limit", "model", "tokenizer"}) {
      simdjson::dom::element a, b;
      if (ref.root[f].get(a) || s.root[f].get(b)) throw Error(ErrorKind::kFormat, s.results_path, f, "missing");
      if (std::string(f) == "model" || std::string(f) == "tokenizer") {
        // The path may differ between hosts; the hashes may not.
        if (Raw(a["sha256"]) != Raw(b["sha256"])) differ(std::string(f) + ".sha256", Raw(a["sha256"]), Raw(b["sha256"]));
      } else if (Raw(a) != Raw(b)) {
        differ(f, Raw(a), Raw(b));
      }
    }
    simdjson::dom::object ta = ref.root["tasks"].get_object(), tb;
    if (s.root["tasks"].get_object().get(tb)) throw Error(ErrorKind::kFormat, s.results_path, "tasks", "missing");
    std::vector<std::string> na, nb;
    for (auto [k, v] : ta) na.emplace_back(k);
    for (auto [k, v] : tb) nb.emplace_back(k);
    if (na != nb) {
      std::string a, b;
      for (const auto& n : na) a += (a.empty() ? "" : ",") + n;
      for (const auto& n : nb) b += (b.empty() ? "" : ",") + n;
      differ("tasks", a, b);
    }
    for (const std::string& t : na) {
      for (const char* f : {"protocol", "version", "k", "split", "dataset_sha256"}) {
        if (Raw(ta[t][f]) != Raw(tb[t][f])) differ("tasks." + t + "." + f, Raw(ta[t][f]), Raw(tb[t][f]));
      }
      if (Raw(ref.root["shard"]["n_total"][t]) != Raw(s.root["shard"]["n_total"][t])) {
        differ("shard.n_total." + t, Raw(ref.root["shard"]["n_total"][t]), Raw(s.root["shard"]["n_total"][t]));
      }
    }
  }

}

// Exactly shards 0 .. N-1, each once: returns them by index.
std::vector<const Shard*> ShardsByIndex(const std::vector<std::unique_ptr<Shard>>& shards) {
  const int n_shards = shards[0]->count;
  std::vector<const Shard*> by_index(static_cast<size_t>(n_shards), nullptr);
  for (const auto& sp : shards) {
    const Shard*& slot = by_index[static_cast<size_t>(sp->index)];
    if (slot) {
      throw Error(ErrorKind::kUsage, sp->dir, "shard",
                  "shard " + std::to_string(sp->index) + "/" + std::to_string(n_shards) + " given twice: " + slot->dir +
                      " and " + sp->dir);
    }
    slot = sp.get();
  }
  std::string missing;
  for (int k = 0; k < n_shards; ++k) {
    if (!by_index[static_cast<size_t>(k)]) missing += (missing.empty() ? "" : ", ") + std::to_string(k) + "/" + std::to_string(n_shards);
  }
  if (!missing.empty()) {
    std::string given;
    for (const auto& sp : shards) given += " " + sp->dir + " (" + std::to_string(sp->index) + ")";
    throw Error(ErrorKind::kUsage, "", "SHARD_DIR", "missing shard(s) " + missing + "; given:" + given);
  }

  return by_index;
}

// One task of the merged run.
struct MergedTask {
  tasks::TaskResult result;
  std::string details;  // the details lines in dataset order
  std::string run;      // the .run file: the shards' run identity without the shard suffix
};

// Interleaves the shards' details of `task` back into dataset order (position p is line p / N of
// shard p % N), checks each line, and recomputes the metrics and aggregates.
MergedTask MergeTask(const std::string& task, simdjson::dom::element task_value, const Shard& ref,
                     const std::vector<const Shard*>& by_index, const std::string& protocol) {
  const int n_shards = static_cast<int>(by_index.size());
  MergedTask out;
  const tasks::TaskSpec& spec = tasks::FindTaskSpec(task, protocol);
  if (int64_t(task_value["version"]) != spec.version) {
    throw Error(ErrorKind::kUsage, ref.results_path, "tasks." + task + ".version",
                "written by a doge whose " + task + " is version " + std::to_string(int64_t(task_value["version"])) +
                    "; this doge has version " + std::to_string(spec.version));
  }
  const int64_t total = ref.root["shard"]["n_total"][task].get_int64().value();
  std::vector<std::vector<std::string>> lines(static_cast<size_t>(n_shards));
  std::vector<std::string> paths(static_cast<size_t>(n_shards));
  for (int k = 0; k < n_shards; ++k) {
    const Shard& s = *by_index[static_cast<size_t>(k)];
    paths[k] = s.dir + "/details/" + task + ".jsonl";
    if (!FileExists(paths[k])) throw Error(ErrorKind::kUsage, paths[k], "", "not found (shard incomplete?)");
    lines[k] = Lines(ReadFileToString(paths[k]), paths[k]);
    const int64_t want = total > k ? (total - k + n_shards - 1) / n_shards : 0;
    if (static_cast<int64_t>(lines[k].size()) != want) {
      throw Error(ErrorKind::kUsage, paths[k], "lines",
                  "shard " + std::to_string(k) + "/" + std::to_string(n_shards) + " of " + std::to_string(total) +
                      " documents must hold " + std::to_string(want) + ", found " + std::to_string(lines[k].size()));
    }
    // The shard's run identity file, shard suffix dropped, is the merged run's.
    const std::string run_file = paths[k] + ".run";
    std::string run = FileExists(run_file) ? ReadFileToString(run_file) : "";
    const std::string suffix = " shard=" + std::to_string(k) + "/" + std::to_string(n_shards);
    const size_t at = run.find(suffix + "\"");
    if (at == std::string::npos) throw Error(ErrorKind::kUsage, run_file, "run", "missing or not written by this shard");
    run.erase(at, suffix.size());
    if (k == 0) out.run = run;
    else if (run != out.run) throw Error(ErrorKind::kUsage, run_file, "run", "differs from shard 0's");
  }
  std::vector<tasks::DocResult> results;
  std::string details;
  std::set<std::string> seen;
  for (int64_t p = 0; p < total; ++p) {
    const size_t k = static_cast<size_t>(p % n_shards);
    const std::string& line = lines[k][static_cast<size_t>(p / n_shards)];
    const std::string where = paths[k] + ":" + std::to_string(p / n_shards + 1);
    tasks::DocResult r = tasks::ParseDetailLine(line, where);
    tasks::ComputeDocMetrics(spec, r);
    if (tasks::DetailLine(r) != line) {
      throw Error(ErrorKind::kFormat, where, "", "not a details line as doge writes it (edited?)");
    }
    if (!seen.insert(r.subtask + "#" + std::to_string(r.doc_index)).second) {
      throw Error(ErrorKind::kUsage, where, "doc_index",
                  r.subtask + " document " + std::to_string(r.doc_index) + " appears twice among the shards");
    }
    details += line + "\n";
    results.push_back(std::move(r));
  }
  // AggregateTask needs only the units' names and sizes (macro averages): consecutive documents
  // of one sub-task form a unit, in dataset order, as PrepareTask built them.
  tasks::PreparedTask shape;
  shape.spec = &spec;
  shape.k = static_cast<int>(int64_t(task_value["k"]));
  for (const tasks::DocResult& r : results) {
    if (shape.units.empty() || shape.units.back().name != r.subtask) shape.units.push_back(tasks::TaskUnit{r.subtask, {}, 0});
    shape.units.back().docs.emplace_back();
  }
  if (spec.aggregation != "macro") {
    shape.units = {tasks::TaskUnit{task, std::vector<tasks::EvalDoc>(results.size()), 0}};
  }
  tasks::TaskResult tr;
  tasks::AggregateTask(shape, results, tr);
  out.result = std::move(tr);
  out.details = std::move(details);
  return out;
}

// results.json of the merged run: the first shard's, with the merged tasks, the longest wall
// time, a fresh `created` and where the parts came from.
void WriteMergedResults(const std::string& out_dir, const Shard& ref, const std::vector<std::unique_ptr<Shard>>& shards,
                        const std::vector<const Shard*>& by_index, const std::map<std::string, tasks::TaskResult>& merged) {
  const int n_shards = static_cast<int>(by_index.size());
  JsonWriter w(true);
  w.BeginObject();
  for (auto [key, value] : ref.root.get_object()) {
    if (key == "shard") continue;
    if (key == "created") {
      w.Field(key, tasks::UtcTimestamp());
    } else if (key == "wall_time_s") {
      double m = 0;
      for (const auto& s : shards) m = std::max(m, Number(s->root["wall_time_s"].value()));
      w.Field(key, m);
    } else if (key == "tasks") {
      w.Key("tasks").BeginObject();
      for (auto [task_key, tv] : value.get_object()) {
        const std::string task(task_key);
        const tasks::TaskResult& tr = merged.at(task);
        w.Key(task).BeginObject();
        for (auto [f, v] : tv.get_object()) {
          if (f == "subtasks") continue;  // written after "aggregation"
          w.Key(f);
          if (f == "n") {
            w.Int(tr.n);
          } else if (f == "metrics" || f == "stderr") {
            WriteSummary(w, tr.metrics, f == "stderr");
          } else if (IsPerformanceField(f)) {
            std::vector<simdjson::dom::element> values;
            for (int k = 0; k < n_shards; ++k) values.push_back(by_index[k]->root["tasks"][task][f].value());
            WritePerformance(w, f, values);
          } else {
            CopyJson(w, v);
          }
          if (f == "aggregation" && !tr.subtasks.empty()) {
            w.Key("subtasks").BeginObject();
            for (const auto& [name, sub] : tr.subtasks) {
              w.Key(name).BeginObject();
              w.Field("n", sub.n);
              w.Key("metrics");
              WriteSummary(w, sub.metrics, false);
              w.Key("stderr");
              WriteSummary(w, sub.metrics, true);
              w.EndObject();
            }
            w.EndObject();
          }
        }
        w.EndObject();
      }
      w.EndObject();
    } else {
      w.Key(key);
      CopyJson(w, value);
    }
  }
  // Where the parts came from: the only part of a merged run's results that depends on the split.
  w.Key("merged_from").BeginArray();
  for (int k = 0; k < n_shards; ++k) {
    const Shard& s = *by_index[static_cast<size_t>(k)];
    w.BeginObject();
    w.Field("shard", std::to_string(k) + "/" + std::to_string(n_shards));
    w.Field("dir", s.dir);
    simdjson::dom::element host;
    w.Key("host");
    if (!s.root["fingerprint"]["hostname"].get(host)) CopyJson(w, host); else w.Null();
    w.Field("wall_time_s", Number(s.root["wall_time_s"].value()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  WriteFileAtomic(out_dir + "/results.json", w.str() + "\n");
}

}  // namespace

int RunEvalMerge(const Args& args) {
  po::options_description desc("doge eval merge");
  desc.add_options()("help,h", "")("out-dir", po::value<std::string>(), "")("overwrite", "")(
      "shards", po::value<std::vector<std::string>>(), "");
  po::positional_options_description pos;
  pos.add("shards", -1);
  po::variables_map vm;
  const Args argv = ApplyFlagAliases(args, 1, {{"--out", "--out-dir"}}, "doge eval merge");
  po::store(po::command_line_parser(std::vector<std::string>(argv.begin() + 1, argv.end())).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::fputs(kMergeHelp, stdout);
    return 0;
  }
  if (!vm.count("out-dir")) throw Error(ErrorKind::kUsage, "", "--out-dir", "required (see doge eval merge --help)");
  if (!vm.count("shards")) throw Error(ErrorKind::kUsage, "", "SHARD_DIR", "no shard folders given (see doge eval merge --help)");
  const std::string out_dir = vm["out-dir"].as<std::string>();
  const std::vector<std::string> dirs = vm["shards"].as<std::vector<std::string>>();
  for (const std::string& dir : dirs) {
    std::error_code ec;
    if (std::filesystem::equivalent(dir, out_dir, ec)) {
      throw Error(ErrorKind::kUsage, "", "--out-dir", "is shard folder " + dir + "; write the merged run to a folder of its own");
    }
  }

  // A merged run is a run: never mixed with another one in its folder (tasks/cli/run_folder.h).
  PrepareRunFolder(out_dir, false, vm.count("overwrite") > 0, "doge eval merge");

  std::vector<std::unique_ptr<Shard>> shards;
  for (const std::string& dir : dirs) shards.push_back(LoadShard(dir));
  CheckSameRun(shards);
  const Shard& ref = *shards[0];
  const std::vector<const Shard*> by_index = ShardsByIndex(shards);
  const int n_shards = static_cast<int>(by_index.size());

  const std::string protocol(ref.root["protocol"].get_string().value());
  std::map<std::string, tasks::TaskResult> merged;
  std::map<std::string, MergedTask> parts;
  for (auto [task_key, task_value] : ref.root["tasks"].get_object()) {
    const std::string task(task_key);
    MergedTask t = MergeTask(task, task_value, ref, by_index, protocol);
    merged[task] = t.result;
    parts[task] = std::move(t);
  }
  // Write: details first, results.json last (its presence marks a finished folder).
  MakeDirs(out_dir + "/details");
  for (const auto& [task, t] : parts) tasks::WriteFinishedDetails(out_dir, task, t.details, t.run);
  WriteMergedResults(out_dir, ref, shards, by_index, merged);
  int64_t docs = 0;
  for (const auto& [t, r] : merged) docs += r.n;
  std::fprintf(stderr, "doge eval merge: merged %d shards (%zu tasks, %lld documents)\n", n_shards, merged.size(),
               static_cast<long long>(docs));
  NoteWrote("doge eval merge", out_dir + "/results.json");
  NoteWrote("doge eval merge", out_dir + "/details/");
  return 0;
}

}  // namespace doge::cli
