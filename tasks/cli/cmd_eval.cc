// `doge eval` (score a checkpoint on the model-card tasks) and `doge tasks ls|render` (the task
// registry and its requests, without a model). `doge tasks render`'s JSONL (task, doc_index,
// query, choices, gold_index, fewshot_indices) is used by outside checks; keep it stable.
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/interrupt.h"
#include "engine/file_util.h"
#include "engine/fingerprint.h"
#include "engine/hub_cache.h"
#include "engine/json_writer.h"
#include "engine/scoring.h"
#include "engine/tokenizer/tokenizer.h"
#include "tasks/cli/commands.h"
#include "tasks/cli/flags.h"
#include "tasks/cli/run_folder.h"
#include "tasks/data/documents.h"
#include "tasks/distributed.h"
#include "tasks/evaluator.h"
#include "tasks/export_formats.h"
#include "tasks/requests.h"
#include "tasks/spec.h"
#include "tasks/task_names.h"

namespace doge::cli {

namespace po = boost::program_options;
using tasks::TaskSpec;

namespace {

constexpr const char* kEvalHelp =
    "usage: doge eval --model DIR|ORG/NAME[@REV] --tasks card|LIST|list [options]\n"
    "       mpirun -np N doge eval ... (same options)\n"
    "       doge eval merge SHARD_DIR... --out-dir DIR\n\n"
    "Scores a Doge checkpoint the way the model card's numbers were made (lighteval 0.7.0,\n"
    "five-shot; see tasks/specs/README.md). Prints acc and acc_norm side by side with k and the\n"
    "evaluated split, and with --out-dir writes DIR/results.json and DIR/details/<task>.jsonl.\n"
    "TriviaQA generates greedily as lighteval does: one max_new_tokens for all prompts from the\n"
    "longest one (min(2048 - (longest + 20), 20), at least 1), EOS among the stops, and the\n"
    "fields of DIR/generation_config.json that transformers' generate would apply (each key is\n"
    "named on stderr; one doge cannot honour, e.g. num_beams > 1, is an error).\n\n"
    "  --tasks card            the card's columns: mmlu triviaqa arc_easy arc_challenge piqa\n"
    "                          hellaswag openbookqa winogrande (ARC = mean of easy and challenge)\n"
    "  --tasks arc_easy,mmlu   a list; mmlu:anatomy is one MMLU subject; lighteval's strings\n"
    "                          (lighteval|arc:easy|5|0, k from the string) and lm-eval's names\n"
    "                          work too; --tasks list shows them all (no --model needed)\n"
    "  --model M               a checkpoint folder, or a hub id resolved in the Hugging Face cache\n"
    "                          (HF_HUB_CACHE, else HF_HOME/hub; doge model fetch ORG/NAME)\n"
    "  --protocol auto         card-a (Doge-20M/60M: built-in lighteval tasks) for models under\n"
    "                          100M parameters, card-b (Doge-160M/320M: custom ARC with balanced\n"
    "                          shots, cloze MMLU over `all`, micro average) otherwise\n"
    "  --data-dir D            canonical datasets (doge data fetch/import); default\n"
    "                          $XDG_CACHE_HOME/doge/datasets\n"
    "  --num-fewshot K         override the protocol's k (5) for every task\n"
    "  --limit N               first N documents (dataset order) of each task / MMLU subject; "
    "their\n"
    "                          shots are the ones a full run gives them\n"
    "  --out-dir DIR           results.json + details/; per-doc results are appended to\n"
    "                          details/<task>.jsonl.partial as they are scored\n"
    "  --output-format F       doge (default: results.json + details/), lighteval, lm-eval; several\n"
    "                          with commas. lighteval: DIR/results/<model>/results_<time>.json and\n"
    "                          details/<model>/<time>/*.jsonl; lm-eval: DIR/<model>/results_<time>.json\n"
    "                          and samples_<task>_<time>.jsonl (needs --out-dir)\n"
    "  --resume                continue an interrupted run in --out-dir (same model, protocol, k, limit)\n"
    "  --overwrite             replace the run already in --out-dir (its results.json and details are\n"
    "                          removed first); without it or --resume such a folder is refused\n"
    "  -t, --threads N         engine threads (default: all cores; under mpirun: per rank)\n"
    "  --prefix-cache-mb MB    memory for the KV rows of shared prompt prefixes (the five shots\n"
    "                          every MMLU question of a subject repeats), reused across documents\n"
    "                          with bit-identical scores; 0 disables it; default: a quarter of RAM,\n"
    "                          at most 1024. The summary and results.json give each task's hit rate\n"
    "                          (prompt tokens reused / tokens scored)\n"
    "  --shard K/N             evaluate only shard K (0..N-1) of every task's documents (positions\n"
    "                          p with p % N == K) into --out-dir; `doge eval merge` joins the N shard\n"
    "                          folders into the results one run gives (Slurm job arrays: --shard\n"
    "                          $SLURM_ARRAY_TASK_ID/N with --array=0-(N-1))\n"
    "  --allow-count-mismatch  evaluate samples: warn instead of failing when a split's document\n"
    "                          count differs from datasets-manifest/ (a task with no data at all\n"
    "                          is still an error)\n"
    "  (--out DIR: the old spelling of --out-dir, accepted with a note until the next release)\n\n"
    "example:\n"
    "  doge eval --model tests/data/tiny-model --tasks card --data-dir "
    "tests/data/datasets-canonical \\\n"
    "            --out-dir /tmp/run --allow-count-mismatch\n"
    "  doge report card /tmp/run/results.json\n"
    "  doge eval --model SmallDoge/Doge-20M --tasks 'lighteval|arc:easy|5|0' --out-dir /tmp/run \\\n"
    "            --output-format doge,lm-eval     (the model from the Hugging Face cache: doge model fetch)\n\n"
    "Under mpirun (or srun with PMI), rank 0 reads the tasks, hands batches of documents to the\n"
    "ranks as they ask for them (scoring batches itself too) and writes the one results.json and\n"
    "details/, appending finished documents as they arrive (--resume works with any N). Every rank\n"
    "needs the model and the data at the same paths; their SHA-256 must match rank 0's.\n"
    "  mpirun -np 4 --hostfile hosts doge eval --model M --tasks card --threads 8 --out-dir /shared/run\n";

constexpr const char* kTasksHelp =
    "usage: doge tasks ls\n"
    "       doge tasks render --task T --protocol P --data-dir D [--num-fewshot K] [--limit N]\n"
    "                         -o FILE.jsonl\n\n"
    "render writes the requests without a model, one line per evaluated doc in dataset order:\n"
    "  {\"task\", \"doc_index\", \"query\", \"choices\", \"gold_index\", \"fewshot_indices\"}\n"
    "task is the sub-task (mmlu:anatomy, arc_easy); doc_index the row in the evaluation split of\n"
    "that sub-task; query the full context (instruction, shots, separators); choices the\n"
    "continuations (leading spaces included; [\"A\",\"B\",\"C\",\"D\"] for card-a MMLU; TriviaQA: its\n"
    "gold list); fewshot_indices the rows of the few-shot split in prompt order (card-b MMLU: rows\n"
    "of the `all` test split, the present subjects concatenated alphabetically).\n"
    "--task mmlu renders every subject present in D (absent ones are noted on stderr);\n"
    "--task mmlu:anatomy one subject. Counts are not checked (samples render as they are).\n"
    "(--out FILE: the old spelling of -o/--output, accepted with a note until the next release)\n\n"
    "example: doge tasks render --task arc_easy --protocol card-a --data-dir tests/data/datasets-canonical \\\n"
    "                           -o /tmp/arc_easy.jsonl\n";

po::variables_map Parse(const std::vector<std::string>& rest, const po::options_description& desc) {
  po::variables_map vm;
  po::store(po::command_line_parser(rest).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

std::pair<std::string, std::string> SplitTaskName(const std::string& name) {
  const size_t colon = name.find(':');
  if (colon == std::string::npos) return {name, ""};
  return {name.substr(0, colon), name.substr(colon + 1)};
}

std::string NowUtc() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Pads to `width` terminal columns (printf's %-Ns counts bytes, and "±" is two).
std::string Pad(const std::string& s, size_t width) {
  size_t cols = 0;
  for (unsigned char c : s) cols += (c & 0xC0) != 0x80;
  return cols >= width ? s : s + std::string(width - cols, ' ');
}

std::string Fmt(double v, const char* f = "%.4f") {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

int RunTasksLs() {
  std::printf("%-14s %-7s %-3s %-11s %-9s %-27s %-2s %-26s %-6s %s\n", "task", "protocol", "ver", "split",
              "fewshot", "sampler", "k", "metrics", "aggr", "reproduces");
  for (const std::string& p : tasks::ProtocolNames()) {
    for (const std::string& t : tasks::CardTaskNames()) {
      const TaskSpec& s = tasks::FindTaskSpec(t, p);
      std::string metrics;
      for (const std::string& m : s.metrics) metrics += (metrics.empty() ? "" : ",") + m;
      std::printf("%-14s %-8s %-3d %-11s %-9s %-27s %-2d %-26s %-6s %s\n", s.task.c_str(), s.protocol.c_str(),
                  s.version, s.evaluation_split.c_str(), s.few_shots_split.c_str(), s.few_shots_select.c_str(),
                  s.num_fewshot, metrics.c_str(), s.aggregation.c_str(), s.lighteval.c_str());
    }
  }
  std::printf("\nsuite card = mmlu triviaqa arc_easy arc_challenge piqa hellaswag openbookqa winogrande\n");
  return 0;
}

int RunTasksRender(const std::vector<std::string>& rest) {
  po::options_description desc("doge tasks render");
  desc.add_options()("help,h", "")("task", po::value<std::string>(), "")("protocol", po::value<std::string>(), "")(
      "data-dir", po::value<std::string>(), "")("num-fewshot", po::value<int>()->default_value(-1), "")(
      "limit", po::value<int64_t>()->default_value(-1), "")("output,o", po::value<std::string>(), "");
  po::variables_map vm = Parse(ApplyFlagAliases(rest, 0, {{"--out", "--output"}}, "doge tasks render"), desc);
  if (vm.count("help")) {
    std::fputs(kTasksHelp, stdout);
    return 0;
  }
  for (const char* req : {"task", "protocol", "data-dir", "output"}) {
    if (!vm.count(req)) throw Error(ErrorKind::kUsage, "", std::string("--") + req, "required (see doge tasks --help)");
  }
  const auto [base, subject] = SplitTaskName(vm["task"].as<std::string>());
  const TaskSpec& spec = tasks::FindTaskSpec(base, vm["protocol"].as<std::string>());
  tasks::PrepareOptions opt;
  opt.data_dir = vm["data-dir"].as<std::string>();
  opt.subject = subject;
  opt.num_fewshot = vm["num-fewshot"].as<int>();
  opt.limit = vm["limit"].as<int64_t>();
  const tasks::PreparedTask t = tasks::PrepareTask(spec, opt);
  if (!t.skipped_subjects.empty()) {
    std::fprintf(stderr, "doge tasks render: note: %zu mmlu subjects have no %s split in %s; skipped\n",
                 t.skipped_subjects.size(), spec.evaluation_split.c_str(), opt.data_dir.c_str());
  }
  std::string out;
  for (const tasks::TaskUnit& u : t.units) {
    for (const tasks::EvalDoc& d : u.docs) out += tasks::RenderLine(d) + "\n";
  }
  WriteFileAtomic(vm["output"].as<std::string>(), out);
  std::fprintf(stderr, "doge tasks render: %lld docs of %s (%s, %d-shot) -> %s\n",
               static_cast<long long>(t.n_docs()), vm["task"].as<std::string>().c_str(), spec.protocol.c_str(),
               t.k, vm["output"].as<std::string>().c_str());
  NoteWrote("doge tasks render", vm["output"].as<std::string>());
  return 0;
}

// All *.safetensors of a model folder, sorted, with their hashes.
std::vector<std::pair<std::string, std::string>> WeightHashes(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 12 && n.substr(n.size() - 12) == ".safetensors") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& n : names) out.emplace_back(n, Sha256File(dir + "/" + n));
  return out;
}

bool TaskDataPresent(const TaskSpec& spec, const std::string& dir, int k) {
  if (spec.dataset == "mmlu") {
    for (const std::string& s : data::MmluSubjects()) {
      if (FileExists(data::SplitPath(dir, "mmlu", spec.evaluation_split, s))) return true;
    }
    return false;
  }
  if (!FileExists(data::SplitPath(dir, spec.dataset, spec.evaluation_split))) return false;
  return k == 0 || FileExists(data::SplitPath(dir, spec.dataset, spec.few_shots_split));
}

void WriteSummaryJson(JsonWriter& w, const std::map<std::string, tasks::MetricSummary>& m) {
  w.Key("metrics").BeginObject();
  for (const auto& [k, v] : m) w.Field(k, v.value);
  w.EndObject();
  w.Key("stderr").BeginObject();
  for (const auto& [k, v] : m) w.Field(k, v.stderr);
  w.EndObject();
}

}  // namespace

int RunTasks(const Args& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    std::fputs(kTasksHelp, args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 2, args.end());
  if (args[1] == "ls") return RunTasksLs();
  if (args[1] == "render") return RunTasksRender(rest);
  throw Error(ErrorKind::kUsage, "", "tasks", UnknownNameMessage("tasks command", args[1], {"ls", "render"}));
}

namespace {

int RunEvalIn(const Args& args, tasks::MpiSession* mpi) {
  po::options_description desc("doge eval");
  desc.add_options()("help,h", "")("model", po::value<std::string>(), "")("tasks", po::value<std::string>(), "")(
      "protocol", po::value<std::string>()->default_value("auto"), "")("data-dir", po::value<std::string>(), "")(
      "num-fewshot", po::value<int>()->default_value(-1), "")("limit", po::value<int64_t>()->default_value(-1), "")(
      "out-dir", po::value<std::string>(), "")("resume", "")("threads,t", po::value<int>()->default_value(0), "")(
      "prefix-cache-mb", po::value<int64_t>(), "")(
      "allow-count-mismatch", "")("output-format", po::value<std::string>()->default_value("doge"), "")(
      "shard", po::value<std::string>(), "")("overwrite", "")
      // Hidden, for tests: documents per engine call, and a SIGKILL of this process after N docs
      // are flushed (the resume test kills a real run at a known point); under mpirun,
      // --debug-kill-rank R > 0 makes rank R kill itself after scoring N docs instead; a worker
      // rank given --debug-delay-ms-per-doc plays a slow host (the load-balancing test);
      // --debug-sigint-after-docs N sends this process a real SIGINT (Ctrl-C) after N docs.
      ("batch-docs", po::value<int>()->default_value(64), "")("debug-kill-after-docs", po::value<int64_t>(), "")(
          "debug-sigint-after-docs", po::value<int64_t>(), "")(
          "debug-kill-rank", po::value<int>()->default_value(0), "")("debug-delay-ms-per-doc", po::value<int>(), "");
  const Args argv = ApplyFlagAliases(args, 1, {{"--out", "--out-dir"}}, "doge eval");
  po::variables_map vm = Parse(std::vector<std::string>(argv.begin() + 1, argv.end()), desc);
  if (vm.count("help")) {
    std::fputs(kEvalHelp, stdout);
    return 0;
  }
  if (vm.count("tasks") && vm["tasks"].as<std::string>() == "list") {  // no model needed
    std::fputs(tasks::TaskNamesListing().c_str(), stdout);
    return 0;
  }
  for (const char* req : {"model", "tasks"}) {
    if (!vm.count(req)) throw Error(ErrorKind::kUsage, "", std::string("--") + req, "required (see doge eval --help)");
  }
  // A folder, or ORG/NAME[@REV] resolved in the Hugging Face cache (engine/hub_cache.h).
  const std::string model_dir = ResolveModelPath(vm["model"].as<std::string>());
  const std::string data_dir = vm.count("data-dir") ? vm["data-dir"].as<std::string>() : data::DefaultDataDir();
  const bool allow = vm.count("allow-count-mismatch") > 0;
  const int64_t limit = vm["limit"].as<int64_t>();
  const int num_fewshot = vm["num-fewshot"].as<int>();
  const std::string out_dir = vm.count("out-dir") ? vm["out-dir"].as<std::string>() : "";
  const bool resume = vm.count("resume") > 0;
  if (resume && out_dir.empty()) throw Error(ErrorKind::kUsage, "", "--resume", "needs --out-dir DIR");
  // Values outside their domain are usage errors, never a silent default (-1 used to mean "the
  // protocol's k" / "everything" for these two).
  if (!vm["num-fewshot"].defaulted() && (num_fewshot < 0 || num_fewshot > 1000)) {
    throw Error(ErrorKind::kUsage, "", "--num-fewshot",
                "expected a shot count in [0, 1000], got " + std::to_string(num_fewshot));
  }
  if (!vm["limit"].defaulted() && limit < 1) {
    throw Error(ErrorKind::kUsage, "", "--limit",
                "expected a document count >= 1 (leave it out for every document), got " + std::to_string(limit));
  }
  if (vm["threads"].as<int>() < 0) {
    throw Error(ErrorKind::kUsage, "", "--threads",
                "expected >= 0 (0 = all cores), got " + std::to_string(vm["threads"].as<int>()));
  }
  if (vm["batch-docs"].as<int>() < 1) throw Error(ErrorKind::kUsage, "", "--batch-docs", "expected >= 1");
  const bool overwrite = vm.count("overwrite") > 0;
  if (overwrite && resume) throw Error(ErrorKind::kUsage, "", "--overwrite", "give --resume or --overwrite, not both");
  if (overwrite && out_dir.empty()) throw Error(ErrorKind::kUsage, "", "--overwrite", "needs --out-dir DIR");
  const int threads = ResolveThreads(vm["threads"].as<int>());
  int64_t prefix_cache_bytes = DefaultPrefixCacheBytes();
  if (vm.count("prefix-cache-mb")) {
    const int64_t mb = vm["prefix-cache-mb"].as<int64_t>();
    if (mb < 0 || mb > (int64_t{1} << 40)) {
      throw Error(ErrorKind::kUsage, "", "--prefix-cache-mb",
                  "expected MiB in [0, 2^40] (0 disables), got " + std::to_string(mb));
    }
    prefix_cache_bytes = mb << 20;
  }
  // doge|lighteval|lm-eval (several allowed): converted from results.json (tasks/export_formats.h).
  const std::vector<std::string> formats = tasks::ParseOutputFormats(vm["output-format"].as<std::string>());
  if (out_dir.empty() && (formats.size() > 1 || formats[0] != "doge")) {
    throw Error(ErrorKind::kUsage, "", "--output-format", "needs --out-dir DIR (the files are written inside it)");
  }
  const bool sharded = vm.count("shard") > 0;
  const tasks::ShardSpec shard = sharded ? tasks::ParseShard(vm["shard"].as<std::string>()) : tasks::ShardSpec{};
  if (sharded && out_dir.empty()) throw Error(ErrorKind::kUsage, "", "--shard", "needs --out-dir DIR (one folder per shard)");
  // Under mpirun with more than one rank: rank 0 coordinates and writes, the others only score.
  const bool distributed = mpi && mpi->size() > 1;
  const bool lead = !mpi || mpi->rank() == 0;

  // Resolve the task list and specs before loading anything heavy, so typos fail fast.
  // Ours, lighteval's (suite|task|k|0: k per task) and lm-eval's spellings (tasks/task_names.h).
  std::vector<std::string> names;
  std::map<std::string, int> task_k;  // k from a lighteval string
  for (const tasks::TaskSelection& s : tasks::ResolveTaskNames(ParseStringList(vm["tasks"].as<std::string>()))) {
    names.push_back(s.task);
    if (s.num_fewshot >= 0) task_k[s.task] = s.num_fewshot;
    if (s.num_fewshot >= 0 && num_fewshot >= 0 && s.num_fewshot != num_fewshot) {
      throw Error(ErrorKind::kUsage, "", "--num-fewshot", "disagrees with the k of '" + s.given + "'");
    }
    if (!s.note.empty()) std::fprintf(stderr, "doge eval: note: %s\n", s.note.c_str());
  }
  if (names.empty()) throw Error(ErrorKind::kUsage, "", "--tasks", "no task given");
  std::string protocol = vm["protocol"].as<std::string>();
  if (protocol != "auto") tasks::FindTaskSpec("mmlu", protocol);  // validates the name
  int n_mmlu = 0;
  for (const std::string& n : names) {
    tasks::FindTaskSpec(SplitTaskName(n).first, protocol == "auto" ? "card-a" : protocol);
    n_mmlu += SplitTaskName(n).first == "mmlu";
  }
  // results.json and details/ are keyed by task name, so MMLU appears once: all subjects or one.
  if (n_mmlu > 1) throw Error(ErrorKind::kUsage, "", "--tasks", "give mmlu once: mmlu (all subjects) or mmlu:<subject>");
  // A requested task without data did not run: that is an error whatever the flags
  // (--allow-count-mismatch is for partial files, not missing datasets). Checked before the model
  // loads; "auto" resolves to card-a or card-b later, and both read the same splits.
  {
    std::string missing;
    for (const std::string& n : names) {
      const TaskSpec& spec = tasks::FindTaskSpec(SplitTaskName(n).first, protocol == "auto" ? "card-a" : protocol);
      const int task_fewshot = task_k.count(n) ? task_k.at(n) : num_fewshot;
      if (!TaskDataPresent(spec, data_dir, task_fewshot >= 0 ? task_fewshot : spec.num_fewshot)) {
        missing += (missing.empty() ? "" : ", ") + n + " (" + spec.dataset + ")";
      }
    }
    if (!missing.empty()) {
      throw Error(ErrorKind::kDataset, data_dir, "--tasks",
                  "no data for " + missing + "; get it with doge data fetch or doge data import " +
                      "(--allow-count-mismatch accepts partial files, not missing datasets)");
    }
  }

  // Never mix two runs in one folder (tasks/cli/run_folder.h); rank 0 owns the files. Only now,
  // after every check of the command line, does --overwrite remove anything.
  if (lead && !out_dir.empty()) PrepareRunFolder(out_dir, resume, overwrite, "doge eval");

  const auto t_start = std::chrono::steady_clock::now();
  // transformers' generate applies the checkpoint's generation_config.json for every field
  // lighteval does not pass; read it first so an unsupported field fails before the weights load.
  LoadedGenerationConfig gen_config = LoadGenerationConfig(model_dir);
  std::unique_ptr<DogeLanguageModel> lm = DogeLanguageModel::Load(model_dir, threads);
  lm->SetPrefixCacheBytes(prefix_cache_bytes);
  std::unique_ptr<Tokenizer> tok = LoadTokenizer(model_dir);
  if (gen_config.present) {
    gen_config.config.eos_token_id = tok->eos_id();  // lighteval passes the tokenizer's EOS
    lm->set_generation_config(gen_config.config);
    std::string applied;
    for (const std::string& a : gen_config.applied) applied += (applied.empty() ? "" : ", ") + a;
    std::fprintf(stderr, "doge eval: %s: applied to generation: %s\n", gen_config.path.c_str(),
                 applied.empty() ? "nothing (plain greedy)" : applied.c_str());
    for (const std::string& note : gen_config.notes) {
      std::fprintf(stderr, "doge eval: %s: %s\n", gen_config.path.c_str(), note.c_str());
    }
  }
  if (protocol == "auto") protocol = lm->n_params() < 100000000 ? "card-a" : "card-b";
  const auto weights = WeightHashes(model_dir);
  const std::string tok_sha = Sha256File(tok->path());
  const std::string model_name = ModelDisplayName(vm["model"].as<std::string>());
  if (lead) {
    std::fprintf(stderr, "doge eval: %s (%lld params, layout %s), protocol %s, %d threads%s, data %s\n",
                 model_name.c_str(), static_cast<long long>(lm->n_params()), lm->layout_name().c_str(),
                 protocol.c_str(), threads,
                 distributed ? (" per rank, " + std::to_string(mpi->size()) + " ranks").c_str() : "", data_dir.c_str());
  }

  std::string identity = protocol + " limit=" + std::to_string(limit) + " tok=" + tok_sha;
  for (const auto& [n, h] : weights) identity += " " + n + "=" + h;
  if (gen_config.present) identity += " generation_config=" + Sha256File(gen_config.path);
  // A shard resumes only into the same shard; `doge eval merge` drops this suffix again.
  if (sharded) identity += " shard=" + tasks::ShardName(shard);
  std::unique_ptr<tasks::MpiDispatcher> dispatcher;
  std::vector<tasks::RankInfo> ranks;
  if (distributed) {
    // Every rank must run the same command (tasks and settings: they decide which collective
    // steps follow) with the same build, model and tokenizer as rank 0.
    std::string task_list;
    for (const std::string& n : names) task_list += (task_list.empty() ? "" : ",") + n;
    std::vector<std::pair<std::string, std::string>> same = {
        {"doge git revision", DOGE_GIT_REVISION},
        {"--tasks", task_list},
        {"protocol, limit, shard", protocol + " limit=" + std::to_string(limit) + (sharded ? " shard=" + tasks::ShardName(shard) : "")},
        {"--num-fewshot", std::to_string(num_fewshot)},
        {"generation_config.json", gen_config.present ? Sha256File(gen_config.path) : "absent"},
        {"--allow-count-mismatch", allow ? "given" : "not given"},
        {std::filesystem::path(tok->path()).filename().string(), tok_sha}};
    for (const auto& [n, h] : weights) same.emplace_back(n, h);
    mpi->VerifySame(model_dir, same);
    ranks = mpi->GatherRankInfo(threads, GetMachineFingerprint().cpu_model);
    dispatcher = std::make_unique<tasks::MpiDispatcher>(*mpi);
    if (vm.count("debug-delay-ms-per-doc")) dispatcher->set_debug_delay_ms_per_doc(vm["debug-delay-ms-per-doc"].as<int>());
  }

  std::vector<tasks::TaskResult> results;
  // Per task, parallel to results: prompt tokens the prefix cache supplied / tokens scored.
  struct Reuse {
    int64_t reused = 0, scored = 0;
    double rate() const { return scored > 0 ? static_cast<double>(reused) / static_cast<double>(scored) : 0.0; }
  };
  std::vector<Reuse> reuse;
  std::vector<tasks::PreparedTask> prepared;
  prepared.reserve(names.size());
  tasks::EvalOptions opt;
  opt.out_dir = out_dir;
  opt.data_dir = data_dir;
  opt.resume = resume;
  opt.batch_docs = vm["batch-docs"].as<int>();
  opt.show_progress = isatty(fileno(stderr));
  opt.run_identity = identity;
  opt.dispatcher = dispatcher.get();
  if (!lead) opt.out_dir.clear();  // rank 0 keeps the files
  int64_t docs_before = 0;
  const int kill_rank = vm["debug-kill-rank"].as<int>();
  if (vm.count("debug-kill-after-docs") && kill_rank > 0) {
    if (dispatcher && mpi->rank() == kill_rank) dispatcher->set_debug_kill_after_docs(vm["debug-kill-after-docs"].as<int64_t>());
  } else if (vm.count("debug-sigint-after-docs") && lead) {
    // A Ctrl-C at a known point (the interrupt test): the real signal, through the real handler.
    const int64_t after = vm["debug-sigint-after-docs"].as<int64_t>();
    opt.after_batch = [after, &docs_before](int64_t done) {
      if (docs_before + done >= after) kill(getpid(), SIGINT);
    };
  } else if (vm.count("debug-kill-after-docs") && lead) {
    const int64_t kill_after = vm["debug-kill-after-docs"].as<int64_t>();
    opt.after_batch = [kill_after, &docs_before](int64_t done) {
      if (docs_before + done >= kill_after) kill(getpid(), SIGKILL);
    };
  }
  for (const std::string& n : names) {
    const auto [base, subject] = SplitTaskName(n);
    const TaskSpec& spec = tasks::FindTaskSpec(base, protocol);
    const int task_fewshot = task_k.count(n) ? task_k.at(n) : num_fewshot;
    tasks::PrepareOptions popt;
    popt.data_dir = data_dir;
    popt.subject = subject;
    popt.num_fewshot = task_fewshot;
    popt.limit = limit;
    prepared.push_back(tasks::PrepareTask(spec, popt));
    const tasks::PreparedTask& t = prepared.back();
    if (t.n_docs() == 0) {
      throw Error(ErrorKind::kDataset, data_dir, n,
                  "no documents to evaluate (the " + spec.evaluation_split + " split is empty)");
    }
    // Under mpirun the other ranks' files are compared with rank 0's by hash below, so the
    // counts (and their warnings, once rather than once per rank) are rank 0's to check.
    for (const tasks::SplitRead& r : t.splits_read) {
      if (lead) data::CheckSplitCount(data_dir, r.dataset, r.split, r.subject, r.n, allow);
    }
    if (lead && spec.dataset == "mmlu" && subject.empty() && !t.skipped_subjects.empty()) {
      int64_t total = 0;
      for (const tasks::SplitRead& r : t.splits_read) total += r.split == spec.evaluation_split ? r.n : 0;
      // All 57 subjects are part of the task: missing ones fail the count check of the whole split.
      data::CheckSplitCount(data_dir, "mmlu", spec.evaluation_split, "", total, allow);
      std::fprintf(stderr, "doge eval: warning: mmlu: %zu of 57 subjects absent from %s; averaging the rest\n",
                   t.skipped_subjects.size(), data_dir.c_str());
    }
    if (distributed) {
      // Same documents everywhere: the files each rank read must hash as rank 0's do.
      std::vector<std::pair<std::string, std::string>> same = {{n, "evaluated"}};
      for (const std::string& f : t.data_files) same.emplace_back(f, Sha256File(data_dir + "/" + f));
      mpi->VerifySame(data_dir, same);
    }
    const PrefixCacheStats before = lm->prefix_cache_stats();
    results.push_back(tasks::EvaluateTask(sharded ? tasks::ShardTask(t, shard) : t, *lm, *tok, opt));
    const PrefixCacheStats after = lm->prefix_cache_stats();
    reuse.push_back({after.tokens_reused - before.tokens_reused, after.tokens_scored - before.tokens_scored});
    docs_before += results.back().docs_scored;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  if (!lead) return 0;
  if (dispatcher) {
    for (tasks::RankInfo& r : ranks) r.docs_scored = dispatcher->docs_by_rank().at(static_cast<size_t>(r.rank));
  }

  // Summary: acc and acc_norm side by side, with k and the split (eval-protocol.md §6.1, §6.9).
  std::printf("\n%s, protocol %s (lighteval 0.7.0 %s)%s\n", model_name.c_str(), protocol.c_str(),
              protocol == "card-a" ? "protocol A" : "protocol B", limit >= 0 ? (", limit " + std::to_string(limit)).c_str() : "");
  std::printf("%-14s %-2s %-11s %6s  %-16s %-16s %-16s %-7s %8s %10s %7s\n", "task", "k", "split", "n", "acc", "acc_norm", "qem",
              "aggr", "docs/s", "tokens/s", "prefix");
  for (size_t ri = 0; ri < results.size(); ++ri) {
    const tasks::TaskResult& r = results[ri];
    auto cell = [&](const char* m) -> std::string {
      auto it = r.metrics.find(m);
      if (it == r.metrics.end()) return "-";
      return Fmt(it->second.value) + " ± " + Fmt(it->second.stderr);
    };
    std::printf("%-14s %-2d %-11s %6lld  %s %s %s %-7s %8.1f %10.0f %6.1f%%\n", r.spec->task.c_str(), r.k,
                r.spec->evaluation_split.c_str(), static_cast<long long>(r.n), Pad(cell("acc"), 16).c_str(),
                Pad(cell("acc_norm"), 16).c_str(), Pad(cell("qem"), 16).c_str(), r.spec->aggregation.c_str(),
                r.docs_per_s, r.scored_tokens_per_s, 100.0 * reuse[ri].rate());
  }
  std::printf("prefix: share of the scored prompt tokens reused from the prefix cache (--prefix-cache-mb %lld; "
              "scores are identical without it).\n",
              static_cast<long long>(prefix_cache_bytes >> 20));
  std::printf("acc_norm: ÷ characters of the choice, not counting its leading space (ARC, PIQA, OBQA, "
              "MMLU card-b); ÷ characters of the ending (HellaSwag).\n");

  if (!out_dir.empty()) {
    const MachineFingerprint& fp = GetMachineFingerprint();
    JsonWriter w(true);
    w.BeginObject();
    w.Field("schema", "doge.results/1");
    w.Key("fingerprint");
    WriteFingerprintJson(w, fp);
    w.Field("git_revision", fp.git_revision);
    w.Field("created", NowUtc());
    w.Key("model").BeginObject();
    w.Field("path", model_dir);
    w.Field("id", vm["model"].as<std::string>());  // as given: a folder or ORG/NAME[@REV]
    w.Field("name", model_name);
    w.Field("n_params", lm->n_params());
    w.Field("layout", lm->layout_name());
    w.Key("sha256").BeginObject();
    for (const auto& [n, h] : weights) w.Field(n, h);
    w.EndObject();
    w.EndObject();
    w.Key("tokenizer").BeginObject();
    w.Field("path", tok->path());
    w.Field("sha256", tok_sha);
    w.EndObject();
    w.Field("protocol", protocol);
    w.Field("threads", threads);
    w.Field("wall_time_s", wall);
    w.Key("limit");
    if (limit >= 0) w.Int(limit); else w.Null();
    if (sharded) {
      // This folder holds one slice of every task (n, metrics are the slice's); `doge eval merge`
      // checks and joins the slices.
      w.Key("shard").BeginObject();
      w.Field("index", shard.index);
      w.Field("count", shard.count);
      w.Field("run", identity);
      w.Key("n_total").BeginObject();
      for (const tasks::PreparedTask& t : prepared) w.Field(t.spec->task, t.n_docs());
      w.EndObject();
      w.EndObject();
    }
    if (distributed) {
      // Who scored what: the only part of an MPI run's results that depends on the ranks.
      w.Key("distributed").BeginObject();
      w.Field("ranks", mpi->size());
      w.Key("rank_info").BeginArray();
      for (const tasks::RankInfo& r : ranks) {
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
    w.Key("tasks").BeginObject();
    for (size_t ri = 0; ri < results.size(); ++ri) {
      const tasks::TaskResult& r = results[ri];
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
      WriteSummaryJson(w, r.metrics);
      w.Field("aggregation", s.aggregation);
      if (!r.subtasks.empty()) {
        w.Key("subtasks").BeginObject();
        for (const auto& [name, sub] : r.subtasks) {
          w.Key(name).BeginObject();
          w.Field("n", sub.n);
          WriteSummaryJson(w, sub.metrics);
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
      w.Field("tokens_reused", reuse[ri].reused);
      w.Field("tokens_scored", reuse[ri].scored);
      w.Field("hit_rate", reuse[ri].rate());
      w.EndObject();
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    WriteFileAtomic(out_dir + "/results.json", w.str() + "\n");
    NoteWrote("doge eval", out_dir + "/results.json");
    NoteWrote("doge eval", out_dir + "/details/");
    for (const std::string& f : formats) {
      for (const std::string& p : tasks::ExportResults(out_dir, f)) NoteWrote("doge eval", p + " (" + f + ")");
    }
  }
  return 0;
}

}  // namespace

int RunEval(const Args& args) {
  if (args.size() >= 2 && args[1] == "merge") return RunEvalMerge(Args(args.begin() + 1, args.end()));
  if (!tasks::LaunchedByMpiLauncher()) {
    // Ctrl-C stops at the next batch boundary with the finished documents saved (exit 130); under
    // mpirun the launcher owns the signals and ends every rank.
    InstallInterruptHandler();
    return RunEvalIn(args, nullptr);
  }
  // Under an MPI launcher: any rank's failure ends the whole job with that rank's message (a rank
  // left waiting for a dead peer would hang); main() never sees the error.
  tasks::MpiSession mpi;
  const std::string who = mpi.size() > 1 ? "rank " + std::to_string(mpi.rank()) + " on host " + mpi.host() + ": " : "";
  try {
    return RunEvalIn(args, &mpi);
  } catch (const Error& e) {
    mpi.Abort("doge: error: " + who + e.what(), ExitCodeFor(e.kind()));
  } catch (const boost::program_options::error& e) {
    mpi.Abort("doge eval: error: " + who + e.what() + " (see doge eval --help)", 2);
  } catch (const std::exception& e) {
    mpi.Abort("doge: internal error: " + who + e.what(), 1);
  }
}

}  // namespace doge::cli
